import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from '../config/load.js';
import { numericMetrics, readTraj, type MlgymResults } from '../interop/traj.js';
import { TRAJ_ENVIRONMENT } from '../interop/toTraj.js';
import { toId } from '../run/ids.js';
import { isProtocol, type Protocol } from '../run/protocol.js';
import type { Attempt, Metrics } from '../run/types.js';
import type { ReportRun, ReportStep } from './run.js';
import { taskFacts } from './taskFacts.js';

function readResults(file: string): MlgymResults | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { agent?: Record<string, unknown>[]; baseline?: Record<string, unknown> };
    return { agent: (data.agent ?? []).map(numericMetrics), baseline: numericMetrics(data.baseline ?? {}) };
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `expected MLGym's results.json: ${(err as Error).message}` }]);
  }
}

/** The model of an MLGym run folder: args.yaml's agent.model.model_name, else the folder name's first part (<model>__<task>__…), else the folder name. */
function modelOf(dir: string, task: string): string {
  const argsFile = join(dir, 'args.yaml');
  if (existsSync(argsFile)) {
    try {
      const args = parseYaml(readFileSync(argsFile, 'utf8')) as { agent?: { model?: { model_name?: unknown } } } | null;
      const name = args?.agent?.model?.model_name;
      if (typeof name === 'string' && name) return name;
    } catch (err) {
      if (!(err instanceof YAMLParseError)) throw err;
    }
  }
  const parts = basename(dir).split('__');
  return parts.length > 2 && parts[1] === task ? parts[0]! : basename(dir);
}

/** The builds that ran an exported run (`info.builds` of the .traj, else `builds` in args.yaml); undefined for MLGym's own runs. */
function buildsOf(info: Record<string, unknown>, dir: string): string[] | undefined {
  const valid = (value: unknown) => (Array.isArray(value) && value.every((b) => typeof b === 'string') ? (value as string[]) : undefined);
  const fromTraj = valid(info.builds);
  if (fromTraj) return fromTraj;
  const argsFile = join(dir, 'args.yaml');
  if (!existsSync(argsFile)) return undefined;
  try {
    return valid((parseYaml(readFileSync(argsFile, 'utf8')) as { builds?: unknown } | null)?.builds);
  } catch (err) {
    if (err instanceof YAMLParseError) return undefined;
    throw err;
  }
}

/**
 * The protocol of an exported run: `info.protocol` of the .traj, else `protocol` in args.yaml; a trajectory
 * of ours exported before protocols were recorded ran ours; any other (MLGym's own runs) ran MLGym's.
 */
function protocolOfTraj(traj: { environment: string; info: Record<string, unknown> }, dir: string): Protocol {
  if (isProtocol(traj.info.protocol)) return traj.info.protocol;
  const argsFile = join(dir, 'args.yaml');
  if (existsSync(argsFile)) {
    try {
      const recorded = (parseYaml(readFileSync(argsFile, 'utf8')) as { protocol?: unknown } | null)?.protocol;
      if (isProtocol(recorded)) return recorded;
    } catch (err) {
      if (!(err instanceof YAMLParseError)) throw err;
    }
  }
  return traj.environment === TRAJ_ENVIRONMENT ? 'ours' : 'mlgym';
}

/**
 * MLGym's score list holds the metrics of each validate that produced a score and, last, of the submission
 * when the run ended with one: put them back on the steps that produced them.
 */
function attemptsOf(steps: ReportStep[], scores: Metrics[], submitted: boolean): Attempt[] {
  const validations = submitted ? scores.slice(0, -1) : scores;
  const validateSteps = steps.filter((s) => s.action.trim() === 'validate');
  const scoredSteps = validateSteps.filter((s) => s.observation.includes('Evaluation Score'));
  const at = scoredSteps.length === validations.length ? scoredSteps : validateSteps;
  const lastStep = steps.at(-1)?.step ?? 0;
  const attempts: Attempt[] = validations.map((metrics, k) => ({ step: at[k]?.step ?? lastStep, kind: 'validate', metrics }));
  if (submitted && scores.length) attempts.push({ step: lastStep, kind: 'submit', metrics: scores.at(-1)! });
  return attempts;
}

/** A run from an MLGym `<task>.traj`, with the results.json and args.yaml beside it when there are. */
export function runFromTraj(file: string): ReportRun {
  const traj = readTraj(file);
  const dir = dirname(resolve(file));
  const task = basename(file).replace(/\.traj$/, '');
  const results = readResults(join(dir, 'results.json'));
  const exitStatus = traj.info.exit_status ?? 'unknown';
  const submitted = /^(submitted|autosubmission)/.test(exitStatus);
  const steps: ReportStep[] = traj.trajectory.map((s, i) => ({ step: i, thought: s.thought ?? '', action: s.action, observation: s.observation ?? '', costUsd: 0 }));
  const scores = traj.info.score?.map(numericMetrics) ?? results?.agent ?? [];
  const attempts = attemptsOf(steps, scores, submitted);
  for (const a of attempts) if (steps[a.step]) steps[a.step] = { ...steps[a.step]!, attempt: a };
  const facts = taskFacts(task);
  const primaryMetric = facts?.primaryMetric;
  const stats = traj.info.model_stats;
  const builds = buildsOf(traj.info, dir);
  const protocol = protocolOfTraj(traj, dir);
  return {
    id: toId(`${basename(dir)}.${task}`),
    origin: 'traj',
    task,
    model: modelOf(dir, task),
    status: submitted && scores.length ? 'completed' : 'failed',
    exitStatus,
    stepCount: steps.length,
    costUsd: stats?.total_cost ?? 0,
    usage: { tokensSent: stats?.tokens_sent ?? 0, tokensReceived: stats?.tokens_received ?? 0, apiCalls: stats?.api_calls ?? 0 },
    attempts,
    steps,
    primaryMetric,
    direction: facts?.direction,
    baseline: primaryMetric === undefined ? undefined : (results?.baseline[primaryMetric] ?? facts?.baseline?.[primaryMetric]),
    source: resolve(file),
    ...(builds ? { builds } : {}),
    protocol,
  };
}
