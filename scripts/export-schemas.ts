// Regenerates schemas/*.schema.json from the zod schemas: `npx tsx scripts/export-schemas.ts`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchema, schemaFile } from '../lib/config/jsonSchema.js';
import { schemas, type ConfigKind } from '../lib/config/schema.js';
import { repoRoot } from '../lib/home.js';

for (const kind of Object.keys(schemas) as ConfigKind[]) {
  writeFileSync(join(repoRoot, 'schemas', schemaFile(kind)), JSON.stringify(jsonSchema(kind), null, 2) + '\n');
}
