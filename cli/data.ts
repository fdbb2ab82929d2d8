import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadTask, type LoadedTask } from '../lib/config/load.js';
import { datasetsDir, taskFile } from '../lib/home.js';
import { docker } from '../lib/sandbox/docker.js';
import { ensureTaskImage } from '../lib/sandbox/images.js';
import { generateFixtures } from '../lib/data/fixtures.js';
import { EXIT, parseIntFlag, printJson, say, UsageError } from './output.js';
import { listTaskIds } from './tasks.js';

function knownTask(taskId: string, options: { gpus?: number; allowMissingFiles?: boolean } = {}): LoadedTask {
  if (!existsSync(taskFile(taskId))) throw new UsageError(`unknown task "${taskId}"; known tasks: ${listTaskIds().join(', ')}`);
  return loadTask(taskFile(taskId), datasetsDir, options);
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
  const task = knownTask(taskId, { gpus: opts.gpus === undefined ? undefined : parseIntFlag('gpus', opts.gpus, 0) });
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
export async function prepareCommand(taskId: string, opts: { json?: boolean; from?: string }): Promise<number> {
  // An import writes the private files (answers) a task may still lack.
  const task = knownTask(taskId, { allowMissingFiles: opts.from !== undefined });
  if (opts.from !== undefined) return importOriginalCommand(task, opts.from, opts);
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

/** The script a task folder holds when it can import a user's copy of the original data (the hook of --from). */
const ORIGINAL_IMPORTER = 'import_original.py';

/**
 * `mlgym prepare <task> --from <path>`: the task's import_original.py, run in the task's image without network
 * as the calling user, as `python3 /task/import_original.py /original/<name> /task /data /private`: the user's
 * file or folder read-only, the task folder, and each dataset's local and private folders as /data/<dataset>
 * and /private/<dataset>. The importer validates the input; exit status 2 with an `error: ...` line on stderr
 * means bad input (the message names the file and what was expected) and makes this command exit 2.
 */
async function importOriginalCommand(task: LoadedTask, from: string, opts: { json?: boolean }): Promise<number> {
  const importer = join(task.dir, ORIGINAL_IMPORTER);
  if (!existsSync(importer)) {
    throw new UsageError(`task "${task.id}" has no importer of its original data (${ORIGINAL_IMPORTER} in ${task.dir}), so --from does not apply to it`);
  }
  const source = resolve(from);
  if (!existsSync(source)) throw new UsageError(`--from ${from}: no such file or folder`);
  const mount = `/original/${basename(source)}`;
  const binds = [`${source}:${mount}:ro`, `${task.dir}:/task`];
  for (const d of task.datasets) {
    for (const [folder, root] of [[d.dataDir, '/data'], [d.privateDir, '/private']] as const) {
      if (!folder) continue;
      mkdirSync(folder, { recursive: true });
      binds.push(`${folder}:${root}/${d.name}`);
    }
  }
  const image = await ensureTaskImage(task, say);
  say(`importing ${source} for ${task.id}`);
  const stderr: string[] = [];
  const exitCode = await runToCompletion(image, ['python3', `/task/${ORIGINAL_IMPORTER}`, mount, '/task', '/data', '/private'], binds, {
    network: 'none',
    user: `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
    env: [`MLGYM_IMPORT_SHOWN=${source}`],
    output: (text) => stderr.push(text),
  });
  if (exitCode === 2) {
    const errors = stderr.join('').split('\n').filter((line) => line.startsWith('error: '));
    throw new UsageError(errors.at(-1)?.slice('error: '.length) ?? `the importer refused ${source} (its output above says why)`);
  }
  if (exitCode !== 0) throw new Error(`importing ${source} for ${task.id} failed (exit ${exitCode}); the output above says why`);
  if (opts.json) printJson({ task: task.id, imported: source });
  else say(`imported ${source}: ${task.id} now runs on it`);
  return EXIT.ok;
}

interface ContainerOptions {
  network: 'bridge' | 'none';
  user: string;
  env: string[];
  /** Also called with the container's output (it goes to stderr either way). */
  output?: (text: string) => void;
}

/** Run a one-off container (by default as root with network access, for Hugging Face), streaming its output to stderr. */
async function runToCompletion(image: string, cmd: string[], binds: string[], options: ContainerOptions = { network: 'bridge', user: 'root', env: [] }): Promise<number> {
  const env = ['HF_TOKEN', 'HF_ENDPOINT', 'HTTPS_PROXY', 'HTTP_PROXY'].flatMap((k) => (process.env[k] && options.network !== 'none' ? [`${k}=${process.env[k]}`] : []));
  const container = await docker().createContainer({
    Image: image, Cmd: cmd, User: options.user, Env: [...env, ...options.env, 'HOME=/tmp'],
    HostConfig: { Binds: binds, NetworkMode: options.network },
  });
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      options.output?.(chunk.toString());
    });
    container.modem.demuxStream(stream, sink, sink);
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return StatusCode;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
