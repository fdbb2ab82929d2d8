import { Command, CommanderError } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ConfigError } from '../config/load.js';
import { checkCommand } from './check.js';
import { EXIT, exitCodeFor, printJson, say } from './output.js';
import { runCommand } from './run.js';
import { serverCommand, workerCommand } from './server.js';
import { showCommand } from './show.js';
import { tasksCommand } from './tasks.js';

// Worker chatter (bundling, state changes) stays out of the CLI's output; warnings still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

const program = new Command('mlgym')
  .description('Durable MLGym: AI-research agent runs as durable Temporal workflows')
  .exitOverride()
  .configureOutput({ writeOut: (s) => process.stderr.write(s), writeErr: (s) => process.stderr.write(s) });

let exitCode: number = EXIT.ok;
const wantsJson = process.argv.includes('--json');

program.command('tasks').description('list the tasks').option('--json', 'print JSON on stdout').action((o) => tasksCommand(o));
program.command('check <file>').description('validate a task, dataset or model-registry YAML').option('--json', 'print JSON on stdout').action((file, o) => checkCommand(file, o));
program
  .command('run <task>')
  .description('run an agent on a task as a durable workflow and wait for the result')
  .requiredOption('--model <spec>', 'agent: baseline')
  .option('--seed <n>', 'seed', '0')
  .option('--max-steps <n>', 'step limit', '50')
  .option('--keep', 'keep the container and workspace volume after the run')
  .option('--no-worker', 'do not start an in-process worker (use `mlgym worker`)')
  .option('--json', 'print the result as JSON on stdout')
  .action(async (task, o) => {
    exitCode = await runCommand(task, o);
  });
program.command('show <runId>').description("show a run's result and trajectory").option('--json', 'print JSON on stdout').action((id, o) => showCommand(id, o));
program.command('server').description('run the embedded Temporal dev server in the foreground').action(async () => {
  exitCode = await serverCommand();
});
program.command('worker').description('run a worker for the mlgym task queue').action(async () => {
  exitCode = await workerCommand();
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  } else {
    exitCode = exitCodeFor(err);
    const problems = err instanceof ConfigError ? err.problems : undefined;
    if (wantsJson) printJson({ error: (err as Error).message, ...(problems ? { file: (err as ConfigError).file, problems } : {}) });
    say(`error: ${(err as Error).message}`);
  }
}
process.exit(exitCode);
