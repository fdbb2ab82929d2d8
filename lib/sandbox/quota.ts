import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { link, mkdir, open, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { mlgymHome } from '../home.js';
import { withMachineLock } from '../hostLock.js';
import { AGENT_UID, docker, isNotFound, labels } from './docker.js';

/**
 * Per-run disk quotas on a stock Docker engine: each run's workspace volume is an ext4 filesystem in
 * its own image file (sparse: it takes host disk only for what is written), attached to a loop device
 * and mounted by Docker's `local` volume driver (`type=ext4`, `device=/dev/loopN`). A write past its
 * size fails in the container with "No space left on device"; the host's other files are not touched.
 * Deleting files gives the space back to the host (`discard`: the loop device punches holes).
 *
 * Host requirement: the worker runs as root on the Docker host (losetup, mkfs.ext4 and debugfs from
 * util-linux and e2fsprogs; the image files under MLGYM_HOME/disks). MLGYM_DISK_QUOTA=off turns quotas
 * off (plain named volumes, no limit).
 */

/** resources.disk_gb when a task does not say. */
export const DEFAULT_DISK_GB = 20;
/** The volume label naming the run's image file, so clean-up finds it whatever MLGYM_HOME says. */
export const DISK_LABEL = 'mlgym.disk';
/** Mount options: no devices, no set-uid, give freed blocks back to the host, no background inode-table zeroing. */
const MOUNT_OPTIONS = 'nodev,nosuid,discard,noinit_itable';
const IMAGE_NAME = /^mlgym-ws-(.+)\.img$/;

export class DiskQuotaError extends Error {
  constructor(
    message: string,
    /** The host cannot do it at all (a tool missing, not root): retrying will not help. */
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DiskQuotaError';
  }
}

export function quotaEnabled(): boolean {
  return (process.env.MLGYM_DISK_QUOTA ?? 'on') !== 'off';
}

export function disksDir(): string {
  return join(mlgymHome(), 'disks');
}

export function diskImagePath(runId: string): string {
  return join(disksDir(), `mlgym-ws-${runId}.img`);
}

/**
 * The image size for a workspace quota: the agent's `diskGb` plus the task data copied into the
 * workspace, plus ext4's own overhead (journal, inode tables: about 3%).
 */
export function imageBytes(diskGb: number, dataBytes = 0): number {
  const wanted = diskGb * 2 ** 30 + dataBytes;
  return Math.ceil((wanted * 1.03 + 64 * 2 ** 20) / 2 ** 20) * 2 ** 20;
}

const run = promisify(execFile);

async function tool(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const why = e.code === 'ENOENT' ? `${cmd} is not installed` : (e.stderr?.trim() || e.message);
    const permanent = e.code === 'ENOENT' || /permission denied|operation not permitted|must be root/i.test(why);
    throw new DiskQuotaError(
      `${cmd} ${args.join(' ')} failed: ${why}. Disk quotas need root on the Docker host and util-linux/e2fsprogs ` +
        '(losetup, mkfs.ext4, debugfs); set MLGYM_DISK_QUOTA=off to run without them (docs/workspaces.md).',
      permanent,
      { cause: err },
    );
  }
}

/** How long a loop-device change waits for another process's (each takes well under a second). */
const LOOP_LOCK_WAIT_MS = 120_000;

/**
 * One loop-device change at a time on this machine: in this process, and across all its processes,
 * whatever their MLGYM_HOME (test files, several workers, a second "host" on the same kernel). A listing
 * and the attach or detach decided from it must not interleave with another's: a detach decided from a
 * stale list once freed a device that another process had just attached a new workspace to, and the
 * next attach put a second workspace on it.
 */
let losetupChain: Promise<unknown> = Promise.resolve();
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const locked = () => withMachineLock('loop-devices', LOOP_LOCK_WAIT_MS, work);
  const next = losetupChain.then(locked, locked);
  losetupChain = next.catch(() => undefined);
  return next;
}

/**
 * Create the image file (an empty ext4 filesystem whose root folder belongs to the agent, no
 * lost+found) unless it exists. Returns true when it made it. Atomic: made under a temporary name and
 * linked into place, so two attempts at once agree on one image.
 */
export async function createDiskImage(path: string, bytes: number): Promise<boolean> {
  if (existsSync(path)) return false;
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const file = await open(tmp, 'wx');
    await file.truncate(bytes);
    await file.close();
    await tool('mkfs.ext4', ['-q', '-F', '-m', '0', '-L', 'mlgym-ws', '-E', `root_owner=${AGENT_UID}:${AGENT_UID},lazy_itable_init=1,lazy_journal_init=1,nodiscard`, tmp]);
    await tool('debugfs', ['-w', '-R', 'rmdir lost+found', tmp]);
    try {
      await link(tmp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

interface LoopDevice {
  name: string;
  'back-file': string | null;
}

/** Every attached loop device and its backing file (" (deleted)" when the file is gone). */
export async function loopDevices(): Promise<LoopDevice[]> {
  const out = await tool('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE']);
  if (!out.trim()) return [];
  return (JSON.parse(out) as { loopdevices: LoopDevice[] }).loopdevices;
}

const backFile = (d: LoopDevice) => (d['back-file'] ?? '').replace(/ \(deleted\)$/, '');

/** The loop devices attached to an image file (this file: not one of the same name that was deleted). */
export async function devicesOf(path: string): Promise<string[]> {
  return (await loopDevices()).filter((d) => d['back-file'] === path).map((d) => d.name);
}

/** The image's loop device, attached now if it was not (direct I/O when the host filesystem allows it). */
export function attachImage(path: string): Promise<string> {
  return serialized(async () => {
    const [attached] = await devicesOf(path);
    if (attached) return attached;
    try {
      return (await tool('losetup', ['--find', '--show', '--direct-io=on', path])).trim();
    } catch {
      return (await tool('losetup', ['--find', '--show', path])).trim();
    }
  });
}

/** Detach the image's loop devices and delete the file. */
export async function releaseImage(path: string): Promise<void> {
  await releaseImages(() => [path]);
}

/** Detach the loop devices of the images `pathsOf` picks from the devices listed (under the lock), then delete those images. */
async function releaseImages(pathsOf: (attached: LoopDevice[]) => Iterable<string>): Promise<void> {
  const paths = await serialized(async () => {
    // Listing needs losetup (and root): without it there is nothing this process could have attached.
    const attached = await loopDevices().catch(() => []);
    const paths = [...pathsOf(attached)];
    for (const path of paths) {
      for (const d of attached.filter((a) => backFile(a) === path)) {
        await tool('losetup', ['--detach', d.name]).catch(async (err: unknown) => {
          // Already detached by someone else: fine.
          if ((await devicesOf(path)).includes(d.name)) throw err;
        });
      }
    }
    return paths;
  });
  for (const path of paths) await rm(path, { force: true });
}

interface VolumeInfo {
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

async function inspectVolume(name: string): Promise<VolumeInfo | undefined> {
  try {
    return (await docker().getVolume(name).inspect()) as VolumeInfo;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The image file of a run's volume: its label if it has one, else where this host keeps it. */
export async function imageOfRun(runId: string, volume: string): Promise<string> {
  return (await inspectVolume(volume))?.Labels?.[DISK_LABEL] ?? diskImagePath(runId);
}

/**
 * The run's workspace volume, on its quota disk: the image is made if there is none (then `fresh`:
 * the caller fills or restores the workspace), attached, and the volume made to point at its loop
 * device. A volume left pointing at another device (the host restarted, loop devices were renumbered)
 * is made again: the data is in the image, not the volume. No container may be using the volume.
 */
export async function ensureQuotaVolume(runId: string, volume: string, bytes: number): Promise<{ fresh: boolean; image: string; device: string }> {
  const image = await imageOfRun(runId, volume);
  const fresh = await createDiskImage(image, bytes);
  if (fresh) await reclaimOrphanDevices().catch(() => undefined);
  const device = await attachImage(image);
  const existing = await inspectVolume(volume);
  if (existing && (existing.Options?.device !== device || existing.Options?.type !== 'ext4')) {
    await docker().getVolume(volume).remove();
  }
  if (!existing || existing.Options?.device !== device || existing.Options?.type !== 'ext4') {
    await docker().createVolume({
      Name: volume,
      Driver: 'local',
      DriverOpts: { type: 'ext4', device, o: MOUNT_OPTIONS },
      Labels: { [labels.run]: runId, [DISK_LABEL]: image },
    });
  }
  return { fresh, image, device };
}

/**
 * Detach loop devices left attached to a workspace image that was deleted and that nothing mounts (a
 * run's volume removed without its disk, then MLGYM_HOME deleted): they hold the deleted file's blocks.
 * Returns the devices detached.
 */
export async function reclaimOrphanDevices(): Promise<string[]> {
  return serialized(async () => {
    const mounted = new Set(readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[0]));
    const orphans = (await loopDevices()).filter((d) => / \(deleted\)$/.test(d['back-file'] ?? '') && IMAGE_NAME.test(basename(backFile(d))) && !mounted.has(d.name));
    const detached: string[] = [];
    for (const d of orphans) if (await tool('losetup', ['--detach', d.name]).then(() => true, () => false)) detached.push(d.name);
    return detached;
  });
}

/** Run ids with a quota disk on this host: an image file under MLGYM_HOME/disks or an attached loop device. */
export async function runsWithDisks(): Promise<string[]> {
  const files = await readdir(disksDir()).catch(() => [] as string[]);
  const devices = quotaEnabled() ? await loopDevices().catch(() => []) : [];
  const names = [...files, ...devices.map((d) => basename(backFile(d)))];
  return [...new Set(names.flatMap((n) => IMAGE_NAME.exec(n)?.[1] ?? []))].sort();
}

/**
 * Release a run's quota disk: its loop devices and image file (the volume label's, and this host's
 * default place, and any loop device whose image carries the run's name even if the file is gone).
 */
export async function releaseRunDisk(runId: string, labelled?: string): Promise<void> {
  const named = (d: LoopDevice) => basename(backFile(d)) === `mlgym-ws-${runId}.img`;
  await releaseImages((attached) => new Set([diskImagePath(runId), ...(labelled ? [labelled] : []), ...attached.filter(named).map(backFile)]));
}
