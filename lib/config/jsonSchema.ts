import { z } from 'zod';
import { schemas, type ConfigKind } from './schema.js';

/** JSON Schema of a config kind, for editors validating the YAML (`# yaml-language-server: $schema=...`). */
export function jsonSchema(kind: ConfigKind): object {
  return z.toJSONSchema(schemas[kind], { io: 'input', unrepresentable: 'any' });
}

export const schemaFile = (kind: ConfigKind) => `${kind}.schema.json`;
