// Synthetic run records for the report and interop tests, written the way the activities write them
// (provision, agentTurn + llm calls, toolExec, grade, score): no Docker, no model.
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { callRecordName, type CallRecord } from '../../lib/agent/ledger.js';
import { actionFromCommand } from '../../lib/agent/parse.js';
import type { ArtifactStore } from '../../lib/artifacts/store.js';
import { recordName, type ObservationRecord } from '../../lib/run/records.js';
import { bestAttempt, exitStatus, mlgymResults } from '../../lib/run/score.js';
import type { AgentAction, Attempt, ExitReason, ProvisionResult, RunResult, TurnResult } from '../../lib/run/types.js';

export interface StepSpec {
  /** A command, `validate`, `submit` or an exit reason (`exit_context`, …). */
  action: string;
  thought?: string;
  observation?: string;
  /** For validate and submit: the primary metric on the test split, or why grading failed. */
  score?: number | { error: string };
}

export interface RunSpec {
  runId: string;
  task: string;
  model: string;
  metric: string;
  direction: 'max' | 'min';
  baseline: number;
  steps: StepSpec[];
  /** How the run ended when its last step is not a submit (the workflow then autosubmits). */
  endedBy?: ExitReason;
  /** The autosubmit's score. */
  autosubmit?: number | { error: string };
  /** Store model calls (an LLM agent) priced at this many dollars each. */
  callCostUsd?: number;
}

function toAction(text: string): AgentAction {
  return /^exit_|^max_steps$/.test(text) ? { kind: 'exit', reason: text as ExitReason } : actionFromCommand(text);
}

function grade(step: number, kind: Attempt['kind'], metric: string, score: StepSpec['score']): Attempt {
  if (typeof score === 'object') return { step, kind, error: score.error, errorKind: 'evaluation_format_error' };
  const value = score ?? 0;
  return { step, kind, metrics: { [metric]: value }, shownMetrics: { [metric]: Number((value * 0.99).toFixed(6)) } };
}

function gradeObservation(attempt: Attempt, metric: string, baseline: number): string {
  if (attempt.error) return `${attempt.kind === 'validate' ? 'Validation' : 'Submission'} failed: ${attempt.error}`;
  if (attempt.kind === 'submit') return 'Submitted.';
  return `Your code produced a valid submission artefact at strategy.py.\nBaseline Score: {"${metric}":${baseline}}\nEvaluation Score (validation split): ${JSON.stringify(attempt.shownMetrics)}`;
}

function callRecord(spec: RunSpec, step: number, s: StepSpec): CallRecord {
  const content = `${s.thought ?? ''}\n\`\`\`\n${s.action}\n\`\`\``;
  const response = {
    id: `cmpl-${step}`,
    object: 'chat.completion',
    created: 0,
    model: spec.model,
    choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content, refusal: null } }],
    usage: { prompt_tokens: 1000 + 100 * step, completion_tokens: 50, total_tokens: 1050 + 100 * step },
  } as ChatCompletion;
  const messages = [
    { role: 'system' as const, content: `You are an autonomous machine-learning researcher (${spec.task}).` },
    { role: 'user' as const, content: `TASK: improve ${spec.metric}.` },
  ];
  return {
    step,
    attempt: 0,
    at: new Date(0).toISOString(),
    hints: [],
    request: { model: spec.model, messages },
    response,
    usage: { promptTokens: 1000 + 100 * step, completionTokens: 50, estimated: false },
    costUsd: spec.callCostUsd!,
  };
}

/** Write a run's records (including result.json and results.json) and return its result. */
export async function writeRun(store: ArtifactStore, spec: RunSpec): Promise<RunResult> {
  const { runId, metric } = spec;
  const provision: ProvisionResult = { containerId: `c-${runId}`, image: `mlgym-task-${spec.task}:fixture`, primaryMetric: metric, direction: spec.direction };
  await store.writeJson(runId, recordName.provision, provision);
  const attempts: Attempt[] = [];
  let costUsd = 0;
  for (const [step, s] of spec.steps.entries()) {
    const callCost = spec.callCostUsd ?? 0;
    if (spec.callCostUsd !== undefined) await store.writeJson(runId, callRecordName(step, 0), callRecord(spec, step, s));
    const turn: TurnResult = { action: toAction(s.action), thought: s.thought ?? '', costUsd: callCost };
    await store.writeJson(runId, recordName.turn(step), turn);
    costUsd += callCost;
    if (turn.action.kind === 'command') {
      const obs: ObservationRecord = { step, observation: s.observation ?? '', exitCode: 0, timedOut: false };
      await store.writeJson(runId, recordName.observation(step), obs);
    } else if (turn.action.kind === 'validate' || turn.action.kind === 'submit') {
      const attempt = grade(step, turn.action.kind, metric, s.score);
      attempts.push(attempt);
      await store.writeJson(runId, recordName.attempt(step), attempt);
      await store.writeJson(runId, recordName.observation(step), { step, observation: gradeObservation(attempt, metric, spec.baseline) });
    }
  }
  const last = spec.steps.at(-1)?.action;
  const endedBy = last === 'submit' ? 'submit' : (spec.endedBy ?? 'max_steps');
  if (endedBy !== 'submit' && endedBy !== 'exit_forfeit') {
    const attempt = grade(spec.steps.length, 'submit', metric, spec.autosubmit);
    attempts.push(attempt);
    await store.writeJson(runId, recordName.attempt(attempt.step), attempt);
    await store.writeJson(runId, recordName.observation(attempt.step), { step: attempt.step, observation: gradeObservation(attempt, metric, spec.baseline) });
  }
  const final = attempts.filter((a) => a.kind === 'submit').at(-1) ?? null;
  const result: RunResult = {
    runId,
    task: spec.task,
    model: spec.model,
    status: final?.metrics ? 'completed' : 'failed',
    exitStatus: exitStatus(final, endedBy),
    steps: spec.steps.length,
    costUsd,
    attempts,
    bestAttempt: bestAttempt(attempts, metric, spec.direction),
    submission: final?.metrics ? final : null,
  };
  await store.writeJson(runId, recordName.result, result);
  await store.writeJson(runId, recordName.mlgymResults, mlgymResults(attempts, { [metric]: spec.baseline }));
  await store.log(runId, `finished: ${result.exitStatus}`);
  return result;
}

export const EDIT_ACTION = 'edit 3:4\ndef row_strategy(history):\n    return 0 if not history else history[-1][1]\nend_of_edit';
export const HOSTILE_OBSERVATION = 'Traceback (most recent call last):\n<script>window.__pwned = true</script>\n<img src=x onerror="window.__pwned = true">';

const TASKS = [
  { task: 'prisonersDilemma', metric: 'Score', direction: 'max', baseline: 2.37 },
  { task: 'regressionKaggleHousePrice', metric: 'r2', direction: 'max', baseline: 0.88 },
  { task: 'languageModelingFineWeb', metric: 'val_loss', direction: 'min', baseline: 4.67 },
] as const;

/**
 * A benchmark's runs: 3 tasks × 2 agents. `gpt-4o` beats the baseline everywhere (so its AUP is T);
 * `<b>llama</b>` (a name to escape) is above the baseline on one task only, below it on another, and ends
 * the third on a context overflow.
 */
export async function writeBenchmark(store: ArtifactStore, prefix: string): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const t of TASKS) {
    const up = (k: number) => (t.direction === 'max' ? t.baseline * (1 + 0.1 * k) : t.baseline * (1 - 0.05 * k));
    const down = (k: number) => (t.direction === 'max' ? t.baseline * (1 - 0.1 * k) : t.baseline * (1 + 0.05 * k));
    results.push(
      await writeRun(store, {
        runId: `${prefix}-${t.task}-gpt-4o-s0`,
        task: t.task,
        model: 'gpt-4o',
        metric: t.metric,
        direction: t.direction,
        baseline: t.baseline,
        callCostUsd: 0.0125,
        steps: [
          { action: 'ls -la', thought: 'List the workspace first.', observation: 'total 12\n-rw-r--r-- 1 agent agent 512 strategy.py\n-rw-r--r-- 1 agent agent 900 target.py' },
          { action: 'open "strategy.py"', thought: 'Read the starter code.', observation: '[File: /home/agent/workspace/strategy.py (9 lines total)]\n1:def row_strategy(history):\n2:    return 0' },
          { action: EDIT_ACTION, thought: 'Play tit-for-tat.', observation: 'File updated.' },
          { action: 'validate', thought: 'Check the change.', score: up(1) },
          { action: 'python3 evaluate.py', thought: 'Run it by hand too.', observation: HOSTILE_OBSERVATION },
          { action: 'validate', thought: 'Again.', score: up(2) },
          { action: 'submit', thought: 'Good enough.', score: up(2) },
        ],
      }),
    );
    const context = t.task === 'languageModelingFineWeb';
    results.push(
      await writeRun(store, {
        runId: `${prefix}-${t.task}-llama-s0`,
        task: t.task,
        model: '<b>llama</b>',
        metric: t.metric,
        direction: t.direction,
        baseline: t.baseline,
        callCostUsd: 0.002,
        steps: [
          { action: 'search_dir "def " .', thought: 'Where are the functions?', observation: 'Found 2 matches' },
          { action: 'cat strategy.py', thought: 'Look.', observation: 'def row_strategy(history):\n    return 1' },
          { action: 'validate', thought: 'Score it.', score: context ? { error: 'evaluate.py printed no JSON' } : down(1) },
          ...(context ? [{ action: 'exit_context', thought: 'the prompt does not fit the context window' }] : [{ action: 'submit', thought: 'Submit.', score: t.task === 'prisonersDilemma' ? up(1) : down(1) }]),
        ],
        ...(context ? { endedBy: 'exit_context' as const, autosubmit: { error: 'evaluate.py printed no JSON' } } : {}),
      }),
    );
  }
  return results;
}
