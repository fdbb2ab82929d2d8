import { runCli } from '../../cli/program.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs an `mlgym` command line in this process, as `spawnSync('mlgym', args)` would, but without a new
 * Node process: stdout and stderr are captured, `env` is set for the call and restored after it.
 */
export async function mlgym(env: Record<string, string | undefined>, ...args: string[]): Promise<CliResult> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  const capture = (into: string[]) => ((chunk: string | Uint8Array) => (into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')), true)) as typeof process.stdout.write;
  setEnv(env);
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const status = await runCli(args);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    setEnv(saved);
  }
}

function setEnv(values: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}
