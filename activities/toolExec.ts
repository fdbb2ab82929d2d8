import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { endStrayProcesses, runInSession, type CommandResult } from '../lib/sandbox/session.js';
import { recordName, timedObservation, type ObservationRecord } from '../lib/run/records.js';
import type { TaskRef, ToolResult } from '../lib/run/types.js';
import { taskOrFail, type ActivityDeps } from './context.js';
import { runContainer } from './provision.js';
import { hostToolTask, runHostTool } from '../lib/tools/host.js';
import { prepareCommand } from '../lib/tools/prepare.js';
import { commandTimeoutS } from '../lib/tools/timeouts.js';
import { engineOrHostLost } from './engine.js';
import { withHeartbeat } from './heartbeat.js';

export interface ToolExecInput extends TaskRef {
  runId: string;
  model: string;
  step: number;
  command: string;
  /** The run's host timeout (RunState.hostTimeoutS): how long this host's engine may not answer before the run moves. */
  hostTimeoutS?: number;
}

/** How long one exec call waits before heartbeating and re-attaching. */
const POLL_S = 2;
/** Characters of output in an observation (a 100-line file window fits). */
const OUTPUT_CAP = 20_000;

export function observationText(result: CommandResult, timeoutS: number, strays = 0): string {
  let text = result.output ?? '';
  if (result.truncated) text += `\n[output truncated: ${result.output_chars} characters in all, full output in ${result.output_file}]`;
  if (result.timed_out) text += `\nEXECUTION TIMED OUT: the command ran for more than ${timeoutS} seconds and was killed with all its processes.`;
  if (result.lost) text += '\nThe command was lost (its container restarted while it ran); run it again if needed.';
  if (strays) text += `\n${strays} process(es) the command left running outside its session were killed: nothing a command starts outlives it.`;
  return text;
}

/**
 * Run the agent's command in its container's session under the key of this step (a host tool on the
 * host, with the task's memory when it enables one). A retry (after a worker crash) re-attaches to the same
 * command instead of starting it again. The observation record carries the seconds the action took.
 */
export function makeToolExec({ store }: ActivityDeps) {
  return async function toolExec(input: ToolExecInput): Promise<ToolResult> {
    const { runId, step, command } = input;
    const record = await store.once<ObservationRecord>(runId, recordName.observation(step), () => timedObservation(async () => {
      const task = taskOrFail(input);
      const hostObservation = await runHostTool(command, { runId, store, ...hostToolTask(task) });
      if (hostObservation !== undefined) return { step, observation: hostObservation };
      const prepared = prepareCommand(command);
      if ('refusal' in prepared) return { step, observation: prepared.refusal };
      const timeoutS = commandTimeoutS(prepared.command, task);
      await engineOrHostLost(input.hostTimeoutS);
      const containerId = await withHeartbeat(() => runContainer(store, input));
      const key = `step-${step}`;
      let result = await runInSession(containerId, key, prepared.command, { timeoutS, waitS: POLL_S, capChars: OUTPUT_CAP });
      if (!result.started) await store.log(runId, `step ${step}: re-attached to ${key} (attempt ${activityInfo().attempt})`);
      while (result.state === 'running') {
        // Cancelled (worker shutdown, timeout, workflow cancel): stop waiting; the command keeps running
        // in the container and the next attempt re-attaches to it.
        cancellationSignal().throwIfAborted();
        heartbeat({ key });
        result = await runInSession(containerId, key, '', { timeoutS, waitS: POLL_S, capChars: OUTPUT_CAP });
      }
      const strays = await endStrayProcesses(containerId);
      return {
        step,
        observation: observationText(result, timeoutS, strays),
        exitCode: result.exit_code,
        timedOut: result.timed_out,
        outputFile: result.output_file,
        workingDir: result.cwd,
        openFile: result.open_file ?? undefined,
        // The session's own clock: a retry that re-attached still records the whole command's time.
        ...(result.duration_s != null ? { durationS: result.duration_s } : {}),
      };
    }));
    return { exitCode: record.exitCode ?? null, timedOut: record.timedOut ?? false, outputChars: record.observation.length };
  };
}
