import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { totalSpend } from '../agent/ledger.js';
import type { RunRecords } from '../report/records.js';
import type { StepView } from '../run/records.js';
import { MLGYM_AGENT_NAME, type MlgymHistoryItem, type MlgymTraj, type MlgymTrajStep } from './traj.js';

/** The name a trajectory gives its environment. */
export const TRAJ_ENVIRONMENT = 'durable-mlgym';

/** The shell's open file and working directory, as the agent saw them in its prompt. */
export interface ShellState {
  openFile: string;
  workingDir: string;
}

export interface TrajOptions {
  /** The shell state before each step (the state after the step before it). */
  stateBefore: (step: number) => ShellState;
  /** Where the submitted artifact is, for `info.submission`. */
  submissionPath: string;
}

function textOf(content: ChatCompletionMessageParam['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => ('text' in part ? part.text : '')).join('');
}

/** The reply as the model wrote it; for a tool call or a built-in agent, MLGym's text format (discussion + one fenced command). */
function responseOf(records: RunRecords, s: StepView): string {
  const reply = records.calls.filter((c) => c.step === s.step).at(-1)?.response?.choices[0]?.message;
  if (reply?.content && !reply.tool_calls?.length) return reply.content;
  if (/^exit_/.test(s.action)) return s.thought;
  return `${s.thought ? `${s.thought}\n\n` : ''}\`\`\`\n${s.action}\n\`\`\``;
}

/**
 * MLGym's `info.exit_status` for a run's exit status. MLGym names the reason an evaluation failed for
 * an agent's own submit too (`submission_not_found (submit)`, `evaluation_format_error (submit)`);
 * every other status is written as MLGym writes it already.
 */
export function mlgymExitStatus(status: string): string {
  return status === 'submission_not_found' || status === 'evaluation_format_error' ? `${status} (submit)` : status;
}

/**
 * A finished run's records as MLGym's `<task>.traj`. The trajectory holds the agent's steps; the
 * harness's autosubmit after an exit_* action is that action's observation, as in MLGym, and its
 * execution time that step's. A step recorded before execution times were kept has 0.
 */
export function trajFromRecords(records: RunRecords, options: TrajOptions): MlgymTraj {
  const { result } = records;
  const harnessAfter = (step: number) => records.steps.find((o) => o.step === step + 1 && !o.action);
  const trajectory: MlgymTrajStep[] = records.steps
    .filter((s) => s.action)
    .map((s) => {
      const state = options.stateBefore(s.step);
      const autosubmit = /^exit_/.test(s.action) ? harnessAfter(s.step) : undefined;
      return {
        action: s.action,
        observation: s.observation || (autosubmit?.observation ?? ''),
        response: responseOf(records, s),
        state: JSON.stringify({ open_file: state.openFile, working_dir: state.workingDir }),
        thought: s.thought,
        execution_time: s.durationS ?? autosubmit?.durationS ?? 0,
      };
    });
  const prompt = records.calls[0]?.request.messages.slice(0, 2) ?? [];
  const history: MlgymHistoryItem[] = [
    ...prompt.map((m) => ({ role: m.role, content: textOf(m.content), agent: MLGYM_AGENT_NAME })),
    ...trajectory.flatMap((t) => [
      { role: 'assistant', content: t.response, thought: t.thought ?? '', action: t.action, agent: MLGYM_AGENT_NAME },
      { role: 'user', content: t.observation, agent: MLGYM_AGENT_NAME },
    ]),
  ];
  const spend = totalSpend(records.calls);
  const costUsd = result?.costUsd ?? spend.costUsd;
  return {
    environment: TRAJ_ENVIRONMENT,
    trajectory,
    history,
    info: {
      model_stats: { total_cost: costUsd, task_cost: costUsd, tokens_sent: spend.promptTokens, tokens_received: spend.completionTokens, api_calls: spend.calls },
      ...(result ? { exit_status: mlgymExitStatus(result.exitStatus) } : {}),
      submission: result?.submission ? options.submissionPath : null,
      score: records.attempts.filter((a) => a.metrics).map((a) => a.metrics!),
      summarizer: {},
    },
  };
}
