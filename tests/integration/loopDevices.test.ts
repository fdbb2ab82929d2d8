import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { reclaimOrphanDevices } from '../../lib/sandbox/quota.js';

const run = promisify(execFile);
const PROCESSES = 6;
const ROUNDS = 16;

afterAll(() => reclaimOrphanDevices());

/** One churning process (tests/helpers/loopChurn.ts) with an MLGYM_HOME of its own, as a second worker on the machine has. */
async function churn(tag: string): Promise<{ path: string; device: string; now: string[] }[]> {
  const env = { ...process.env, MLGYM_HOME: mkdtempSync(join(tmpdir(), 'mlgym-churn-')) };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../helpers/loopChurn.ts'), tag, String(ROUNDS)], { env });
  return JSON.parse(stdout);
}

it('keeps each workspace image on its own loop device while processes of different homes attach, orphan and reclaim devices at once', async () => {
  const reports = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => churn(`${process.pid}-${i}`)));
  const kept = reports.flat();
  expect(kept).toHaveLength((PROCESSES * ROUNDS) / 2);
  for (const { path, device, now } of kept) expect(now, `${path} was attached to ${device}`).toEqual([device]);
}, 300_000);
