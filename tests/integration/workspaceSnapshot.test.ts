import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { recordName } from '../../lib/run/records.js';
import type { ProvisionResult, ToolResult } from '../../lib/run/types.js';
import { findAgentContainer, removeRunResources } from '../../lib/sandbox/container.js';
import { docker, labels } from '../../lib/sandbox/docker.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { devicesOf, diskImagePath } from '../../lib/sandbox/quota.js';
import { runInSession } from '../../lib/sandbox/session.js';
import { readManifest, snapshotFor, snapshotSteps, type SnapshotStats } from '../../lib/snapshots/manifest.js';
import { takeSnapshot } from '../../lib/sandbox/snapshot.js';
import { snapshotStore } from '../../lib/snapshots/store.js';

const store = new ArtifactStore();
const activities = createActivities({ store });
const runId = `test-ws-${randomBytes(4).toString('hex')}`;
const GiB = 2 ** 30;

/**
 * The workspace: 4.3 GiB in all, beyond Node's largest Buffer (4 GiB, where the whole-tar snapshot
 * failed). `big.bin` (3 GiB) repeats a 64 MiB random block (its chunks are stored once);
 * `random.bin` (1.3 GiB, not a whole number of chunks) is random throughout. Beside them: folders,
 * small files, an empty file and folder, a symlink, an executable, a file the agent made unreadable.
 */
const MAKE_WORKSPACE = `
import os, random
rng = random.Random(19)
block = rng.randbytes(64 << 20)
with open("big.bin", "wb") as f:
    for _ in range(48):
        f.write(block)
del block
with open("random.bin", "wb") as f:
    left = (1300 << 20) + 12345
    while left:
        n = min(left, 32 << 20)
        f.write(rng.randbytes(n))
        left -= n
os.makedirs("src/models", exist_ok=True)
os.makedirs("empty_dir", exist_ok=True)
for i in range(50):
    open(f"src/models/m{i}.py", "w").write(f"# model {i}\\n" * (i + 1))
open("empty", "w").close()
open("run.sh", "w").write("#!/bin/sh\\necho run\\n")
os.chmod("run.sh", 0o755)
open("secret", "w").write("mine\\n")
os.chmod("secret", 0)
os.symlink("src/models/m1.py", "link.py")
`;

/** Every entry's kind, mode, owner, size, path and link target, then every file's SHA-256 (unreadable ones made readable first). */
const DESCRIBE = 'cd ~/workspace && find . -printf "%y %m %u %g %s %p %l\\n" | sort && chmod -R u+r . && find . -type f -print0 | sort -z | xargs -0 sha256sum';

async function command(step: number, text: string): Promise<string> {
  const result = (await new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }).run(activities.toolExec, { runId, taskId: 'sandboxProbe', model: 'test', step, command: text })) as ToolResult;
  expect(result.exitCode).toBe(0);
  return (await store.readJson<{ observation: string }>(runId, recordName.observation(step)))!.observation;
}

async function snapshot(step: number): Promise<SnapshotStats & { bytes: number }> {
  const stats = await new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }).run(activities.snapshot, { runId, step });
  return stats as SnapshotStats & { bytes: number };
}

describe('a workspace larger than 4 GB', () => {
  let containerId: string;
  beforeAll(async () => {
    ({ containerId } = (await new MockActivityEnvironment().run(activities.provision, { runId, taskId: 'sandboxProbe', model: 'test' })) as ProvisionResult);
  });
  afterAll(async () => removeRunResources(runId));

  it('is snapshotted incrementally, survives losing its container, volume and disk, and comes back exactly', async () => {
    const made = await runInSession(containerId, 'make', `python3 -c '${MAKE_WORKSPACE.replace(/'/g, `'\\''`)}'`, { timeoutS: 1200, waitS: 1200 });
    expect(made.exit_code, made.output).toBe(0);

    // The first snapshot reads everything but stores the repeated block once.
    const first = await snapshot(10);
    expect(first.fileBytes).toBeGreaterThan(4.2 * GiB);
    expect(first.readBytes).toBe(first.fileBytes);
    expect(first.newBytes).toBeGreaterThan(1.3 * GiB);
    expect(first.newBytes).toBeLessThan(1.4 * GiB);

    // 10 MB change: a log grows, a file is added, one is edited, one removed.
    await command(0, 'head -c 10000000 /dev/urandom > log.bin && echo new > src/new.py && echo "# edited" >> src/models/m3.py && rm src/models/m4.py');
    const second = await snapshot(20);
    expect(second.newBytes).toBeLessThan(20_000_000);
    expect(second.bytes).toBe(second.newBytes + second.manifestBytes);
    expect(second.files).toBe(first.files + 1);
    // Nothing changed: nothing is written but the manifest.
    const third = await snapshot(30);
    expect(third.newBytes).toBe(0);
    expect(await snapshotSteps(snapshotStore(store), runId)).toEqual([10, 20, 30]);
    expect(await snapshotFor(runId, 25, snapshotStore(store))).toEqual({ snapshot: 20, step: 25, exact: false, replay: [20, 21, 22, 23, 24] });

    const before = (await execIn(containerId, ['bash', '-c', DESCRIBE])).stdout;
    expect(before).toContain('f 0 agent agent 5 ./secret');
    expect(before).toContain('l 777 agent agent 16 ./link.py src/models/m1.py');
    expect(before).toContain('f 444 root root');
    expect(before).toContain(' 3221225472 ./big.bin');

    // The host is gone: container, volume and quota disk.
    await removeRunResources(runId);
    expect(await findAgentContainer(runId)).toBeUndefined();
    expect(await devicesOf(diskImagePath(runId))).toEqual([]);

    // The next command re-provisions: a new disk, the task's data, the latest snapshot streamed back.
    const obs = await command(1, 'cat src/new.py && stat -c "%U %a" secret data/probe/train.csv');
    expect(obs.trim().split('\n')).toEqual(['new', 'agent 0', 'root 444']);
    const info = await findAgentContainer(runId);
    expect(info!.Id).not.toBe(containerId);
    const after = (await execIn(info!.Id, ['bash', '-c', DESCRIBE])).stdout;
    expect(after).toBe(before);
  }, 1_800_000);
});

describe('the snapshot reader container (for engines whose disks are not mounted on the worker host)', () => {
  const small = `test-ws-reader-${randomBytes(4).toString('hex')}`;
  afterAll(async () => removeRunResources(small));

  it('takes the same snapshot as the host reader, reading only what changed', async () => {
    const { containerId: c } = (await new MockActivityEnvironment().run(activities.provision, { runId: small, taskId: 'sandboxProbe', model: 'test' })) as ProvisionResult;
    await execIn(c, ['bash', '-c', 'cd ~/workspace && mkdir -p d/e && head -c 5000000 /dev/urandom > d/e/blob && echo x > "name with spaces" && ln -s d/e/blob ln && chmod 000 d/e/blob && sleep 1']);
    const objects = snapshotStore(store);
    const onHost = (await takeSnapshot(objects, small, 1))!;
    await execIn(c, ['bash', '-c', 'cd ~/workspace && echo y >> "name with spaces" && sleep 1']);
    process.env.MLGYM_SNAPSHOT_READER = 'container';
    try {
      const inReader = (await takeSnapshot(objects, small, 2))!;
      expect(inReader.readFiles).toBe(1);
      expect(inReader.newChunks).toBe(1);
    } finally {
      delete process.env.MLGYM_SNAPSHOT_READER;
    }
    expect(onHost.readBytes).toBeGreaterThan(5_000_000);
    const [a, b] = [await readManifest(objects, small, 1), await readManifest(objects, small, 2)];
    // The same entries (each reader lists in its own order), the same content but for the edited file.
    const strip = (m: typeof a) =>
      m!.entries
        .map((e) => ({ ...e, ...(e.type === 'file' ? { stat: '', racy: undefined, chunks: e.path.startsWith('name') ? [] : e.chunks, size: 0 } : {}), mtime: 0 }))
        .sort((x, y) => x.path.localeCompare(y.path));
    expect(strip(b)).toEqual(strip(a));
    expect(b!.taskData).toBe(true);
    expect(b!.entries.map((e) => e.path)).toContain('d/e/blob');
    // No reader is left behind: it holds the volume only while it reads.
    expect(await docker().listContainers({ all: true, filters: { label: [`${labels.run}=${small}`, `${labels.role}=snapshot`] } })).toHaveLength(0);

    // Restored as an archive through Docker (not written from the host): the same files come back.
    const before = (await execIn(c, ['bash', '-c', DESCRIBE])).stdout;
    await removeRunResources(small);
    process.env.MLGYM_SNAPSHOT_READER = 'container';
    try {
      await new MockActivityEnvironment().run(activities.provision, { runId: small, taskId: 'sandboxProbe', model: 'test' });
    } finally {
      delete process.env.MLGYM_SNAPSHOT_READER;
    }
    const after = (await execIn((await findAgentContainer(small))!.Id, ['bash', '-c', DESCRIBE])).stdout;
    expect(after).toBe(before);
    expect(after).toContain('f 0 agent agent 5000000 ./d/e/blob');
  });
});
