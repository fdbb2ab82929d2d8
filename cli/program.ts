import { Command, CommanderError } from 'commander';
import { ConfigError } from '../lib/config/load.js';
import { aupCommand } from './aup.js';
import { benchCommand } from './bench.js';
import { checkCommand } from './check.js';
import { buildCommand, fixturesCommand, prepareCommand } from './data.js';
import { gcCommand } from './gc.js';
import { forkCommand } from './fork.js';
import { rescoreCommand } from './rescore.js';
import { exportCommand, importCommand } from './interop.js';
import { budgetCommand, cancelCommand, hintCommand, pauseCommand, resumeCommand, statusCommand } from './control.js';
import { runsCommand } from './runs.js';
import { watchCommand } from './watch.js';
import { EXIT, exitCodeFor, printJson, say } from './output.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { addScheduleCommands } from './schedule.js';
import { addDeploymentCommands } from './deployment.js';
import { serverCommand, workerCommand } from './server.js';
import { showCommand } from './show.js';
import { tasksCommand } from './tasks.js';

/**
 * Runs one `mlgym` command line (the arguments after `mlgym`) and returns its exit code. Output goes to
 * process.stdout (JSON) and process.stderr (everything else), as the CLI contract says.
 */
export async function runCli(args: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const wantsJson = args.includes('--json');
  const program = new Command('mlgym')
    .description('Durable MLGym: AI-research agent runs as durable Temporal workflows')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stderr.write(s), writeErr: (s) => process.stderr.write(s) });

  program.command('tasks').description('list the tasks').option('--json', 'print JSON on stdout').action((o) => tasksCommand(o));
  program
    .command('build <task>')
    .description("build the task's environment image (cached by content hash) and print its tag")
    .option('--gpus <n>', "the image of a run with this many GPUs (default: the task's resources.gpus)")
    .option('--json', 'print JSON on stdout')
    .action(async (task, o) => {
      exitCode = await buildCommand(task, o);
    });
  program
    .command('fixtures')
    .description('generate the small fixture data sets (for --data fixture); set-up runs this')
    .option('--force', 'generate them again even if their generators did not change')
    .option('--json', 'print JSON on stdout')
    .action(async (o) => {
      exitCode = await fixturesCommand(o);
    });
  program
    .command('prepare <task>')
    .description("fetch the real data of the task's datasets from Hugging Face (needs network; see docs/tasks/)")
    .option('--from <path>', "import your copy of the task's original data instead (a task with import_original.py; see docs/tasks.md)")
    .option('--json', 'print JSON on stdout')
    .action(async (task, o) => {
      exitCode = await prepareCommand(task, o);
    });
  program.command('check <file>').description('validate a task, dataset or model-registry YAML').option('--json', 'print JSON on stdout').action((file, o) => checkCommand(file, o));
  program
    .command('aup <file>')
    .description('performance profiles, AUP and mean ranks from a scores JSON')
    .option('--tau-max <T>', 'end of the τ grid (log10 units); default from the worst ratios')
    .option('--plot <file>', 'write the profile plot (.svg or .png)')
    .option('--json', 'print JSON on stdout')
    .action((file, o) => aupCommand(file, o));
  program
    .command('run <task>')
    .description('run an agent on a task as a durable workflow and wait for the result')
    .requiredOption('--model <spec>', 'agent: baseline, external (a Gym client, docs/gym.md), replay:<file>, a models/registry.yaml id or openai:<model>')
    .option('--budget-usd <usd>', 'hard budget for model calls in dollars', '0')
    .option('--seed <n>', 'seed', '0')
    .option('--max-steps <n>', 'step limit', '50')
    .option('--continue-every <n>', 'continue-as-new after this many steps in one workflow execution', '100')
    .option('--keep', 'keep the container and workspace volume after the run')
    .option('--data <variant>', 'real, or fixture: the small generated data sets (no GPU unless --gpus)', 'real')
    .option('--gpus <n>', "GPUs for the run (default: the task's resources.gpus; 0 with --data fixture)")
    .option('--idle-pause <s>', 'with --model external: pause after this many seconds without a client action (default 600)')
    .option('--idle-end <s>', 'with --model external: end an idle-paused run with an autosubmit after this many more seconds (default 3600)')
    .option('--protocol <name>', "ours (default: validate shows the validation split) or mlgym (validate shows the test score, as in MLGym's paper)")
    .option('--host-timeout <s>', "seconds the run's container work waits for its host's worker before the run moves to another host (default 300)")
    .option('--no-worker', 'do not start an in-process worker (use `mlgym worker`)')
    .option('--detach', 'start it, print its id and return (`mlgym watch <id>` follows it); a worker must serve the queue')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (task, o) => {
      exitCode = await runCommand(task, o);
    });
  program
    .command('bench [suite]')
    .description('benchmark tasks × models × seeds (or a suite YAML) as child runs of a durable workflow')
    .option('--tasks <ids>', 'comma-separated task ids')
    .option('--models <specs>', 'comma-separated agent specs')
    .option('--seeds <n>', 'seeds per task and model (default 1)')
    .option('--concurrency <n>', 'runs at once (default 4)')
    .option('--max-steps <n>', 'step limit per run (default 50)')
    .option('--budget-usd <usd>', 'model budget per run')
    .option('--total-budget-usd <usd>', 'model budget of the whole benchmark, shared by its runs')
    .option('--data <variant>', 'real (default), or fixture: every task on its small generated data')
    .option('--protocol <name>', "ours (default) or mlgym: every run's validate shows the test score, as in MLGym's paper")
    .option('--host-timeout <s>', "seconds a run's container work waits for its host's worker before the run moves to another host (default 300)")
    .option('--bench-id <id>', 'benchmark id; an existing one reuses its finished runs')
    .option('--no-worker', 'do not start an in-process worker (use `mlgym worker`)')
    .option('--detach', 'start it, print its id and return (`mlgym watch <id>` follows it); a worker must serve the queue')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (suite, o) => {
      exitCode = await benchCommand(suite, o);
    });
  addScheduleCommands(program.command('schedule').description('benchmark suites on Temporal Schedules: create, list, delete, trigger'));
  program.command('show <runId>').description("show a run's result and trajectory").option('--json', 'print JSON on stdout').action((id, o) => showCommand(id, o));
  program
    .command('report [id]')
    .description('one self-contained HTML page on a run or a benchmark (profiles, AUP, scores, cost, exits, actions, trajectories)')
    .requiredOption('--out <file>', 'the HTML file to write')
    .option('--runs <ids>', 'comma-separated run ids to report on (with or without an id)')
    .option('--traj <files>', 'comma-separated MLGym .traj files to include')
    .option('--title <text>', 'page title')
    .option('--build <id>', 'only the runs that ran entirely on this build (scores and AUP of one version of the code)')
    .option('--protocol <name>', 'only the runs under this protocol: ours or mlgym (scores and AUP of one protocol)')
    .option('--json', 'print a summary as JSON on stdout')
    .action((id, o) => reportCommand(id, o));
  program.command('export <runId>').description("write a finished run as MLGym's <task>.traj, results.json and args.yaml").requiredOption('--out <dir>', 'output folder').option('--json', 'print JSON on stdout').action((id, o) => exportCommand(id, o));
  program.command('import <traj>').description('turn an MLGym .traj into a replay file for --model replay:<file>').option('--out <file>', 'replay YAML to write (default <task>.replay.yaml beside the .traj)').option('--json', 'print JSON on stdout').action((file, o) => importCommand(file, o));
  program
    .command('fork <runId>')
    .description('a new run that starts as <runId> after a step (same conversation and workspace, no model call) and goes on live (docs/fork.md)')
    .requiredOption('--at-step <n>', 'the last step the fork shares with its parent (0-based)')
    .option('--model <spec>', "the fork's agent from there on (default: the parent's)")
    .option('--hint <text>', "a hint given with the fork's first live turn")
    .option('--budget-usd <usd>', "the fork's model budget (default: the parent's)")
    .option('--max-steps <n>', "the fork's step limit, its parent's steps included (default: the parent's)")
    .option('--detach', 'start the fork and print its id without waiting')
    .option('--no-worker', 'do not start an in-process worker (use `mlgym worker`)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (id, o) => {
      exitCode = await forkCommand(id, o);
    });
  program
    .command('rescore <id>')
    .description("grade a finished run's (or a benchmark's runs') submitted workspace again with the task's current evaluation: no model call, no agent command (docs/fork.md)")
    .option('--all', 'every validated workspace too')
    .option('--protocol <name>', "grade validated workspaces under this protocol: ours (the split the task shows) or mlgym (the test score); default: each run's own")
    .option('--detach', 'start the rescore and print its workflow id without waiting')
    .option('--no-worker', 'do not start an in-process worker (use `mlgym worker`)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (id, o) => {
      exitCode = await rescoreCommand(id, o);
    });
  program.command('status <runId>').description("a run's live status").option('--json', 'print JSON on stdout').action((id, o) => statusCommand(id, o));
  program
    .command('watch <id>')
    .description('attach to a run or benchmark (started --detach or elsewhere) and follow it to its end; exits as run|bench would')
    .option('--interval <s>', 'seconds between updates', '2')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (id, o) => {
      exitCode = await watchCommand(id, o);
    });
  program
    .command('runs')
    .description("the latest runs from Temporal's visibility: task, model, status, step, best score, host")
    .option('--task <id>', 'only runs of this task')
    .option('--model <spec>', 'only runs of this model')
    .option('--status <s>', 'only runs in this status (running, paused, completed, failed, …)')
    .option('--bench <id>', "only this benchmark's runs")
    .option('--limit <n>', 'at most this many runs', '20')
    .option('--json', 'print JSON on stdout')
    .action((o) => runsCommand(o));
  program.command('pause <runId>').description('pause a run before its next step').option('--json', 'print JSON on stdout').action((id, o) => pauseCommand(id, o));
  program.command('resume <runId>').description('resume a paused run').option('--json', 'print JSON on stdout').action((id, o) => resumeCommand(id, o));
  program.command('hint <runId> <text>').description("add a hint to the agent's next observation").option('--json', 'print JSON on stdout').action((id, text, o) => hintCommand(id, text, o));
  program.command('budget <runId> <usd>').description("add dollars to a run's model budget").option('--json', 'print JSON on stdout').action((id, usd, o) => budgetCommand(id, usd, o));
  program
    .command('cancel <runId>')
    .description('end a run: autosubmit its workspace (default) or forfeit')
    .option('--forfeit', 'end without a score')
    .option('--json', 'print JSON on stdout')
    .action((id, o) => cancelCommand(id, o));
  program.command('gc').description('remove containers and volumes of finished or unknown runs').option('--dry-run', 'only list them').option('--match <text>', 'only runs whose id contains this').option('--json', 'print JSON on stdout').action((o) => gcCommand(o));
  program.command('server').description('run the embedded Temporal dev server in the foreground').action(async () => {
    exitCode = await serverCommand();
  });
  program
    .command('worker')
    .description('run a worker for the mlgym task queue (with --gpus, for the GPU queue)')
    .option('--gpus <ids>', "this host's GPUs for runs that need them, e.g. 0,1,2,3; the worker then polls the GPU queue")
    .option('--deployment <name>', 'join this Worker Deployment, becoming current only if none is (default: mlgym, the task queue name, where a new build becomes current)')
    .option('--build-id <id>', 'the build id of this code (default: a content hash of workflows/, activities/, lib/, docker/runtime/)')
    .option('--metrics <host:port>', 'serve Prometheus metrics of the worker at http://<host:port>/metrics (default: MLGYM_METRICS, else none)')
    .option('--otel-endpoint <url>', 'trace every workflow and activity to this OTLP/HTTP traces endpoint, e.g. http://localhost:4318/v1/traces (default: MLGYM_OTEL_ENDPOINT, else none)')
    .action(async (o) => {
      exitCode = await workerCommand(o);
    });
  addDeploymentCommands(program.command('deployment').description('Worker Deployment versions: list, set-current, ramp, drain, move a run (docs/versioning.md)'));

  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    } else {
      exitCode = exitCodeFor(err);
      const problems = err instanceof ConfigError ? err.problems : undefined;
      if (wantsJson) printJson({ error: (err as Error).message, ...(problems ? { file: (err as ConfigError).file, problems } : {}) });
      const cause = (err as Error).cause instanceof Error ? `: ${((err as Error).cause as Error).message}` : '';
      say(`error: ${(err as Error).message}${cause}`);
    }
  }
  return exitCode;
}
