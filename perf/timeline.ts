import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { tsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { median } from './stats.js';

const { temporal } = proto;
const { EventType } = temporal.api.enums.v1;

/** One activity of a history: when it was scheduled, started (last attempt) and closed (server clock, ms). */
export interface ActivitySpan {
  type: string;
  scheduled: number;
  started?: number;
  closed?: number;
  attempt: number;
  ok: boolean;
}

export interface RunHistory {
  events: number;
  /** Length of the history as JSON (historyToJSON), and as the protobuf the server stores. */
  jsonBytes: number;
  protoBytes: number;
  workflowTasks: number;
  activities: ActivitySpan[];
  /** The execution this one continued as new from. */
  continuedFrom?: string;
}

/** The history of one execution (the latest when `runId` is not given), reduced to what the bench needs. */
export async function readHistory(client: Client, workflowId: string, runId?: string): Promise<RunHistory> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const spans = new Map<number, ActivitySpan>();
  let workflowTasks = 0;
  for (const e of events) {
    const at = tsToMs(e.eventTime);
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) workflowTasks++;
    if (e.activityTaskScheduledEventAttributes) {
      spans.set(Number(e.eventId), { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '', scheduled: at, attempt: 1, ok: false });
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) Object.assign(spans.get(Number(started.scheduledEventId))!, { started: at, attempt: started.attempt ?? 1 });
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (closed) Object.assign(spans.get(Number(closed.scheduledEventId))!, { closed: at, ok: !!e.activityTaskCompletedEventAttributes });
  }
  return {
    events: events.length,
    jsonBytes: historyToJSON(history).length,
    protoBytes: temporal.api.history.v1.History.encode(history).finish().length,
    workflowTasks,
    activities: [...spans.values()],
    continuedFrom: events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined,
  };
}

/** Activities that needed more than one attempt or did not complete. */
export function troubledActivities(h: RunHistory): number {
  return h.activities.filter((a) => a.attempt > 1 || (a.closed !== undefined && !a.ok)).length;
}

/** The agent loop of a run: commands executed, from the first agent turn scheduled to the last command completed. */
export function stepSpan(h: RunHistory): { steps: number; from: number; to: number } {
  const turns = h.activities.filter((a) => a.type === 'agentTurn');
  const execs = h.activities.filter((a) => a.type === 'toolExec' && a.ok);
  return { steps: execs.length, from: Math.min(...turns.map((a) => a.scheduled)), to: Math.max(...execs.map((a) => a.closed!)) };
}

/**
 * Where a step's time goes (medians, ms): each activity's wait in the queue and its run time, and
 * the rest (workflow tasks, scheduling) as the gap between one command's end and the next one's end.
 */
export function stepBreakdown(h: RunHistory): { stepMs: number; turnQueueMs: number; turnRunMs: number; execQueueMs: number; execRunMs: number; workflowMs: number } {
  const of = (type: string) => h.activities.filter((a) => a.type === type && a.ok && a.started !== undefined);
  const queue = (spans: ActivitySpan[]) => median(spans.map((a) => a.started! - a.scheduled));
  const run = (spans: ActivitySpan[]) => median(spans.map((a) => a.closed! - a.started!));
  const turns = of('agentTurn');
  const execs = of('toolExec');
  const ends = execs.map((a) => a.closed!).sort((a, b) => a - b);
  const stepMs = median(ends.slice(1).map((end, i) => end - ends[i]!));
  const parts = { turnQueueMs: queue(turns), turnRunMs: run(turns), execQueueMs: queue(execs), execRunMs: run(execs) };
  return { stepMs, ...parts, workflowMs: stepMs - parts.turnQueueMs - parts.turnRunMs - parts.execQueueMs - parts.execRunMs };
}
