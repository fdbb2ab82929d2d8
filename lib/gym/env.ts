// A Gym-style client for agents written in TypeScript: each episode is a durable `external` agentRun,
// each step a `step` update answered by the observation after the action ran (docs/gym.md).
import { createHash } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DataVariant } from '../config/schema.js';
import { newRunId } from '../run/ids.js';
import { runStartOptions } from '../run/start.js';
import type { CancelMode, RunInput, RunResult } from '../run/types.js';
import { namespace as defaultNamespace, TASK_QUEUE, taskQueueFor } from '../temporal/client.js';
import { temporalSettings } from '../temporal/connection.js';
import { cancelUpdate, gymObserveUpdate, gymQuery, gymStepUpdate } from '../../workflows/messages.js';
import { stepReward, type RewardMode } from './reward.js';
import { EXTERNAL_MODEL, GYM_RETRY, type GymFinal, type GymMetric, type GymObservation, type GymState, type GymStatus, type GymTaskInfo, type GymValidation } from './types.js';

/** What to do with an unfinished episode on close() or on reset() of the next one. */
export type OnClose = 'forfeit' | 'autosubmit' | 'detach';

export interface MlgymEnvOptions {
  /** A connected client; else one is connected to `address` (TEMPORAL_ADDRESS, else localhost:7233). */
  client?: Client;
  address?: string;
  namespace?: string;
  /** The workers' task queue (MLGYM_TASK_QUEUE, else `mlgym`; runs with GPUs go to its `-gpu` queue). */
  taskQueue?: string;
  /** The task of reset() when its options name none. */
  task?: string;
  reward?: RewardMode;
  /** Default `forfeit`: an unfinished episode ends unscored; `autosubmit` scores it; `detach` leaves it running (it idles out). */
  onClose?: OnClose;
}

/** Per-episode settings: reset()'s `options`. */
export interface EpisodeOptions {
  task?: string;
  data?: DataVariant;
  maxSteps?: number;
  /** Seconds without an action before the run pauses (default 600), then before it ends with an autosubmit (default 3600). */
  idlePauseS?: number;
  idleEndS?: number;
  gpus?: number;
  keep?: boolean;
  heartbeatTimeoutS?: number;
  continueEvery?: number;
}

export interface GymInfo {
  runId: string;
  /** Steps used: the number of the next step. */
  step: number;
  action: string | null;
  state: GymState;
  exitCode: number | null;
  validation: GymValidation | null;
  metric: GymMetric;
  /** The first observation's: description, command docs, system prompt. */
  task: GymTaskInfo | null;
  /** On the observation that ends the episode: exit status and the submission's score. */
  final: GymFinal | null;
  finalScore: number | null;
  /** The update's answer as it came. */
  raw: GymObservation;
}

export interface StepResult {
  observation: string;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: GymInfo;
}

/**
 * The update id of a step: the server answers a repeated id with the first outcome, without asking the
 * workflow; the action's hash in it lets another action for the same step reach the workflow (which refuses it).
 */
export function stepUpdateId(step: number, action: string): string {
  return `step-${step}-${createHash('sha256').update(action).digest('hex').slice(0, 16)}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function infoOf(obs: GymObservation): GymInfo {
  return {
    runId: obs.runId,
    step: obs.step,
    action: obs.action,
    state: obs.state,
    exitCode: obs.exitCode,
    validation: obs.validation,
    metric: obs.metric,
    task: obs.task,
    final: obs.final,
    finalScore: obs.final?.score ?? null,
    raw: obs,
  };
}

/**
 * An MLGym task as a Gym environment. `reset()` starts a durable run and returns the first observation;
 * `step(action)` runs one command (or `validate` / `submit`) and returns what came back. A step sent
 * again after a crash (same step number) gets the recorded observation: the action runs once.
 * `attach(runId)` continues an episode from another process.
 */
export class MlgymEnv {
  private handle?: WorkflowHandle;
  private last?: GymObservation;
  private ownsConnection?: Connection;
  /** The episode was ended by close() or by reset() of another. */
  private abandoned = false;

  private constructor(
    readonly client: Client,
    private readonly options: MlgymEnvOptions,
  ) {}

  static async connect(options: MlgymEnvOptions = {}): Promise<MlgymEnv> {
    if (options.client) return new MlgymEnv(options.client, options);
    const settings = temporalSettings();
    const connection = await Connection.connect({ address: options.address ?? settings.address ?? 'localhost:7233', ...settings.security });
    const env = new MlgymEnv(new Client({ connection, namespace: options.namespace ?? defaultNamespace() }), options);
    env.ownsConnection = connection;
    return env;
  }

  /** The current episode's run id (its workflow id). */
  get runId(): string | undefined {
    return this.handle?.workflowId;
  }

  /** The number of the next step. */
  get nextStep(): number {
    return this.last?.step ?? 0;
  }

  get done(): boolean {
    return this.last?.done ?? false;
  }

  /** Start a new episode (ending an unfinished one as `onClose` says) and return its first observation. */
  async reset({ seed = 0, options = {} }: { seed?: number; options?: EpisodeOptions } = {}): Promise<[string, GymInfo]> {
    await this.endEpisode();
    const taskId = options.task ?? this.options.task;
    if (!taskId) throw new Error('reset() needs a task: options.task, or MlgymEnv.connect({ task })');
    const input: RunInput = {
      runId: newRunId(taskId, EXTERNAL_MODEL, seed),
      taskId,
      model: EXTERNAL_MODEL,
      seed,
      maxSteps: options.maxSteps ?? 50,
      keep: options.keep ?? false,
      continueEvery: options.continueEvery ?? 100,
      ...(options.data ? { data: options.data } : {}),
      ...(options.gpus !== undefined ? { gpus: options.gpus } : {}),
      ...(options.idlePauseS !== undefined ? { idlePauseS: options.idlePauseS } : {}),
      ...(options.idleEndS !== undefined ? { idleEndS: options.idleEndS } : {}),
      ...(options.heartbeatTimeoutS !== undefined ? { heartbeatTimeoutS: options.heartbeatTimeoutS } : {}),
    };
    const queue = this.options.taskQueue ?? (input.gpus ? taskQueueFor(input.gpus) : TASK_QUEUE);
    this.handle = await this.client.workflow.start('agentRun', runStartOptions(input, queue));
    this.last = undefined;
    this.abandoned = false;
    const obs = await this.call(() => this.handle!.executeUpdate(gymObserveUpdate, { args: [] }));
    return [obs.observation, infoOf(obs)];
  }

  /** Run one action: a shell command, an ACI command, `validate`, `submit` or `exit_forfeit`. */
  async step(action: string): Promise<StepResult> {
    if (!this.handle) throw new Error('step() before reset() or attach()');
    if (this.last?.done || this.abandoned) throw new Error(`the episode of ${this.handle.workflowId} is over: reset() starts another`);
    const step = this.nextStep;
    const obs = await this.sendStep(step, action);
    return { observation: obs.observation, reward: stepReward(obs, this.options.reward), terminated: obs.terminated, truncated: obs.truncated, info: infoOf(obs) };
  }

  /**
   * Send the action of step `step`. Sending it again (same number, same action) is safe: while it runs it
   * waits for the same run of the action, afterwards it returns the recorded observation.
   */
  async sendStep(step: number, action: string): Promise<GymObservation> {
    const handle = this.handle!;
    return this.call(() => handle.executeUpdate(gymStepUpdate, { args: [{ step, action }], updateId: stepUpdateId(step, action) }));
  }

  /** Continue the episode of run `runId` (e.g. after this process restarted): its latest observation. */
  async attach(runId: string): Promise<[string, GymInfo]> {
    this.handle = this.client.workflow.getHandle(runId);
    this.last = undefined;
    this.abandoned = false;
    const obs = await this.call(() => this.handle!.executeUpdate(gymObserveUpdate, { args: [] }));
    return [obs.observation, infoOf(obs)];
  }

  /** Where the run's protocol stands (a query: no waiting, nothing recorded). */
  async status(): Promise<GymStatus> {
    if (!this.handle) throw new Error('no episode');
    return this.handle.query(gymQuery);
  }

  /** The run's result (waits for the run to end). */
  async result(): Promise<RunResult> {
    if (!this.handle) throw new Error('no episode');
    return (await this.handle.result()) as RunResult;
  }

  /** End an unfinished episode as `onClose` says, and close the connection this environment opened. */
  async close(): Promise<void> {
    await this.endEpisode();
    await this.ownsConnection?.close();
    this.ownsConnection = undefined;
  }

  private async endEpisode(): Promise<void> {
    const mode = this.options.onClose ?? 'forfeit';
    if (!this.handle || this.last?.done || this.abandoned || mode === 'detach') return;
    try {
      await this.handle.executeUpdate(cancelUpdate, { args: [mode as CancelMode] });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err; // already over
    }
    this.abandoned = true;
  }

  /**
   * An update, retried while the run hands over to its next execution (continue-as-new); when the run
   * has ended, the observation that ended it (from its result).
   */
  private async call(update: () => Promise<GymObservation>): Promise<GymObservation> {
    for (let attempt = 0; ; attempt++) {
      try {
        return this.remember(await update());
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === GYM_RETRY) {
          await sleep(Math.min(2000, 100 * 2 ** attempt));
          continue;
        }
        if (err instanceof WorkflowNotFoundError) {
          const ended = await this.endedObservation();
          if (ended) return this.remember(ended);
          if (attempt < 50) {
            await sleep(Math.min(2000, 100 * 2 ** attempt)); // between two executions
            continue;
          }
        }
        throw err;
      }
    }
  }

  /** The observation that ended a closed run, or undefined while it is still running. */
  private async endedObservation(): Promise<GymObservation | undefined> {
    const handle = this.client.workflow.getHandle(this.handle!.workflowId);
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') return undefined;
    const result = (await handle.result()) as RunResult;
    if (!result.gym) throw new Error(`run ${handle.workflowId} ended (${result.exitStatus}) without a Gym observation: is it an external run?`);
    return result.gym;
  }

  private remember(obs: GymObservation): GymObservation {
    if (!this.last || obs.step >= this.last.step) this.last = obs;
    return obs;
  }
}

/** Picks the action of a step from the last observation (the episode's index says which of the parallel episodes). */
export type Policy = (observation: string, info: GymInfo, episode: number) => string | Promise<string>;

/**
 * Run `count` episodes in parallel (seeds `seed` … `seed + count - 1`, each its own run) and return each
 * one's last info: `final` and `finalScore` say how it ended. Every episode gets its own environment.
 */
export async function runEpisodes(count: number, policy: Policy, { seed = 0, options = {}, env = {} }: { seed?: number; options?: EpisodeOptions; env?: MlgymEnvOptions } = {}): Promise<GymInfo[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const episode = await MlgymEnv.connect(env);
      try {
        let [observation, info] = await episode.reset({ seed: seed + i, options });
        for (;;) {
          const step = await episode.step(await policy(observation, info, i));
          if (step.terminated || step.truncated) return step.info;
          ({ observation, info } = step);
        }
      } finally {
        await episode.close();
      }
    }),
  );
}
