import type { Command } from 'commander';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { connectClient, namespace } from '../lib/temporal/client.js';
import {
  codeBuildId,
  deploymentName,
  DeploymentError,
  describeDeployment,
  drainVersion,
  isBuildId,
  isDeploymentName,
  listDeployments,
  moveRun,
  openOnVersionQuery,
  ReplayMismatchError,
  setCurrentVersion,
  setRampingVersion,
  workerDeployment,
  POLLERS_WAIT_MS,
  type RoutingOptions,
  type MoveTarget,
} from '../lib/temporal/deployment.js';
import { workflowsPath as thisCheckoutWorkflows } from '../lib/home.js';
import { connect } from './connect.js';
import { parseIntFlag, printJson, say, UsageError } from './output.js';

interface DeploymentFlag {
  deployment?: string;
  json?: boolean;
}

interface RoutingFlags extends DeploymentFlag {
  force?: boolean;
  wait?: string;
}

function routingOptions(opts: RoutingFlags): RoutingOptions {
  return { force: opts.force, ...(opts.wait === undefined ? {} : { pollersWaitMs: parseIntFlag('wait', opts.wait, 0) * 1000 }) };
}

/** `mlgym worker --deployment <name> --build-id <id>`: the version the worker joins (through the environment, as --gpus does). */
export function workerVersionOptions(opts: { deployment?: string; buildId?: string }): void {
  if (opts.deployment !== undefined) process.env.MLGYM_DEPLOYMENT = opts.deployment;
  if (opts.buildId !== undefined) process.env.MLGYM_BUILD_ID = opts.buildId;
  try {
    workerDeployment();
  } catch (err) {
    if (err instanceof DeploymentError) throw new UsageError(err.message);
    throw err;
  }
}

/** One line for `mlgym worker`: the version it joined and whether new runs go to it. */
export async function workerVersionLine(address: string): Promise<string> {
  const deployment = workerDeployment();
  if (!deployment) return 'unversioned worker (MLGYM_VERSIONING=off): runs are not pinned to a build';
  const { deploymentName: name, buildId } = deployment.version;
  const client = await connectClient(address);
  try {
    const view = await describeDeployment(client, namespace(), name);
    const role =
      view?.current === buildId
        ? 'the current version: new runs start on it'
        : view?.ramping?.buildId === buildId
          ? `ramping: ${view.ramping.percent}% of new runs start on it`
          : `not current (current: ${view?.current ?? 'none'}): it serves the runs pinned to it; \`mlgym deployment set-current ${buildId}\` sends new runs to it`;
    return `version ${buildId} of deployment ${name}, ${role}`;
  } finally {
    await client.connection.close();
  }
}

function nameOf(opts: DeploymentFlag): string {
  const name = opts.deployment ?? deploymentName();
  if (!isDeploymentName(name)) throw new UsageError(`--deployment expects letters, digits, "_" or "-", got "${name}"`);
  return name;
}

function buildOf(build: string): string {
  if (!isBuildId(build)) throw new UsageError(`expected a build id (letters, digits, "_", "." or "-"), got "${build}"`);
  return build;
}

/** Run `fn` with a client, closed after; a deployment the server refuses is bad input, a run it does not know too. */
async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const { client } = await connect();
  try {
    return await fn(client);
  } catch (err) {
    if (err instanceof ReplayMismatchError) throw err;
    if (err instanceof DeploymentError) throw new UsageError(err.message);
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no run "${err.workflowId}" on this Temporal server`);
    // The server refusing a routing change (no pollers, missing task queues, …): its word is the message.
    if (typeof (err as { code?: unknown }).code === 'number' && (err as { details?: unknown }).details) throw new UsageError((err as { details: string }).details);
    throw err;
  } finally {
    await client.connection.close();
  }
}

/** `mlgym deployment list`: the deployment's builds, which is current or ramping, and the open runs on each. */
export async function deploymentList(opts: DeploymentFlag): Promise<void> {
  const name = nameOf(opts);
  const thisBuild = codeBuildId();
  const doc = await withClient(async (client) => {
    const view = await describeDeployment(client, namespace(), name);
    if (!view) return { deployment: name, exists: false, thisBuild, others: await listDeployments(client, namespace()) };
    const versions = await Promise.all(
      view.versions.map(async (v) => ({
        ...v,
        openRuns: (await client.workflow.count(openOnVersionQuery({ deploymentName: name, buildId: v.buildId }))).count,
        thisCheckout: v.buildId === thisBuild,
      })),
    );
    return { deployment: name, exists: true, thisBuild, current: view.current, ramping: view.ramping, propagating: view.propagating, versions };
  });
  if (opts.json) return printJson(doc);
  if (!doc.exists) {
    say(`no deployment "${name}" on the server: no versioned worker has joined it yet (this checkout is build ${thisBuild})`);
    if (doc.others?.length) say(`deployments: ${doc.others.join(', ')}`);
    return;
  }
  const propagating = doc.propagating ? ' (the last routing change is still reaching the task queues)' : '';
  say(`deployment ${name}: current ${doc.current ?? 'none'}${doc.ramping ? `, ramping ${doc.ramping.buildId ?? 'unversioned'} at ${doc.ramping.percent}%` : ''}${propagating}; this checkout is build ${thisBuild}`);
  for (const v of doc.versions ?? []) {
    say(`  ${v.buildId.padEnd(14)} ${v.status.padEnd(9)} ${String(v.openRuns).padStart(4)} open run(s)  created ${v.createdAt ?? '-'}${v.thisCheckout ? '  (this checkout)' : ''}`);
  }
}

/** `mlgym deployment set-current <build|unversioned>`: new runs start on it; runs pinned elsewhere stay. */
export async function deploymentSetCurrent(build: string, opts: RoutingFlags): Promise<void> {
  const name = nameOf(opts);
  const buildId = build === 'unversioned' ? null : buildOf(build);
  const routing = routingOptions(opts);
  const { previous } = await withClient((client) => setCurrentVersion(client, namespace(), name, buildId, routing));
  if (opts.json) return printJson({ deployment: name, current: buildId, previous });
  const stays = previous && previous !== buildId ? ` (was ${previous}; its pinned runs stay on it: \`mlgym deployment drain ${previous} --wait\`)` : '';
  say(`${buildId === null ? 'the unversioned workers are' : `build ${buildId} is`} the current version of ${name}${stays}`);
}

/** `mlgym deployment ramp <build|none> <percent>`: a share of new runs on a build beside the current one. */
export async function deploymentRamp(build: string, percentText: string, opts: RoutingFlags): Promise<void> {
  const name = nameOf(opts);
  const buildId = build === 'none' ? null : buildOf(build);
  const percent = Number(percentText);
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new UsageError(`the ramp is a percentage from 0 to 100, got "${percentText}"`);
  const routing = routingOptions(opts);
  await withClient((client) => setRampingVersion(client, namespace(), name, buildId, percent, routing));
  if (opts.json) return printJson({ deployment: name, ramping: buildId, percent: buildId === null ? 0 : percent });
  say(buildId === null ? `no build ramping in ${name}: new runs start on the current version` : `${percent}% of new runs in ${name} start on build ${buildId}`);
}

/** `mlgym deployment drain <build> [--wait]`: no new runs on it; its open runs listed, or waited for. */
export async function deploymentDrain(build: string, opts: DeploymentFlag & { wait?: boolean }): Promise<void> {
  const version = { deploymentName: nameOf(opts), buildId: buildOf(build) };
  const result = await withClient((client) =>
    drainVersion(client, namespace(), version, {
      wait: opts.wait,
      onWaiting: (open) => say(`waiting for ${open.length} open workflow(s) on ${version.buildId}: ${open.map((w) => w.workflowId).join(', ')}`),
    }),
  );
  const drained = result.open.length === 0;
  if (opts.json) return printJson({ deployment: version.deploymentName, buildId: version.buildId, drained, open: result.open, unramped: result.unramped });
  if (result.unramped) say(`stopped the ramp to ${version.buildId}`);
  if (drained) say(`build ${version.buildId} is drained: no open run is pinned to it; its workers can stop`);
  else say(`build ${version.buildId} still has ${result.open.length} open workflow(s): ${result.open.map((w) => w.workflowId).join(', ')}; wait with --wait, or move them (\`mlgym deployment move <runId> --to <build>\`)`);
}

/** The worker runtime the replay check needs, with its chatter (bundling, worker states) kept out of the CLI's output. */
async function quietRuntime(): Promise<void> {
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed already (a worker of this process, or a test's): keep it.
  }
}

interface MoveOptions extends RoutingFlags {
  to?: string;
  autoUpgrade?: boolean;
  workflows?: string;
  check?: boolean;
}

/**
 * `mlgym deployment move <runId> --to <build> | --auto-upgrade`: move a running run (or benchmark) to other
 * code. The run's history is replayed against the target's workflow code first (this checkout's when the
 * target is this build, else --workflows), unless --no-check.
 */
export async function deploymentMove(runId: string, opts: MoveOptions): Promise<void> {
  if ((opts.to === undefined) === !opts.autoUpgrade) throw new UsageError('give exactly one of --to <build> or --auto-upgrade');
  const name = nameOf(opts);
  const target: MoveTarget = opts.autoUpgrade ? 'auto-upgrade' : { deploymentName: name, buildId: buildOf(opts.to!) };
  const routing = routingOptions(opts);
  const result = await withClient(async (client) => {
    const targetBuild = target === 'auto-upgrade' ? (await describeDeployment(client, namespace(), name))?.current : target.buildId;
    const workflowsPath = opts.check === false ? undefined : (opts.workflows ?? (targetBuild === codeBuildId() ? thisCheckoutWorkflows : undefined));
    if (opts.check !== false && !workflowsPath) {
      throw new UsageError(
        `cannot check from here that build ${targetBuild ?? '(none current)'} replays ${runId}'s history: this checkout is build ${codeBuildId()}. ` +
          `Run the command from a checkout of that build, pass --workflows <its workflows/index.ts>, or --no-check`,
      );
    }
    if (workflowsPath) await quietRuntime();
    return moveRun(client, namespace(), runId, target, { workflowsPath, ...routing });
  });
  if (opts.json) return printJson(result);
  say(`run ${runId} moved from ${result.from.buildId ?? 'unversioned'} to ${result.to}${result.checked ? ' (its history replays on the target code)' : ' (not checked)'}`);
}

/** The `deployment` subcommands, added to `mlgym deployment`. */
export function addDeploymentCommands(deployment: Command): void {
  const flag = '--deployment <name>';
  const flagHelp = 'the Worker Deployment (default MLGYM_DEPLOYMENT, else the task queue name, mlgym)';
  const waitHelp = (whose: string) => `how long to wait for the build's workers to serve every task queue ${whose} serves (default ${POLLERS_WAIT_MS / 1000})`;
  deployment
    .command('list')
    .description("the deployment's builds: current, ramping, draining, and the open runs on each")
    .option(flag, flagHelp)
    .option('--json', 'print JSON on stdout')
    .action((o) => deploymentList(o));
  deployment
    .command('set-current <build>')
    .description('start new runs on this build ("unversioned": on workers with MLGYM_VERSIONING=off); runs pinned to others stay where they are')
    .option(flag, flagHelp)
    .option('--force', 'even if none of its workers polls yet, or it lacks a task queue the current one serves')
    .option('--wait <seconds>', waitHelp('the current build'))
    .option('--json', 'print JSON on stdout')
    .action((build, o) => deploymentSetCurrent(build, o));
  deployment
    .command('ramp <build> <percent>')
    .description('start this percentage of new runs on a build beside the current one (build "none": stop ramping)')
    .option(flag, flagHelp)
    .option('--force', 'even if none of its workers polls yet, or it lacks a task queue the current one serves')
    .option('--wait <seconds>', waitHelp('the current build'))
    .option('--json', 'print JSON on stdout')
    .action((build, percent, o) => deploymentRamp(build, percent, o));
  deployment
    .command('drain <build>')
    .description('no new runs on a build; list its open runs, or --wait until none is left (then its workers can stop)')
    .option(flag, flagHelp)
    .option('--wait', 'wait until no open run is pinned to it')
    .option('--json', 'print JSON on stdout')
    .action((build, o) => deploymentDrain(build, o));
  deployment
    .command('move <runId>')
    .description('move a running run to other code (docs/versioning.md: only replay-safe, patched changes)')
    .option('--to <build>', 'pin it to this build')
    .option('--auto-upgrade', 'let it follow the current version')
    .option('--workflows <path>', "the target build's workflows/index.ts, to replay the run's history against before moving")
    .option('--no-check', 'move without the replay check')
    .option('--force', "even if the build lacks a task queue the run's build serves")
    .option('--wait <seconds>', waitHelp("the run's build"))
    .option(flag, flagHelp)
    .option('--json', 'print JSON on stdout')
    .action((runId, o) => deploymentMove(runId, o));
}
