// Plays a short external (Gym) episode with the TypeScript client on an in-process worker, then saves its
// histories for the replay test, like scripts/record-history.ts (run by scripts/record-histories.sh):
//   npx tsx scripts/record-gym-history.ts   → tests/histories/external-prisonersDilemma-<n>.json
// The episode covers the protocol's messages: observe (attach), steps, a step sent again (answered while
// fresh, and rebuilt from the records once older), validate, a hand-over at continue-as-new, submit.
// Uses TEMPORAL_ADDRESS, else the embedded dev server.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { MlgymEnv } from '../lib/gym/env.js';
import { repoRoot } from '../lib/home.js';
import { connectClient } from '../lib/temporal/client.js';
import { ensureServer } from '../lib/temporal/server.js';
import { gymStepUpdate } from '../workflows/messages.js';
import { createWorker } from '../worker.js';

const taskQueue = 'mlgym-record-gym';
const { address } = await ensureServer();
const client = await connectClient(address);
const connection = await NativeConnection.connect({ address });
const worker = await createWorker(connection, { taskQueue });

const runId = await worker.runUntil(async () => {
  const env = await MlgymEnv.connect({ client, taskQueue, onClose: 'detach' });
  await env.reset({ seed: 0, options: { task: 'prisonersDilemma', maxSteps: 8, continueEvery: 3 } });
  const look = 'cat strategy.py';
  // Step 0 sent again under another update id (a restarted client), so it reaches the workflow.
  const again = (updateId: string) => client.workflow.getHandle(env.runId!).executeUpdate(gymStepUpdate, { args: [{ step: 0, action: look }], updateId });
  await env.step(look);
  await again('again-fresh');
  await env.step(`printf 'def row_strategy(history):\\n    return 0\\n' > strategy.py`);
  await env.step('validate');
  await env.attach(env.runId!);
  await env.step('echo done');
  await again('again-rebuilt');
  const end = await env.step('submit');
  if (!end.terminated) throw new Error(`the episode did not end: ${end.observation}`);
  return env.runId!;
});
await connection.close();
await client.connection.close();
execFileSync('npx', ['tsx', join(repoRoot, 'scripts', 'record-history.ts'), runId, 'external-prisonersDilemma'], { stdio: 'inherit', env: { ...process.env, TEMPORAL_ADDRESS: address } });
