import { capText, HISTORY_DEFAULTS } from '../lib/agent/history.js';
import { footer, systemMessage } from '../lib/agent/prompt.js';
import type { LoadedTask } from '../lib/config/load.js';
import { gymState, gymValidation, stepObservation } from '../lib/gym/observation.js';
import type { GymMetric, GymObservation, GymTaskInfo } from '../lib/gym/types.js';
import { actionText, recordName, type ObservationRecord } from '../lib/run/records.js';
import type { Attempt, TaskRef, TurnResult } from '../lib/run/types.js';
import { WORKSPACE } from '../lib/sandbox/docker.js';
import { commandDocs, commandsFor } from '../lib/tools/registry.js';
import { taskOrFail, type ActivityDeps } from './context.js';

export interface ExternalObservationInput extends TaskRef {
  runId: string;
  maxSteps: number;
  /** The observation after this many steps: 0 is the first one (the task), k answers step k-1. */
  stepsUsed: number;
  /** The client's turn of step stepsUsed-1, recorded under its key (the trajectory's action) before the observation is read. */
  turn?: TurnResult;
}

export function gymMetric(task: LoadedTask): GymMetric {
  const name = task.primary_metric;
  const direction = task.metrics.find((m) => m.name === name)?.direction ?? 'max';
  return { name, direction, baseline: task.baseline_scores[0]?.[name] ?? null };
}

function dataLines(task: LoadedTask): string {
  if (!task.datasets.length) return '';
  return `\n\nDATA\n${task.datasets.map((d) => `- ${d.title} (in ${d.workspaceDir}/): ${d.description.trim() || 'no description.'}`).join('\n')}`;
}

/** The first observation: the task, the data, the commands and the footer. */
function firstObservation(input: ExternalObservationInput, task: LoadedTask): GymObservation {
  const docs = commandDocs(commandsFor(task));
  const state = gymState(0, input.maxSteps, 'n/a', WORKSPACE);
  const info: GymTaskInfo = {
    id: task.id,
    name: task.name,
    description: task.description.trim(),
    commands: docs,
    systemPrompt: systemMessage(task, docs, 'text'),
    submissionArtifact: task.submission_artifact ?? null,
    data: task.data,
    baselineMetrics: task.baseline_scores[0] ?? null,
  };
  const text =
    `TASK\n${info.description}${dataLines(task)}\n\nCOMMANDS\nAny non-interactive shell command works, and so do these:\n\n${docs}\n\n` +
    `Send one command per step. \`validate\` scores your work on the validation split; \`submit\` ends the episode.\n\n${footer(state)}`;
  return {
    runId: input.runId,
    step: 0,
    action: null,
    observation: text,
    state,
    exitCode: null,
    validation: null,
    metric: gymMetric(task),
    task: info,
    done: false,
    terminated: false,
    truncated: false,
    final: null,
  };
}

/**
 * The observation of an `external` run after `stepsUsed` steps, rebuilt from the run's records (the
 * step's turn, observation and attempt), so asking again returns the same observation and runs nothing.
 */
export function makeExternalObservation({ store }: ActivityDeps) {
  return async function externalObservation(input: ExternalObservationInput): Promise<GymObservation> {
    const { runId, stepsUsed } = input;
    const task = taskOrFail(input);
    if (stepsUsed === 0) return firstObservation(input, task);
    const step = stepsUsed - 1;
    const turn = input.turn ? await store.once(runId, recordName.turn(step), async () => input.turn!) : await store.readJson<TurnResult>(runId, recordName.turn(step));
    if (!turn) throw new Error(`run ${runId}: step ${step} has no recorded action`);
    const obs = await store.readJson<ObservationRecord>(runId, recordName.observation(step));
    const attempt = await store.readJson<Attempt>(runId, recordName.attempt(step));
    const output = obs?.observation ?? (turn.action.kind === 'exit' ? `The episode ends: ${turn.action.reason}.` : '');
    return {
      ...stepObservation({
        runId,
        step,
        action: actionText(turn),
        output: capText(output, HISTORY_DEFAULTS.capChars),
        hints: turn.hints ?? [],
        maxSteps: input.maxSteps,
        openFile: obs?.openFile ?? 'n/a',
        workingDir: obs?.workingDir ?? WORKSPACE,
        exitCode: obs?.exitCode ?? null,
        attempt,
        metric: gymMetric(task),
      }),
      validation: gymValidation(attempt),
    };
  };
}
