import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { loadTask, type LoadedTask } from '../lib/config/load.js';
import { datasetsDir, taskFile } from '../lib/home.js';
import { docker } from '../lib/sandbox/docker.js';
import { ensureTaskImage } from '../lib/sandbox/images.js';
import { generateFixtures } from '../lib/data/fixtures.js';
import { EXIT, parseIntFlag, printJson, say, UsageError } from './output.js';
import { listTaskIds } from './tasks.js';

function knownTask(taskId: string, gpus?: number): LoadedTask {
  if (!existsSync(taskFile(taskId))) throw new UsageError(`unknown task "${taskId}"; known tasks: ${listTaskIds().join(', ')}`);
  return loadTask(taskFile(taskId), datasetsDir, { gpus });
}

/** `mlgym fixtures [--force]`: generate the datasets' fixtures (scripts/prepare-data.sh runs it at set-up). */
export async function fixturesCommand(opts: { force?: boolean; json?: boolean }): Promise<number> {
  const outcomes = await generateFixtures(datasetsDir, { force: opts.force, log: say });
  if (opts.json) printJson({ fixtures: outcomes });
  else say(`fixtures: ${outcomes.map((o) => `${o.dataset}${o.generated ? ' (generated)' : ''}`).join(', ') || 'none'}`);
  return EXIT.ok;
}

/** `mlgym build <task>`: build the task's environment image (or find it by its content hash) and print its tag. */
export async function buildCommand(taskId: string, opts: { gpus?: string; json?: boolean }): Promise<number> {
  const task = knownTask(taskId, opts.gpus === undefined ? undefined : parseIntFlag('gpus', opts.gpus, 0));
  const image = await ensureTaskImage(task, say);
  if (opts.json) printJson({ task: task.id, image });
  else process.stdout.write(`${image}\n`);
  return EXIT.ok;
}

/**
 * `mlgym prepare <task>`: fetch the real data of the task's datasets. Each dataset's `prepare` script
 * runs in the task's image with network access, as `python3 <script> /out /private`, writing the
 * dataset's local_path and private_path folders.
 */
export async function prepareCommand(taskId: string, opts: { json?: boolean }): Promise<number> {
  const task = knownTask(taskId);
  const preparable = task.datasets.filter((d) => d.prepare);
  if (!preparable.length) throw new UsageError(`task "${taskId}" has no dataset with a prepare script (its data comes with setup, or it needs none)`);
  const image = await ensureTaskImage(task, say);
  const prepared: { dataset: string; dataDir: string; privateDir: string | null }[] = [];
  for (const d of preparable) {
    const script = resolve(dirname(d.file), d.prepare!);
    if (!existsSync(script)) throw new UsageError(`${d.file}: prepare script ${script} does not exist`);
    if (!d.dataDir) throw new UsageError(`${d.file}: a dataset with a prepare script needs local_path, where the data goes`);
    const folders = [d.dataDir, d.privateDir].filter((f): f is string => f !== undefined);
    for (const f of folders) mkdirSync(f, { recursive: true });
    say(`preparing ${d.name} from ${d.data_path} into ${d.dataDir}`);
    const binds = [`${script}:/prepare/${basename(script)}:ro`, `${d.dataDir}:/out`, ...(d.privateDir ? [`${d.privateDir}:/private`] : [])];
    const exitCode = await runToCompletion(image, ['python3', `/prepare/${basename(script)}`, '/out', d.privateDir ? '/private' : '/tmp/private'], binds);
    if (exitCode !== 0) throw new Error(`preparing ${d.name} failed (exit ${exitCode}); the output above says why`);
    prepared.push({ dataset: d.name, dataDir: d.dataDir, privateDir: d.privateDir ?? null });
  }
  if (opts.json) printJson({ task: task.id, prepared });
  else say(`prepared: ${prepared.map((p) => p.dataset).join(', ')}`);
  return EXIT.ok;
}

/** Run a one-off container with network access (Hugging Face), streaming its output to stderr. */
async function runToCompletion(image: string, cmd: string[], binds: string[]): Promise<number> {
  const env = ['HF_TOKEN', 'HF_ENDPOINT', 'HTTPS_PROXY', 'HTTP_PROXY'].flatMap((k) => (process.env[k] ? [`${k}=${process.env[k]}`] : []));
  const container = await docker().createContainer({ Image: image, Cmd: cmd, User: 'root', Env: [...env, 'HOME=/tmp'], HostConfig: { Binds: binds, NetworkMode: 'bridge' } });
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    container.modem.demuxStream(stream, process.stderr, process.stderr);
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return StatusCode;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
