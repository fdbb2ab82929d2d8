// The workflow side of `external` runs: a Gym client sends each action as a `step` update and gets the
// observation after it ran. Used by agentRun only for runs with model `external`; nothing here runs,
// schedules or records anything for other runs.
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { actionFromCommand } from '../lib/agent/parse.js';
import { finalObservation, gymState } from '../lib/gym/observation.js';
import { DEFAULT_IDLE_END_S, DEFAULT_IDLE_PAUSE_S, EXTERNAL_MODEL, GYM_RETRY, MAX_ACTION_CHARS, type GymObservation, type GymRunState, type GymStatus, type GymStepRequest } from '../lib/gym/types.js';
import { heartbeatTimeoutS } from '../lib/run/timeouts.js';
import type { ExitReason, RunInput, RunResult, RunState, TurnResult } from '../lib/run/types.js';
import { gymObserveUpdate, gymQuery, gymStepUpdate } from './messages.js';

function retryInNextExecution(what: string): ApplicationFailure {
  return ApplicationFailure.create({ type: GYM_RETRY, message: `the run continues as a new execution: send ${what} again`, nonRetryable: true });
}

function otherAction(step: number, claimed: string): Error {
  return ApplicationFailure.create({ type: 'GymOtherAction', message: `step ${step} already has another action (${JSON.stringify(claimed.slice(0, 80))}); send that one again to get its observation`, nonRetryable: true });
}

export function isExternal(input: Pick<RunInput, 'model'>): boolean {
  return input.model === EXTERNAL_MODEL;
}

/** Observations are rebuilt from the run's records: cheap, idempotent, retried like the other short activities. */
function observationActivity(input: RunInput) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: `${heartbeatTimeoutS(input)}s`,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: ['ConfigError'] },
  }).externalObservation;
}

/**
 * One external run's protocol state. What must survive continue-as-new (an accepted action that has not
 * started, the idle pause) lives in `state.gym`; the rest is a cache of activity results, rebuilt on demand.
 *
 * Step numbers make it idempotent: `step` n is accepted only for the next step; sent again (a client
 * retrying after a crash) while it runs, it waits for the same run of the action; sent after it ran, it
 * gets the recorded observation. The action never runs twice.
 */
export class GymSession {
  private readonly gym: GymRunState;
  /** Observations after finished steps, by step (only the latest few). */
  private readonly answers = new Map<number, GymObservation>();
  private first?: GymObservation;
  /** The step whose action was taken and whose observation is not published yet. */
  private running?: { step: number; action: string; turn: TurnResult };
  /** The last step's observation, held until the run's result is known. */
  private held?: GymObservation;
  private ending = false;
  private final?: GymObservation;
  /** Updates received: each one restarts the idle clock. */
  private contacts = 0;
  /** The run continues as new: updates for steps that have not run must be sent again to the next execution. */
  private handoff = false;

  constructor(
    private readonly input: RunInput,
    private readonly state: RunState,
    private readonly report: () => void,
  ) {
    this.gym = state.gym ??= {};
  }

  private get idlePauseS(): number {
    return this.input.idlePauseS ?? DEFAULT_IDLE_PAUSE_S;
  }

  private get idleEndS(): number {
    return this.input.idleEndS ?? DEFAULT_IDLE_END_S;
  }

  listen(): void {
    setHandler(gymStepUpdate, (request) => this.onStep(request), { validator: (request) => this.validateStep(request) });
    setHandler(gymObserveUpdate, () => this.onObserve());
    setHandler(gymQuery, () => this.status());
  }

  private status(): GymStatus {
    return {
      runId: this.input.runId,
      nextStep: this.state.step,
      pendingStep: this.gym.pending?.step ?? null,
      runningStep: this.running?.step ?? null,
      idlePaused: this.gym.idlePaused ?? false,
      idlePauseS: this.idlePauseS,
      idleEndS: this.idleEndS,
      ended: this.final !== undefined,
    };
  }

  /** The action already claimed for step n (pending, running or run recently), if known without I/O. */
  private claimed(n: number): string | undefined {
    if (this.gym.pending?.step === n) return this.gym.pending.action;
    if (this.running?.step === n) return this.running.action;
    return this.answers.get(n)?.action ?? undefined;
  }

  /** Rejected updates are not recorded in the history: a bad request costs the run nothing. */
  private validateStep(request: GymStepRequest): void {
    const { step, action } = request ?? ({} as GymStepRequest);
    if (!Number.isInteger(step) || step < 0) throw new Error(`step must be a step number (an integer >= 0), got ${JSON.stringify(step)}`);
    if (typeof action !== 'string' || !action.trim()) throw new Error('action must be a non-empty command');
    if (action.length > MAX_ACTION_CHARS) throw new Error(`action is ${action.length} characters; at most ${MAX_ACTION_CHARS}`);
    if (step > this.state.step) throw new Error(`step ${step} is ahead of the run: the next step is ${this.state.step}`);
    const claimed = this.claimed(step);
    if (claimed !== undefined && claimed !== action) throw otherAction(step, claimed);
  }

  /** A client's update: restart the idle clock and resume a run that idleness paused. */
  private touch(): void {
    this.contacts++;
    if (this.gym.idlePaused) {
      this.gym.idlePaused = false;
      this.state.paused = false;
      this.report();
    }
  }

  private async onStep({ step: n, action }: GymStepRequest): Promise<GymObservation> {
    this.touch();
    if (n === this.state.step && this.claimed(n) === undefined && !this.ending && !this.final) this.gym.pending = { step: n, action };
    await condition(() => this.answers.has(n) || this.final !== undefined || this.handoff || (n < this.state.step && this.running?.step !== n && !this.held));
    const answer = this.answers.get(n);
    if (answer) return answer;
    if (n < this.state.step) {
      // An older step: its recorded observation, if it was this action.
      const recorded = await this.rebuild(n + 1);
      if (recorded.action !== action) throw otherAction(n, recorded.action ?? '');
      return recorded;
    }
    // The action never ran: the episode ended first, or it runs in the next execution.
    if (this.final) return this.final;
    throw retryInNextExecution(`step ${n}`);
  }

  /** The latest observation; while an action is waiting or running, the one after it. */
  private async onObserve(): Promise<GymObservation> {
    this.touch();
    await condition(() => this.final !== undefined || this.handoff || (this.state.image !== '' && !this.gym.pending && !this.running && !this.held && !this.ending));
    if (this.final) return this.final;
    if (this.gym.pending) throw retryInNextExecution('observe');
    const latest = this.state.step === 0 ? this.first : this.answers.get(this.state.step - 1);
    return latest ?? this.rebuild(this.state.step);
  }

  /** The observation after `stepsUsed` steps, from the run's records (no action runs). */
  private async rebuild(stepsUsed: number): Promise<GymObservation> {
    const { runId, taskId, data, gpus, maxSteps } = this.input;
    const obs = await observationActivity(this.input)({ runId, taskId, data, gpus, maxSteps, stepsUsed });
    if (stepsUsed === 0) this.first ??= obs;
    return obs;
  }

  /**
   * Wait for the client's next action. The idle clock runs while no action is waiting (and no operator
   * paused the run): after idlePauseS the run pauses, after idleEndS more it is cancelled with an
   * autosubmit. Returns false when the run is cancelled instead (by an operator or idleness).
   */
  async awaitAction(): Promise<boolean> {
    for (;;) {
      if (this.gym.idlePaused && !this.state.paused) this.gym.idlePaused = false; // an operator resumed it
      if (this.state.cancel) return false;
      if (this.gym.pending && !this.state.paused) return true;
      const operatorPaused = this.state.paused && !this.gym.idlePaused;
      const idleClock = !this.gym.pending && !operatorPaused;
      const limitS = this.gym.idlePaused ? this.idleEndS : this.idlePauseS;
      const { contacts, paused } = { contacts: this.contacts, paused: this.state.paused };
      const woken = () => this.state.cancel !== undefined || this.contacts !== contacts || this.state.paused !== paused || (this.gym.pending !== undefined && !this.state.paused);
      if (!idleClock) {
        await condition(woken);
        continue;
      }
      const summary = this.gym.idlePaused ? 'idle-paused: autosubmit unless the client acts' : "idle: waiting for the client's next action";
      if (await condition(woken, limitS * 1000, { summary })) continue;
      if (!this.gym.idlePaused) {
        this.gym.idlePaused = true;
        this.state.paused = true;
        this.state.lastAction = `idle: no client action for ${this.idlePauseS}s, paused`;
      } else {
        this.state.cancel = 'autosubmit';
        this.state.lastAction = `exit_idle: no client action for ${this.idlePauseS + this.idleEndS}s`;
      }
      this.report();
    }
  }

  /** The agent turn of an external run: the client's pending action (no model, no cost). */
  take(hints: string[]): TurnResult {
    const { step, action } = this.gym.pending!;
    this.gym.pending = undefined;
    const turn: TurnResult = { action: actionFromCommand(action), thought: '', costUsd: 0, ...(hints.length ? { hints } : {}) };
    this.running = { step, action, turn };
    return turn;
  }

  /** Record the step's action and publish its observation, or hold it when the step ended the run. */
  async afterStep(endedBy: ExitReason | 'submit' | undefined): Promise<void> {
    const { step, turn } = this.running!;
    const { runId, taskId, data, gpus, maxSteps } = this.input;
    const obs = await observationActivity(this.input)({ runId, taskId, data, gpus, maxSteps, stepsUsed: step + 1, turn });
    if (endedBy !== undefined || this.state.step >= maxSteps || this.state.cancel !== undefined) this.held = obs;
    else {
      this.answers.set(step, obs);
      this.answers.delete(step - 2);
    }
    this.running = undefined;
  }

  /** The run stops taking steps (it will autosubmit, score and tear down). */
  stop(): void {
    this.ending = true;
  }

  /** The run's result is known: answer every waiting update with the observation that ends the episode. */
  finish(result: RunResult, endedBy: ExitReason | 'submit', primaryMetric: string): GymObservation {
    const base = this.held ?? this.answers.get(this.state.step - 1) ?? this.first;
    const fallback = {
      runId: this.input.runId,
      step: this.state.step,
      action: null,
      observation: '',
      state: base?.state ? { ...base.state, stepsUsed: this.state.step, remaining: Math.max(0, this.input.maxSteps - this.state.step) } : gymState(this.state.step, this.input.maxSteps),
      exitCode: null,
      validation: null,
      metric: base?.metric ?? { name: primaryMetric, direction: this.state.direction, baseline: null },
      task: null,
    };
    this.final = finalObservation(this.held, result, endedBy, fallback);
    if (this.held) this.answers.set(this.held.step - 1, this.final);
    this.held = undefined;
    return this.final;
  }

  /** Before continue-as-new: updates waiting for a step that has not run fail with GymRetry; the client sends them again. */
  handOff(): void {
    this.handoff = true;
  }
}
