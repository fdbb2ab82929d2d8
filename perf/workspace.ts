import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities/index.js';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { findAgentContainer, removeRunResources } from '../lib/sandbox/container.js';
import { execIn } from '../lib/sandbox/exec.js';
import { archiveWorkspace, takeSnapshot } from '../lib/sandbox/snapshot.js';
import { latestManifest } from '../lib/snapshots/manifest.js';
import { snapshotStore } from '../lib/snapshots/store.js';
import type { ProvisionResult } from '../lib/run/types.js';
import type { BenchEnv } from './env.js';
import { sampler, vmRssMb } from './proc.js';
import { TASK } from './runs.js';
import { round } from './stats.js';

/**
 * Workspace snapshots and restores, side by side with the whole-tar approach they replace, on a
 * workspace of random data: `bigFiles` files of 1 GiB and `smallFiles` of 1 MiB (5 GiB by default).
 * Every operation runs in this process, so its peak RSS is the worker's cost.
 */
export interface WorkspaceOp {
  approach: 'incremental' | 'whole tar';
  what: string;
  seconds: number;
  /** Bytes written to the artifact store (for a restore: read from it). */
  bytesWritten: number;
  bytesRead: number;
  /** Peak RSS of this process during the operation, above its RSS just before; and the peak itself. */
  rssGrowthMb: number;
  rssPeakMb: number;
  error?: string;
}

export interface WorkspaceResult {
  gib: number;
  bigFiles: number;
  smallFiles: number;
  changeMb: number;
  makeSeconds: number;
  ops: WorkspaceOp[];
  /** The restored workspace has the same files with the same SHA-256 sums. */
  restoredExactly: boolean;
}

export const WORKSPACE_TARGETS = { maxSnapshotRssGrowthMb: 200, maxChangedSnapshotMb: 50, maxChangedSnapshotS: 3, maxRestoreS: 60 };

const MB = 1e6;

async function measured(approach: WorkspaceOp['approach'], what: string, work: () => Promise<{ written?: number; read?: number }>): Promise<WorkspaceOp> {
  const base = vmRssMb(process.pid);
  const rss = sampler(() => vmRssMb(process.pid), 50);
  const start = performance.now();
  try {
    const { written = 0, read = 0 } = await work();
    const { peak } = rss.stop();
    return { approach, what, seconds: (performance.now() - start) / 1000, bytesWritten: written, bytesRead: read, rssGrowthMb: peak - base, rssPeakMb: peak };
  } catch (err) {
    const seconds = (performance.now() - start) / 1000;
    const { peak } = rss.stop();
    return { approach, what, seconds, bytesWritten: 0, bytesRead: 0, rssGrowthMb: peak - base, rssPeakMb: peak, error: (err as Error).message.split('\n')[0]!.slice(0, 200) };
  }
}

const sh = async (containerId: string, script: string) => {
  const out = await execIn(containerId, ['bash', '-c', script]);
  if (out.exitCode !== 0) throw new Error(`workspace bench: ${script.slice(0, 80)}… exited ${out.exitCode}: ${out.stderr.slice(-500)}`);
  return out.stdout;
};

const CHECKSUMS = 'cd ~/workspace && find . -type f ! -path "./data/*" -print0 | sort -z | xargs -0 sha256sum';

export async function measureWorkspace(env: BenchEnv, opts: { bigFiles: number; smallFiles: number; changeMb: number }): Promise<WorkspaceResult> {
  const store = new ArtifactStore();
  const objects = snapshotStore(store);
  const { provision } = createActivities({ store });
  const runId = env.runId('workspace');
  const input = { runId, taskId: TASK, model: 'bench' };
  const ops: WorkspaceOp[] = [];
  const say = (op: WorkspaceOp) => {
    ops.push(op);
    console.error(`[bench] workspace: ${op.approach} ${op.what}: ${round(op.seconds)} s, wrote ${round(op.bytesWritten / MB, 1)} MB, read ${round(op.bytesRead / MB, 1)} MB, RSS +${round(op.rssGrowthMb, 0)} MB (peak ${round(op.rssPeakMb, 0)} MB)${op.error ? `, failed: ${op.error}` : ''}`);
  };
  try {
    let { containerId } = (await new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }).run(provision, input)) as ProvisionResult;
    const makeStart = performance.now();
    await sh(containerId, `cd ~/workspace && mkdir -p small && python3 -c '
import random
rng = random.Random(5)
for i in range(${opts.bigFiles}):
    with open(f"big{i}.bin", "wb") as f:
        for _ in range(32):
            f.write(rng.randbytes(32 << 20))
for i in range(${opts.smallFiles}):
    with open(f"small/s{i}.bin", "wb") as f:
        f.write(rng.randbytes(1 << 20))
'`);
    const makeSeconds = (performance.now() - makeStart) / 1000;
    // Snapshots come after a step, not in the same instant as its last write.
    await new Promise((r) => setTimeout(r, 1000));

    const snapshot = (what: string, step: number) =>
      measured('incremental', what, async () => {
        const s = (await takeSnapshot(objects, runId, step))!;
        return { written: s.newBytes + s.manifestBytes, read: s.readBytes };
      });
    const wholeTar = (what: string) =>
      measured('whole tar', what, async () => {
        const archive = await archiveWorkspace(containerId);
        await store.write(runId, 'snapshots/workspace.tar', archive);
        return { written: archive.length, read: archive.length };
      });

    say(await snapshot('snapshot, first', 10));
    say(await wholeTar('snapshot'));

    const changed = opts.changeMb;
    await sh(containerId, `cd ~/workspace && python3 -c '
import random
rng = random.Random(6)
for i in range(${changed}):
    with open(f"small/s{i}.bin", "wb") as f:
        f.write(rng.randbytes(1 << 20))
'`);
    await new Promise((r) => setTimeout(r, 1000));
    say(await snapshot(`snapshot after ${changed} MB changed (${changed} small files rewritten)`, 20));
    say(await wholeTar(`snapshot after ${changed} MB changed`));

    await sh(containerId, `cd ~/workspace && head -c ${changed << 20} /dev/urandom | dd of=big0.bin bs=1M seek=500 conv=notrunc status=none`);
    await new Promise((r) => setTimeout(r, 1000));
    say(await snapshot(`snapshot after ${changed} MB overwritten inside a 1 GiB file`, 30));

    // Restore into a fresh container on a fresh disk, as after losing the host.
    const before = await sh(containerId, CHECKSUMS);
    await removeRunResources(runId);
    const restore = await measured('incremental', 'restore into a fresh container (provision: new disk, task data, snapshot)', async () => {
      ({ containerId } = (await new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }).run(provision, input)) as ProvisionResult);
      return { read: (await latestManifest(objects, runId))!.stats.fileBytes };
    });
    say(restore);
    const after = await sh((await findAgentContainer(runId))!.Id, CHECKSUMS);
    say({ approach: 'whole tar', what: 'restore', seconds: 0, bytesWritten: 0, bytesRead: 0, rssGrowthMb: 0, rssPeakMb: 0, error: 'no archive to restore: the whole-tar snapshot of this workspace failed' });
    return { gib: (opts.bigFiles * 1024 + opts.smallFiles) / 1024, bigFiles: opts.bigFiles, smallFiles: opts.smallFiles, changeMb: changed, makeSeconds, ops, restoredExactly: before === after && before.length > 0 };
  } finally {
    await removeRunResources(runId);
  }
}

const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const met = (pass: boolean) => (pass ? '**met**' : '**not met**');

export function workspaceSection(w: WorkspaceResult): string {
  const t = WORKSPACE_TARGETS;
  const rows = w.ops.map((o) => [o.approach, o.what, o.error ? `failed after ${round(o.seconds, 1)} s: ${o.error}` : round(o.seconds, 2), round(o.bytesWritten / MB, 1), round(o.bytesRead / MB, 1), round(o.rssGrowthMb, 0), round(o.rssPeakMb, 0)]);
  const first = w.ops.find((o) => o.approach === 'incremental' && o.what.startsWith('snapshot, first'));
  const second = w.ops.find((o) => o.approach === 'incremental' && o.what.includes('small files rewritten'));
  const restore = w.ops.find((o) => o.approach === 'incremental' && o.what.startsWith('restore'));
  return [
    `## 6. Workspace snapshots (${round(w.gib, 1)} GiB of random data: ${w.bigFiles} × 1 GiB + ${w.smallFiles} × 1 MiB; made in ${round(w.makeSeconds, 0)} s)`,
    table(['approach', 'operation', 'seconds', 'MB written', 'MB read (restore: from the store)', 'worker RSS growth (MB)', 'worker peak RSS (MB)'], rows),
    '',
    `Targets: first snapshot without worker RSS growing > ${t.maxSnapshotRssGrowthMb} MB: ${first ? `${round(first.rssGrowthMb, 0)} MB → ${met(!first.error && first.rssGrowthMb <= t.maxSnapshotRssGrowthMb)}` : 'not measured'}; ` +
      `second snapshot after ${w.changeMb} MB changed writes < ${t.maxChangedSnapshotMb} MB and takes < ${t.maxChangedSnapshotS} s: ${second ? `${round(second.bytesWritten / MB, 1)} MB, ${round(second.seconds, 2)} s → ${met(!second.error && second.bytesWritten < t.maxChangedSnapshotMb * MB && second.seconds < t.maxChangedSnapshotS)}` : 'not measured'}; ` +
      `restore into a fresh container < ${t.maxRestoreS} s: ${restore ? `${round(restore.seconds, 1)} s → ${met(!restore.error && restore.seconds < t.maxRestoreS)}` : 'not measured'}. ` +
      `Restored exactly (SHA-256 of every file): ${w.restoredExactly ? 'yes' : '**no**'}.`,
  ].join('\n');
}
