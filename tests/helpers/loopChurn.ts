// One process of the loop-device race test (tests/integration/loopDevices.test.ts): makes workspace images
// and attaches them, deletes every other one while it is still attached (an orphan, as when MLGYM_HOME is
// removed under attached runs) and reclaims orphans as each fresh workspace does; then reports, for each
// image it kept, the device it was given and the devices the kernel now has it on.
import { rm } from 'node:fs/promises';
import { attachImage, createDiskImage, devicesOf, diskImagePath, reclaimOrphanDevices, releaseImage } from '../../lib/sandbox/quota.js';

const [tag, rounds] = process.argv.slice(2);
const kept: { path: string; device: string }[] = [];
for (let i = 0; i < Number(rounds); i++) {
  const path = diskImagePath(`test-churn-${tag}-${i}`);
  await createDiskImage(path, 16 * 2 ** 20);
  await reclaimOrphanDevices();
  const device = await attachImage(path);
  if (i % 2) kept.push({ path, device });
  else await rm(path);
}
const report = [];
for (const k of kept) report.push({ ...k, now: await devicesOf(k.path) });
for (const k of kept) await releaseImage(k.path);
process.stdout.write(JSON.stringify(report));
