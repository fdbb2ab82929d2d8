// Saves a finished workflow's history for replay tests:
//   npx tsx scripts/record-history.ts <workflowId> <name>   → tests/histories/<name>.json
// Uses TEMPORAL_ADDRESS, else the embedded dev server.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureServer } from '../lib/temporal/server.js';
import { connectClient } from '../lib/temporal/client.js';
import { repoRoot } from '../lib/home.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

const [workflowId, name] = process.argv.slice(2);
if (!workflowId || !name) {
  console.error('usage: npx tsx scripts/record-history.ts <workflowId> <name>');
  process.exit(2);
}
const client = await connectClient((await ensureServer()).address);
const history = await client.workflow.getHandle(workflowId).fetchHistory();
const file = join(repoRoot, 'tests', 'histories', `${name}.json`);
writeFileSync(file, JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1));
console.error(`wrote ${file} (${history.events?.length} events)`);
await client.connection.close();
