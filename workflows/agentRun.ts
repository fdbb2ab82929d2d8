import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { InheritedSteps } from '../lib/fork/history.js';
import { DEFAULT_PROTOCOL } from '../lib/run/protocol.js';
import { HOST_LOST, heartbeatTimeoutS, hostTimeoutS } from '../lib/run/timeouts.js';
import type { Attempt, ExitReason, ProvisionResult, RunInput, RunResult, RunState, RunStatus, TaskRef, TurnResult } from '../lib/run/types.js';
import { bestOf } from '../lib/scoring/direction.js';
import { MlgymBestScore, MlgymStatus } from '../lib/temporal/searchAttributes.js';
import { addBudgetUpdate, cancelUpdate, hintSignal, pauseSignal, resumeSignal, statusQuery } from './messages.js';
import { GymSession, isExternal } from './gym.js';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['ConfigError'] };

/**
 * Routing of container activities to the host holding the container (ProvisionResult.hostQueue). A patch, so
 * runs recorded before it replay without it (they route nothing); once taken, the queue is kept in the run's state.
 */
const HOST_QUEUES = 'host-task-queues';

/**
 * Moving a run off a lost host: its container activities wait at most `hostTimeoutS` for the host's worker
 * (schedule-to-start), then the run is rebuilt on another host (activities/migrate.ts). Runs provisioned before
 * this patch have no `state.hostTimeoutS` and wait for their host as before.
 */
const HOST_MIGRATION = 'host-migration';

/**
 * The run's activities. Every one heartbeats, so a dead worker's activity is retried elsewhere within
 * the heartbeat timeout; the start-to-close timeouts only bound a hung attempt. With `hostQueue`, the
 * container activities (tool exec, validate, submit, snapshot, teardown) go to that host's queue, and wait
 * there at most `hostWaitS` for a worker when given; the others (provision, agent turns, score) go to the
 * run's shared queue.
 */
function activitiesFor(input: RunInput, hostQueue?: string, hostWaitS?: number) {
  const heartbeatTimeout = `${heartbeatTimeoutS(input)}s`;
  const options = (startToCloseTimeout: string, maximumAttempts?: number) => ({ startToCloseTimeout, heartbeatTimeout, retry: { ...retry, maximumAttempts } });
  const onHost = <T extends object>(opts: T): T =>
    hostQueue ? { ...opts, taskQueue: hostQueue, ...(hostWaitS ? { scheduleToStartTimeout: `${hostWaitS}s` } : {}) } : opts;
  const { provision } = proxyActivities<Activities>(options('1h', 10));
  /**
   * Rebuilding the workspace re-runs recorded commands, which may train: as long as a command may run. Retried
   * until a host with a working engine takes it: the run has nowhere else to go.
   */
  const { migrate } = proxyActivities<Activities>(options('26h'));
  /** A fork's provisioning re-runs recorded commands (docs/fork.md), which may train: as long as a command may run. */
  const { forkProvision } = proxyActivities<Activities>(options('26h', 10));
  const { snapshot } = proxyActivities<Activities>(onHost(options('1h', 10)));
  const { agentTurn } = proxyActivities<Activities>(options('15m', 20));
  const { validate, submit } = proxyActivities<Activities>(onHost(options('2h', 10)));
  const { score } = proxyActivities<Activities>(options('5m', 10));
  const { teardown } = proxyActivities<Activities>(onHost(options('5m', 10)));
  /** Waits as long as the host's GPUs are taken by other runs. */
  const { reserveGpus } = proxyActivities<Activities>({ startToCloseTimeout: '1m', heartbeatTimeout, retry: { ...retry, maximumInterval: '30s', nonRetryableErrorTypes: ['GpuConfigError'] } });
  /** Commands run until their own timeout; the summary shows the command in the Web UI. */
  const toolExec = (command: string) => proxyActivities<Activities>(onHost({ ...options('26h'), summary: command.split('\n')[0]!.slice(0, 120) })).toolExec;
  return { reserveGpus, provision, forkProvision, migrate, snapshot, agentTurn, validate, submit, score, teardown, toolExec };
}

type ContainerActivities = Pick<ReturnType<typeof activitiesFor>, 'snapshot' | 'validate' | 'submit' | 'teardown' | 'toolExec'>;

/**
 * Whether a container activity failed because the run's host is lost: no worker of the host took it within the host
 * timeout, or the host's Docker engine has not answered for that long (activities/engine.ts).
 */
function hostLost(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  if (err.cause instanceof TimeoutFailure) return err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
  return err.cause instanceof ApplicationFailure && err.cause.type === HOST_LOST;
}

/**
 * Call a container activity on the run's host. When the host is lost (its worker silent past the host timeout),
 * the run moves: another host rebuilds its workspace (activities/migrate.ts) and the call goes there.
 */
async function onHost<T>(input: RunInput, state: RunState, call: (host: ContainerActivities) => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call(activitiesFor(input, state.hostQueue, state.hostTimeoutS));
    } catch (err) {
      if (!state.hostQueue || !state.hostTimeoutS || !hostLost(err)) throw err;
      const index = state.migrations ?? 0;
      const moved = await activitiesFor(input).migrate({ runId: input.runId, ...taskRef(input), model: input.model, step: state.step, from: state.hostQueue, index });
      Object.assign(state, { hostQueue: moved.hostQueue, migrations: index + 1 });
      report(input, state);
    }
  }
}

const SNAPSHOT_EVERY = 10;

/** One durable run of an agent on a task: provision → (agent turn → tool exec)* → submit → score → teardown. */
export async function agentRun(input: RunInput): Promise<RunResult> {
  const { runId, model } = input;
  const task = taskRef(input);
  const { reserveGpus, provision, forkProvision, score } = activitiesFor(input);
  const state: RunState = input.state ?? newState(input);
  listenForControls(input, state);
  // `external` runs only: the client's actions arrive as `step` updates (workflows/gym.ts).
  const gym = isExternal(input) ? new GymSession(input, state, () => report(input, state)) : undefined;
  gym?.listen();
  if (!input.state) {
    if (input.gpus) await reserveGpus({ runId, count: input.gpus });
    const provisioned: ProvisionResult & { inherited?: InheritedSteps } = input.fork ? await forkProvision({ runId, ...task, model, fork: input.fork }) : await provision({ runId, ...task, model });
    const { image, primaryMetric, direction, hostQueue } = provisioned;
    Object.assign(state, { image, primaryMetric, direction });
    if (hostQueue && patched(HOST_QUEUES)) {
      state.hostQueue = hostQueue;
      if (patched(HOST_MIGRATION)) state.hostTimeoutS = hostTimeoutS(input);
    }
    if (provisioned.inherited) startAfterParentSteps(state, provisioned.inherited, input.fork?.hint);
  }
  const stepsAtStart = state.step;

  try {
    let endedBy: ExitReason | 'submit' | undefined;
    while (!endedBy) {
      await condition(() => !state.paused || state.cancel !== undefined);
      if (state.cancel) endedBy = state.cancel === 'forfeit' ? 'exit_forfeit' : 'exit_cancel';
      else if (state.step >= input.maxSteps) endedBy = 'max_steps';
      if (endedBy) break;
      if (state.step - stepsAtStart >= input.continueEvery || workflowInfo().continueAsNewSuggested) {
        await onHost(input, state, (host) => host.snapshot({ runId, step: state.step, hostTimeoutS: state.hostTimeoutS }));
        gym?.handOff();
        await condition(allHandlersFinished);
        await continueAsNew<typeof agentRun>({ ...input, state });
      }
      if (gym && !(await gym.awaitAction())) continue; // cancelled (by an operator or idleness) while waiting
      endedBy = await takeStep(input, state, gym);
      state.step++;
      if (state.step % SNAPSHOT_EVERY === 0) await onHost(input, state, (host) => host.snapshot({ runId, step: state.step, hostTimeoutS: state.hostTimeoutS }));
      report(input, state);
      if (gym) await gym.afterStep(endedBy);
    }
    gym?.stop();

    if (endedBy !== 'submit' && endedBy !== 'exit_forfeit') {
      // Autosubmit: evaluate the workspace as it is.
      recordAttempt(state, await onHost(input, state, (host) => host.submit({ runId, ...task, step: state.step, image: state.image, hostTimeoutS: state.hostTimeoutS })));
    }
    const result = await score({ runId, ...task, model, steps: state.step, costUsd: state.costUsd, attempts: state.attempts, endedBy });
    await teardown(input, state);
    upsertSearchAttributes([{ key: MlgymStatus, value: result.status }]);
    setCurrentDetails(`**${result.exitStatus}** after ${result.steps} steps, $${result.costUsd.toFixed(4)}`);
    const gymFinal = gym?.finish(result, endedBy, state.primaryMetric);
    await condition(allHandlersFinished);
    return gymFinal ? { ...result, gym: gymFinal } : result;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err; // the run goes on in the next execution
    // Cancelled or failed for good: still release the container and volume (unless kept).
    await CancellationScope.nonCancellable(() => teardown(input, state));
    upsertSearchAttributes([{ key: MlgymStatus, value: isCancellation(err) ? 'cancelled' : 'failed' }]);
    throw err;
  }
}

/** Release the run's container on its host; a lost host keeps it (`mlgym gc` there removes it), nothing moves for that. */
async function teardown(input: RunInput, state: RunState): Promise<void> {
  try {
    await activitiesFor(input, state.hostQueue, state.hostTimeoutS).teardown({ runId: input.runId, keep: input.keep });
  } catch (err) {
    if (!state.hostTimeoutS || !hostLost(err)) throw err;
  }
}

/**
 * A run finishes on the build that started it (Worker Deployment Versioning, docs/versioning.md); only an
 * operator moves it (`mlgym deployment move`). Declared to versioned workers only: an unversioned one (the
 * workflow tests' time-skipping server, MLGYM_VERSIONING=off) must not send a versioning behaviour.
 */
export const pinnedWhenVersioned = () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'PINNED' as const } : {});
setWorkflowOptions(pinnedWhenVersioned, agentRun);

/** The task and how this run uses it, for every activity that loads the task. */
function taskRef({ taskId, taskFile, data, gpus, protocol }: RunInput): TaskRef {
  return { taskId, taskFile, data, gpus, protocol };
}

/** A new run's state; image, primary metric and direction are filled in by provisioning. */
function newState(input: RunInput): RunState {
  return { step: 0, costUsd: 0, budgetUsd: input.budgetUsd ?? 0, attempts: [], image: '', primaryMetric: '', direction: 'max', hints: [], lastAction: '', paused: false };
}

/** One agent turn and its effect. Returns how the run ends, if it does. */
async function takeStep(input: RunInput, state: RunState, gym?: GymSession): Promise<ExitReason | 'submit' | undefined> {
  const { runId, model } = input;
  const task = taskRef(input);
  const { agentTurn } = activitiesFor(input);
  const step = state.step;
  const hints = state.hints.splice(0);
  let turn: TurnResult;
  try {
    turn = gym ? gym.take(hints) : await agentTurn({ runId, ...task, model, step, maxSteps: input.maxSteps, hints, budgetUsd: state.budgetUsd });
  } catch (err) {
    // The model stayed unreachable through every retry: end like MLGym's exit_api and autosubmit.
    // A misconfigured agent (ConfigError) fails the run instead: it is bad input, not bad luck.
    if (isCancellation(err) || !(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure) || err.cause.type === 'ConfigError') throw err;
    state.lastAction = `exit_api: ${err.cause.message}`;
    return 'exit_api';
  }
  state.costUsd += turn.costUsd;
  const { action } = turn;
  state.lastAction = action.kind === 'command' ? action.command.split('\n')[0]! : action.kind === 'exit' ? action.reason : action.kind;
  switch (action.kind) {
    case 'command':
      await onHost(input, state, (host) => host.toolExec(action.command)({ runId, ...task, model, step, command: action.command, hostTimeoutS: state.hostTimeoutS }));
      return undefined;
    case 'validate':
    case 'submit': {
      const kind = action.kind;
      recordAttempt(state, await onHost(input, state, (host) => host[kind]({ runId, ...task, step, image: state.image, hostTimeoutS: state.hostTimeoutS })));
      return kind === 'submit' ? 'submit' : undefined;
    }
    case 'exit':
      return action.reason;
  }
}

/** A fork goes on from its parent's steps (docs/fork.md): their attempts count, and the operator's hint comes with its first live turn. */
function startAfterParentSteps(state: RunState, inherited: InheritedSteps, hint?: string): void {
  Object.assign(state, { step: inherited.step, attempts: inherited.attempts, lastAction: inherited.lastAction });
  if (hint) state.hints.push(hint);
  const best = bestScore(state);
  if (best !== null) upsertSearchAttributes([{ key: MlgymBestScore, value: best }]);
}

function recordAttempt(state: RunState, attempt: Attempt): void {
  state.attempts.push(attempt);
  const best = bestScore(state);
  if (best !== null) upsertSearchAttributes([{ key: MlgymBestScore, value: best }]);
}

function bestScore(state: RunState): number | null {
  return bestOf(state.attempts.map((a) => a.metrics?.[state.primaryMetric]), state.direction);
}

function status(input: RunInput, state: RunState): RunStatus {
  return {
    runId: input.runId,
    task: input.taskId,
    model: input.model,
    status: state.cancel ? 'finishing' : state.paused ? 'paused' : state.image ? 'running' : 'provisioning',
    step: state.step,
    maxSteps: input.maxSteps,
    costUsd: state.costUsd,
    budgetUsd: state.budgetUsd,
    bestScore: bestScore(state),
    primaryMetric: state.primaryMetric,
    lastAction: state.lastAction,
    container: `mlgym-${input.runId}`,
    pendingHints: state.hints.length,
    protocol: input.protocol ?? DEFAULT_PROTOCOL,
    ...(state.hostQueue ? { hostQueue: state.hostQueue } : {}),
    ...(state.migrations ? { migrations: state.migrations } : {}),
  };
}

function report(input: RunInput, state: RunState): void {
  const s = status(input, state);
  // Upsert only on change: each upsert is a history event.
  if (workflowInfo().typedSearchAttributes.get(MlgymStatus) !== s.status) upsertSearchAttributes([{ key: MlgymStatus, value: s.status }]);
  setCurrentDetails(
    `step ${s.step}/${s.maxSteps} · $${s.costUsd.toFixed(4)} of $${s.budgetUsd.toFixed(2)} · best ${s.primaryMetric} ${s.bestScore ?? '–'}${s.protocol === 'mlgym' ? " · MLGym's protocol" : ''}\n\nlast action: \`${s.lastAction}\``,
  );
}

function listenForControls(input: RunInput, state: RunState): void {
  setHandler(pauseSignal, () => {
    state.paused = true;
    report(input, state);
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    report(input, state);
  });
  setHandler(hintSignal, (text) => void state.hints.push(text));
  setHandler(cancelUpdate, (mode) => (state.cancel = mode), {
    validator: (mode) => {
      if (mode !== 'autosubmit' && mode !== 'forfeit') throw new Error(`cancel mode must be "autosubmit" or "forfeit", got "${mode}"`);
    },
  });
  setHandler(
    addBudgetUpdate,
    (usd) => {
      state.budgetUsd += usd;
      report(input, state);
      return state.budgetUsd;
    },
    {
      validator: (usd) => {
        if (!Number.isFinite(usd) || usd <= 0) throw new Error(`budget to add must be a positive number of dollars, got ${usd}`);
      },
    },
  );
  setHandler(statusQuery, () => status(input, state));
}
