// Saves a finished workflow's histories (every execution, oldest first) for replay tests:
//   npx tsx scripts/record-history.ts <workflowId> <name>   → tests/histories/<name>[-<n>].json
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
const executions = [];
for await (const e of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) executions.push(e);
executions.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
for (const [i, e] of executions.entries()) {
  const history = await client.workflow.getHandle(workflowId, e.runId).fetchHistory();
  const file = join(repoRoot, 'tests', 'histories', executions.length > 1 ? `${name}-${i + 1}.json` : `${name}.json`);
  writeFileSync(file, JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1));
  console.error(`wrote ${file} (${history.events?.length} events)`);
}
await client.connection.close();
