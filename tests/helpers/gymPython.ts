import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../lib/home.js';
import { findAgentContainer } from '../../lib/sandbox/container.js';
import { execIn } from '../../lib/sandbox/exec.js';

/** A Prisoner's Dilemma strategy (prisonersDilemma, quickDilemma): mirror the opponent, defect in the last round. */
export const STRATEGY = `cat > strategy.py <<'EOF'
def row_strategy(history):
    if len(history) == 9:
        return 1
    if not history:
        return 0
    return history[-1][1]
EOF
python3 -c "import strategy; print('ok', strategy.row_strategy([]))"`;

/** The venv scripts/setup.sh installs clients/python into (MLGYM_GYM_PYTHON names another interpreter). */
export const python = process.env.MLGYM_GYM_PYTHON ?? join(repoRoot, '.mlgym', 'gym-venv', 'bin', 'python');
export const clientDir = join(repoRoot, 'clients', 'python');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The Python client in a child process, against the suite's server and the given worker queue. */
export function runPython(args: string[], taskQueue: string): { child: ChildProcess; finished: Promise<Finished> } {
  const child = spawn(python, args, {
    cwd: clientDir,
    env: { ...process.env, MLGYM_TASK_QUEUE: taskQueue, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const finished = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, finished };
}

/** What clients/python/tests/play_actions.py runs: see its docstring. */
export interface PlayPlan {
  task: string;
  seed?: number;
  options?: Record<string, unknown>;
  actions: string[];
  run_id_file?: string;
  attach?: string;
}

/** One observation as play_actions.py prints it (the info dict in the Python client's snake_case). */
export interface PlayedLine {
  kind: 'reset' | 'step';
  observation: string;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: {
    run_id: string;
    step: number;
    action: string | null;
    validation: { kind: string; metrics: Record<string, number> | null; error: string | null } | null;
    final: { exit_status: string; score: number | null } | null;
    final_score: number | null;
  };
}

/** Play a plan with the Python client (gym.make of mlgym/<task>-v0) in a child process. */
export function playPython(plan: PlayPlan, taskQueue: string): { child: ChildProcess; played: Promise<{ lines: PlayedLine[]; out: Finished }> } {
  const file = join(mkdtempSync(join(tmpdir(), 'mlgym-play-')), 'plan.json');
  writeFileSync(file, JSON.stringify(plan));
  const { child, finished } = runPython(['tests/play_actions.py', file], taskQueue);
  const played = finished.then((out) => {
    if (out.code !== 0) throw new Error(`play_actions.py exited ${out.code ?? out.signal}: ${out.stderr}`);
    return { lines: out.stdout.trim().split('\n').map((line) => JSON.parse(line) as PlayedLine), out };
  });
  return { child, played };
}

/** The keys of the shell commands the run's container session started (~/.mlgym/starts.log), in order; the run must keep its container. */
export async function shellStarts(runId: string): Promise<string[]> {
  const container = await findAgentContainer(runId);
  if (!container) throw new Error(`run ${runId} has no container (start it with keep)`);
  return (await execIn(container.Id, ['cat', '/home/agent/.mlgym/starts.log'])).stdout.trim().split('\n');
}
