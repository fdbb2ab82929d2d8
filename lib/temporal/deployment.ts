// Worker Deployment Versioning (docs/versioning.md): the build id of this code, the deployment version a
// worker joins, the record of which builds ran a run, and the server's Worker Deployment API (list,
// set-current, ramp, drain, move a run) through a client's raw workflowService.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowExecutionDescription, WorkflowService } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';
import type { ArtifactStore } from '../artifacts/store.js';
import { repoRoot } from '../home.js';
import { isId } from '../run/ids.js';
import { TASK_QUEUE } from './client.js';

const { RoutingConfigUpdateState, TaskQueueKind, TaskQueueType, VersioningBehavior, WorkerDeploymentVersionStatus } = proto.temporal.api.enums.v1;
const { PinnedOverrideBehavior } = proto.temporal.api.workflow.v1.VersioningOverride;

// ---------------------------------------------------------------------------------------------------
// Build ids

/** What the build id hashes: the code a run executes (workflows, activities, library, in-container runtime) and its dependencies. */
export const CODE_PATHS = ['workflows', 'activities', 'lib', 'docker/runtime', 'worker.ts', 'package-lock.json'];
const SKIP = /^(node_modules|__pycache__|\..*)$|\.pyc$/;

/** Words that name no build: the CLI's `unversioned` and `none`, the report's `unrecorded`, the server's own. */
const RESERVED = new Set(['unversioned', 'none', 'unrecorded', '__unversioned__']);

/** A build id: an id (letters, digits, "_", "." or "-"), at most 100 characters, not a reserved word. */
export function isBuildId(text: string): boolean {
  return text.length <= 100 && isId(text) && !RESERVED.has(text);
}

/** A deployment name: letters, digits, "_" or "-" (the server forbids "." and ":"). */
export function isDeploymentName(text: string): boolean {
  return /^[A-Za-z0-9_-]{1,100}$/.test(text);
}

function filesUnder(root: string, rel: string, out: string[]): void {
  const abs = join(root, rel);
  if (!existsSync(abs)) return;
  if (!statSync(abs).isDirectory()) return void out.push(rel);
  for (const name of readdirSync(abs).sort()) if (!SKIP.test(name)) filesUnder(root, `${rel}/${name}`, out);
}

/**
 * The content hash of the code under `root` (CODE_PATHS: every file's path and bytes), as a 12-hex-digit build
 * id. It needs no git: a deployed copy of the tree gets the same id as the commit it was made from.
 */
export function contentBuildId(root = repoRoot): string {
  const files: string[] = [];
  for (const path of CODE_PATHS) filesUnder(root, path, files);
  const hash = createHash('sha256');
  for (const file of files) {
    const bytes = readFileSync(join(root, file));
    hash.update(`${file}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest('hex').slice(0, 12);
}

let thisBuild: string | undefined;

/** This checkout's build id: MLGYM_BUILD_ID, else the content hash of its code, computed once per process. */
export function codeBuildId(): string {
  if (process.env.MLGYM_BUILD_ID) return process.env.MLGYM_BUILD_ID;
  return (thisBuild ??= contentBuildId());
}

// ---------------------------------------------------------------------------------------------------
// The deployment a worker joins

/**
 * When a starting worker's version makes itself the deployment's current one: `if-none` when the deployment
 * has no current version (a first deploy); `if-new` also when this build was never current or ramping (new
 * code takes over; a superseded build started again, to finish its pinned runs, does not); `never`.
 */
export type Promotion = 'never' | 'if-none' | 'if-new';

export interface WorkerDeployment {
  version: WorkerDeploymentVersion;
  promote: Promotion;
}

export class DeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeploymentError';
  }
}

/** The default deployment name: MLGYM_DEPLOYMENT, else the task queue's name (so MLGYM_TASK_QUEUE separates deployments too). */
export function deploymentName(env: NodeJS.ProcessEnv = process.env): string {
  return env.MLGYM_DEPLOYMENT || TASK_QUEUE.replace(/[^A-Za-z0-9_-]+/g, '-');
}

/**
 * The deployment version of a worker of this process, from the environment (the `mlgym worker` flags set it):
 * undefined with MLGYM_VERSIONING=off (an unversioned worker). Without MLGYM_DEPLOYMENT (the embedded,
 * single-host default) the worker promotes itself `if-new`; with it (a managed rollout) only `if-none`.
 */
export function workerDeployment(env: NodeJS.ProcessEnv = process.env): WorkerDeployment | undefined {
  if (/^(off|false|0|no)$/i.test(env.MLGYM_VERSIONING ?? '')) return undefined;
  const version = { deploymentName: deploymentName(env), buildId: env.MLGYM_BUILD_ID || codeBuildId() };
  if (!isDeploymentName(version.deploymentName)) throw new DeploymentError(`invalid deployment name "${version.deploymentName}": letters, digits, "_" or "-"`);
  if (!isBuildId(version.buildId)) throw new DeploymentError(`invalid build id "${version.buildId}": letters, digits, "_", "." or "-", at most 100`);
  return { version, promote: env.MLGYM_DEPLOYMENT ? 'if-none' : 'if-new' };
}

/**
 * The versioning part of a worker's options: the caller's `workerDeploymentOptions` as given (the caller then
 * manages promotion), else this process's deployment (workerDeployment(), returned for promote()); runs are
 * PINNED to the build that started them. A versioned worker also records, for every run it executes an
 * activity of, that its build ran the run (`builds/<buildId>.json` in the run's records; the score activity
 * puts them in the result). Empty for an unversioned worker.
 */
export function versioningOptions(overrides: Partial<WorkerOptions>): { options: Partial<WorkerOptions>; deployment?: WorkerDeployment } {
  let deployment: WorkerDeployment | undefined;
  let settings = overrides.workerDeploymentOptions;
  if (!settings) {
    deployment = workerDeployment();
    if (deployment) settings = { version: deployment.version, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' };
  }
  if (!settings?.useWorkerVersioning) return { options: {} };
  const interceptors = { ...overrides.interceptors, activity: [recordBuild(settings.version), ...(overrides.interceptors?.activity ?? [])] };
  return { options: { workerDeploymentOptions: settings, interceptors }, deployment };
}

// ---------------------------------------------------------------------------------------------------
// Which builds ran a run

export const BUILDS_DIR = 'builds';

export interface BuildRecord {
  buildId: string;
  deploymentName: string;
  /** When a worker of this build first executed one of the run's activities, and which. */
  since: string;
  activity: string;
}

/**
 * An activity interceptor: before a run's activity executes, the record that this build ran it (once per run
 * and process; `once` keeps the first record).
 */
function recordBuild(version: WorkerDeploymentVersion): ActivityInterceptorsFactory {
  const recorded = new Set<string>();
  let store: Promise<ArtifactStore> | undefined;
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const { workflowType, workflowExecution, activityType } = ctx.info;
        const runId = workflowExecution?.workflowId;
        if (workflowType === 'agentRun' && runId && isId(runId) && !recorded.has(runId)) {
          store ??= import('../artifacts/store.js').then(({ ArtifactStore }) => new ArtifactStore());
          const record: BuildRecord = { buildId: version.buildId, deploymentName: version.deploymentName, since: new Date().toISOString(), activity: activityType };
          await (await store).once(runId, `${BUILDS_DIR}/${version.buildId}.json`, async () => record);
          if (recorded.size > 10_000) recorded.clear();
          recorded.add(runId);
        }
        return next(input);
      },
    },
  });
}

/** The builds that ran a run so far (sorted), from its records; [] for a run of unversioned workers. */
export async function runBuilds(store: ArtifactStore, runId: string): Promise<string[]> {
  const names = await store.list(runId, BUILDS_DIR);
  return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length)).sort();
}

// ---------------------------------------------------------------------------------------------------
// The server's Worker Deployment API

type Service = { workflowService: WorkflowService };
type VersionSummary = proto.temporal.api.deployment.v1.WorkerDeploymentInfo.IWorkerDeploymentVersionSummary;
type Timestamp = proto.google.protobuf.ITimestamp | null | undefined;

export type VersionStatus = 'current' | 'ramping' | 'draining' | 'drained' | 'inactive' | 'unknown';

export interface VersionView {
  buildId: string;
  status: VersionStatus;
  createdAt: string | null;
  /** Whether it ever received new runs (was current or ramping). */
  everActive: boolean;
}

export interface DeploymentView {
  deploymentName: string;
  current: string | null;
  ramping: { buildId: string | null; percent: number } | null;
  versions: VersionView[];
  /** The server is still applying the last routing change to the task queues. */
  propagating: boolean;
  conflictToken: Uint8Array;
}

const STATUS: Record<number, VersionStatus> = {
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE]: 'inactive',
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT]: 'current',
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING]: 'ramping',
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING]: 'draining',
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED]: 'drained',
};

function isoOf(ts: Timestamp): string | null {
  return ts?.seconds == null ? null : new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

function versionView(v: VersionSummary): VersionView {
  const status = STATUS[v.status ?? 0] ?? 'unknown';
  const everActive = status !== 'inactive' || Boolean(v.firstActivationTime ?? v.lastCurrentTime ?? v.currentSinceTime ?? v.rampingSinceTime);
  return { buildId: v.deploymentVersion?.buildId ?? v.version?.split('.').slice(1).join('.') ?? '', status, createdAt: isoOf(v.createTime), everActive };
}

/** gRPC NOT_FOUND. */
function notFound(err: unknown): boolean {
  return (err as { code?: number }).code === 5;
}

export function identity(): string {
  return `mlgym ${process.pid}@${hostname()}`;
}

/** The deployment's versions and routing; undefined when the server has no such deployment (no worker ever joined it). */
export async function describeDeployment(service: Service, namespace: string, name: string): Promise<DeploymentView | undefined> {
  let response;
  try {
    response = await service.workflowService.describeWorkerDeployment({ namespace, deploymentName: name });
  } catch (err) {
    if (notFound(err)) return undefined;
    throw err;
  }
  const info = response.workerDeploymentInfo;
  const routing = info?.routingConfig;
  const rampingBuild = routing?.rampingDeploymentVersion?.buildId || null;
  const rampPercent = routing?.rampingVersionPercentage ?? 0;
  return {
    deploymentName: name,
    current: routing?.currentDeploymentVersion?.buildId || null,
    ramping: rampingBuild || rampPercent ? { buildId: rampingBuild, percent: rampPercent } : null,
    versions: (info?.versionSummaries ?? []).map(versionView).sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '')),
    propagating: info?.routingConfigUpdateState === RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS,
    conflictToken: response.conflictToken,
  };
}

/** The deployment names on the server. */
export async function listDeployments(service: Service, namespace: string): Promise<string[]> {
  const names: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await service.workflowService.listWorkerDeployments({ namespace, nextPageToken });
    names.push(...(page.workerDeployments ?? []).map((d) => d.name ?? ''));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return names.filter(Boolean).sort();
}

async function versionOrFail(service: Service, namespace: string, version: WorkerDeploymentVersion): Promise<DeploymentView> {
  const view = await describeDeployment(service, namespace, version.deploymentName);
  if (!view) throw new DeploymentError(`no deployment "${version.deploymentName}" on the server: no worker has joined it yet`);
  if (!view.versions.some((v) => v.buildId === version.buildId)) {
    throw new DeploymentError(`no build "${version.buildId}" in deployment "${version.deploymentName}" (builds: ${view.versions.map((v) => v.buildId).join(', ') || 'none'}): start a worker of it first`);
  }
  return view;
}

/** How long a routing change waits for the new version's pollers to reach the server (each of its workers polls several queues). */
export const POLLERS_WAIT_MS = 60_000;

/**
 * A routing change, retried while the server refuses it for pollers that have not reached it yet (a version
 * whose workers just started lacks some of the current version's task queues for a moment).
 */
async function whenPollersArrive<T>(change: () => Promise<T>, waitMs: number): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await change();
    } catch (err) {
      const { details, message } = err as { details?: string; message?: string };
      const pollers = /missing (active )?task queues|no pollers/i.test(details ?? message ?? '');
      if (!pollers || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export interface RoutingOptions {
  /** Skip the checks: the build need not serve the current (or the moved run's) build's task queues, nor have pollers. */
  force?: boolean;
  /** How long to wait for the build's workers to serve every task queue the current (or the moved run's) build serves (default a minute). */
  pollersWaitMs?: number;
}

/** The deployment before a routing change to `buildId`, once that build serves every task queue of the current one (unless `force`). */
async function beforeRouting(service: Service, namespace: string, name: string, buildId: string | null, { force, pollersWaitMs }: Required<RoutingOptions>): Promise<DeploymentView> {
  const view = buildId === null ? await describeDeployment(service, namespace, name) : await versionOrFail(service, namespace, { deploymentName: name, buildId });
  if (!view) throw new DeploymentError(`no deployment "${name}" on the server: no worker has joined it yet`);
  if (!force && buildId !== null && view.current !== null && view.current !== buildId) await untilServesQueuesOf(service, namespace, name, buildId, view.current, pollersWaitMs);
  return view;
}

/** What every routing change tells the server: the deployment, the build, who asks, and whether its own checks are skipped. */
function routingRequest(namespace: string, name: string, buildId: string | null, force: boolean) {
  return { namespace, deploymentName: name, buildId: buildId ?? '', identity: identity(), ignoreMissingTaskQueues: force, allowNoPollers: force };
}

/**
 * Make a version the current one (`buildId` null: the unversioned workers): new runs go to it; pinned runs stay
 * where they are. Unless `force`, it must serve every task queue the current version serves (waited for, see
 * untilServesQueuesOf); returns once the task queues route by the change.
 */
export async function setCurrentVersion(service: Service, namespace: string, name: string, buildId: string | null, { force = false, pollersWaitMs = POLLERS_WAIT_MS }: RoutingOptions = {}): Promise<{ previous: string | null }> {
  const view = await beforeRouting(service, namespace, name, buildId, { force, pollersWaitMs });
  await whenPollersArrive(() => service.workflowService.setWorkerDeploymentCurrentVersion(routingRequest(namespace, name, buildId, force)), pollersWaitMs);
  await untilRoutingApplied(service, namespace, name, { current: buildId }, buildId ?? view.current);
  return { previous: view.current };
}

/**
 * Send `percent` of new runs to `buildId` instead of the current version (`null`: stop ramping). Runs are
 * assigned by their id, so a run started again under the same id lands on the same side. The same checks and
 * wait as setCurrentVersion.
 */
export async function setRampingVersion(service: Service, namespace: string, name: string, buildId: string | null, percent: number, { force = false, pollersWaitMs = POLLERS_WAIT_MS }: RoutingOptions = {}): Promise<void> {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new DeploymentError(`a ramp is a percentage from 0 to 100, got ${percent}`);
  const view = await beforeRouting(service, namespace, name, buildId, { force, pollersWaitMs });
  const request = { ...routingRequest(namespace, name, buildId, force), percentage: buildId === null ? 0 : percent };
  await whenPollersArrive(() => service.workflowService.setWorkerDeploymentRampingVersion(request), pollersWaitMs);
  await untilRoutingApplied(service, namespace, name, { ramping: buildId, percent }, buildId ?? view.ramping?.buildId ?? null);
}

interface VersionQueue {
  name: string;
  type: number;
}

const QUEUE_KIND: Record<number, string> = { [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW]: 'workflow', [TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]: 'activity', [TaskQueueType.TASK_QUEUE_TYPE_NEXUS]: 'nexus' };

/** The task queues a version's workers have polled. */
async function versionQueues(service: Service, namespace: string, version: WorkerDeploymentVersion): Promise<VersionQueue[]> {
  const { versionTaskQueues } = await service.workflowService.describeWorkerDeploymentVersion({ namespace, deploymentVersion: version });
  return (versionTaskQueues ?? []).map((q) => ({ name: q.name ?? '', type: q.type ?? 0 }));
}

/**
 * Wait until build `target` serves every task queue build `current` serves. The server's own check leaves out
 * queues it sees as idle, and a worker's queues reach it one poller at a time: a run on a build without, say,
 * its host queue sends that queue's activities to the build that has it, the old code.
 */
async function untilServesQueuesOf(service: Service, namespace: string, name: string, target: string, current: string, waitMs: number): Promise<void> {
  const theirs = await versionQueues(service, namespace, { deploymentName: name, buildId: current });
  const deadline = Date.now() + waitMs;
  for (;;) {
    const mine = await versionQueues(service, namespace, { deploymentName: name, buildId: target });
    const missing = theirs.filter((q) => !mine.some((m) => m.name === q.name && m.type === q.type));
    if (!missing.length) return;
    if (Date.now() > deadline) {
      const queues = missing.map((q) => `${q.name} (${QUEUE_KIND[q.type] ?? 'unknown'})`).join(', ');
      throw new DeploymentError(
        `build "${target}" does not serve task queue(s) ${queues}, which build "${current}" serves: its runs would send that work to "${current}". ` +
          `Start "${target}"'s workers wherever "${current}"'s workers run, or pass --force`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** How long a routing change may take to reach the task queues before the command gives up waiting. */
const ROUTING_WAIT_MS = 60_000;

/** A routing change: a new current version, or a new ramp (`ramping` null: none). A null build is the unversioned workers. */
type RoutingChange = { current: string | null } | { ramping: string | null; percent: number };

type QueueRouting = proto.temporal.api.taskqueue.v1.ITaskQueueVersioningInfo | null | undefined;

function deploymentHas(view: DeploymentView, change: RoutingChange): boolean {
  if ('current' in change) return view.current === change.current;
  return (view.ramping?.buildId ?? null) === change.ramping && (change.ramping === null || view.ramping?.percent === change.percent);
}

function queueHas(info: QueueRouting, change: RoutingChange): boolean {
  if ('current' in change) return (info?.currentDeploymentVersion?.buildId || null) === change.current;
  return (info?.rampingDeploymentVersion?.buildId || null) === change.ramping && (change.ramping === null || info?.rampingVersionPercentage === change.percent);
}

/**
 * Wait until a routing change the server accepted has reached the task queues. The server applies it to them
 * asynchronously: until then a run started right after `set-current` can still start on the previous build.
 * Done when the deployment reports the change, with no propagation in progress, and each task queue of build
 * `queuesOf` reports it too.
 */
async function untilRoutingApplied(service: Service, namespace: string, name: string, change: RoutingChange, queuesOf: string | null): Promise<void> {
  const queues = queuesOf === null ? [] : await versionQueues(service, namespace, { deploymentName: name, buildId: queuesOf });
  const deadline = Date.now() + ROUTING_WAIT_MS;
  for (;;) {
    const view = await describeDeployment(service, namespace, name);
    let waitingFor = 'the deployment';
    if (view && deploymentHas(view, change) && !view.propagating) {
      const routing = await Promise.all(
        queues.map(async (q) => (await service.workflowService.describeTaskQueue({ namespace, taskQueue: { name: q.name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL }, taskQueueType: q.type })).versioningInfo),
      );
      const lagging = [...new Set(queues.filter((_, i) => !queueHas(routing[i], change)).map((q) => q.name))];
      if (!lagging.length) return;
      waitingFor = `task queue(s) ${lagging.join(', ')}`;
    }
    if (Date.now() > deadline) {
      throw new DeploymentError(`the server accepted the change to "${name}", but after ${ROUTING_WAIT_MS / 1000} s ${waitingFor} did not route by it yet: new runs may still start by the earlier routing (see mlgym deployment list)`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export type PromotionOutcome = 'current' | 'made-current' | 'not-current';

/**
 * Apply a starting worker's promotion rule (see Promotion). Runs before the worker polls: the server is told
 * not to wait for pollers. Losing a race to another worker's promotion is not an error.
 */
export async function promote(service: Service, namespace: string, { version, promote: rule }: WorkerDeployment): Promise<PromotionOutcome> {
  const view = await describeDeployment(service, namespace, version.deploymentName);
  if (view?.current === version.buildId) return 'current';
  const mine = view?.versions.find((v) => v.buildId === version.buildId);
  const due = rule !== 'never' && (!view?.current || (rule === 'if-new' && !mine?.everActive));
  if (!due) return 'not-current';
  try {
    await service.workflowService.setWorkerDeploymentCurrentVersion({
      namespace,
      deploymentName: version.deploymentName,
      buildId: version.buildId,
      identity: identity(),
      allowNoPollers: true,
      ignoreMissingTaskQueues: rule === 'if-new',
      ...(view ? { conflictToken: view.conflictToken } : {}),
    });
    return 'made-current';
  } catch (err) {
    // Another worker changed the deployment between our read and write: its choice stands.
    const now = await describeDeployment(service, namespace, version.deploymentName);
    if (now?.current === version.buildId) return 'current';
    if (now && now.conflictToken.toString() !== view?.conflictToken.toString()) return 'not-current';
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// Runs and versions

/** The visibility query of the open workflows (runs, benchmarks) pinned to a version. */
export function openOnVersionQuery({ deploymentName, buildId }: WorkerDeploymentVersion): string {
  return `TemporalWorkerDeploymentVersion = '${deploymentName}:${buildId}' AND ExecutionStatus = 'Running'`;
}

export interface OpenWorkflow {
  workflowId: string;
  type: string;
}

/** The open workflows on a version (by the server's visibility, which trails a closing workflow by a moment). */
export async function openOnVersion(client: Client, version: WorkerDeploymentVersion): Promise<OpenWorkflow[]> {
  const open: OpenWorkflow[] = [];
  for await (const w of client.workflow.list({ query: openOnVersionQuery(version) })) open.push({ workflowId: w.workflowId, type: w.type });
  return open.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}

export interface DrainResult {
  /** Open workflows still on the version (none when drained). */
  open: OpenWorkflow[];
  /** The ramp was taken off it. */
  unramped: boolean;
}

/**
 * Drain a version: it must not be current; if it is ramping, the ramp stops (no new runs go to it); then its
 * open pinned workflows are listed, and with `wait`, polled until there are none. Then its workers can stop.
 */
export async function drainVersion(client: Client, namespace: string, version: WorkerDeploymentVersion, opts: { wait?: boolean; pollMs?: number; onWaiting?: (open: OpenWorkflow[]) => void } = {}): Promise<DrainResult> {
  const view = await versionOrFail(client, namespace, version);
  if (view.current === version.buildId) throw new DeploymentError(`build "${version.buildId}" is the current version of "${version.deploymentName}": make another build current first (mlgym deployment set-current <build>)`);
  const unramped = view.ramping?.buildId === version.buildId;
  if (unramped) await setRampingVersion(client, namespace, version.deploymentName, null, 0);
  let last = '';
  for (;;) {
    const open = await openOnVersion(client, version);
    if (!opts.wait || !open.length) return { open, unramped };
    const key = open.map((w) => w.workflowId).join(',');
    if (key !== last) opts.onWaiting?.(open);
    last = key;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
  }
}

export interface RunVersion {
  behavior: 'pinned' | 'auto-upgrade' | 'unversioned';
  /** The build its tasks go to now (the override's, when it has one). */
  buildId: string | null;
  deploymentName: string | null;
  /** Set by an operator (`mlgym deployment move`). */
  override: 'pinned' | 'auto-upgrade' | null;
}

/** Where a workflow runs, from its description. */
export function runVersion(description: WorkflowExecutionDescription): RunVersion {
  const info = description.raw.workflowExecutionInfo?.versioningInfo;
  const override = info?.versioningOverride;
  const overrideKind = override?.pinned || override?.behavior === VersioningBehavior.VERSIONING_BEHAVIOR_PINNED ? 'pinned' : override?.autoUpgrade || override?.behavior === VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE ? 'auto-upgrade' : null;
  const pinnedTo = override?.pinned?.version;
  const version = pinnedTo?.buildId ? pinnedTo : info?.deploymentVersion;
  const behavior = overrideKind ?? (info?.behavior === VersioningBehavior.VERSIONING_BEHAVIOR_PINNED ? 'pinned' : info?.behavior === VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE ? 'auto-upgrade' : 'unversioned');
  return { behavior, buildId: version?.buildId || null, deploymentName: version?.deploymentName || null, override: overrideKind };
}

/** A build's workflow code would not reproduce a run's history: moving the run there would break it. */
export class ReplayMismatchError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayMismatchError';
  }
}

export type MoveTarget = WorkerDeploymentVersion | 'auto-upgrade';

export interface MoveResult {
  runId: string;
  from: RunVersion;
  to: string;
  /** The run's history was replayed against `workflowsPath` before (and after) the move. */
  checked: boolean;
}

/**
 * A check of workflow histories against the workflow code at `workflowsPath` (bundled once): the returned
 * function replays a workflow's history (of its current execution) and throws ReplayMismatchError when that
 * code would not reproduce it (a nondeterminism error on that build).
 */
export async function replayChecker(client: Client, workflowsPath: string): Promise<(workflowId: string) => Promise<void>> {
  const [{ Worker }, { bundleWorkflows }] = await Promise.all([import('@temporalio/worker'), import('./workflowBundle.js')]);
  const workflowBundle = await bundleWorkflows(workflowsPath);
  return async (workflowId) => {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    try {
      await Worker.runReplayHistory({ workflowBundle }, history, workflowId);
    } catch (err) {
      throw new ReplayMismatchError(`the code at ${workflowsPath} does not replay ${workflowId}'s history: ${(err as Error).message}`);
    }
  };
}

/**
 * Move a running workflow to other code: pin it to `to` (a versioning override; it stays there) or let it
 * follow the current version (`auto-upgrade`). The new build's worker replays the history, so the change
 * must be replay-safe (patched(); docs/versioning.md). With `workflowsPath` (the target build's workflows
 * module) the history is replayed against it first, and again after the move (events the old build added
 * meanwhile); when that second check fails, the run is pinned back where it was.
 */
export async function moveRun(client: Client, namespace: string, runId: string, to: MoveTarget, opts: { workflowsPath?: string } & RoutingOptions = {}): Promise<MoveResult> {
  const handle = client.workflow.getHandle(runId);
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') throw new DeploymentError(`run "${runId}" is ${description.status.name.toLowerCase()}: only a running run can move`);
  const from = runVersion(description);
  if (to !== 'auto-upgrade') {
    await versionOrFail(client, namespace, to);
    if (!opts.force && from.buildId && from.deploymentName === to.deploymentName && from.buildId !== to.buildId) {
      await untilServesQueuesOf(client, namespace, to.deploymentName, to.buildId, from.buildId, opts.pollersWaitMs ?? POLLERS_WAIT_MS);
    }
  }
  const check = opts.workflowsPath ? await replayChecker(client, opts.workflowsPath) : undefined;
  await check?.(runId);
  const override = (target: MoveTarget) =>
    target === 'auto-upgrade' ? { autoUpgrade: true } : { pinned: { behavior: PinnedOverrideBehavior.PINNED_OVERRIDE_BEHAVIOR_PINNED, version: { deploymentName: target.deploymentName, buildId: target.buildId } } };
  const update = (target: MoveTarget) =>
    client.workflowService.updateWorkflowExecutionOptions({
      namespace,
      workflowExecution: { workflowId: runId },
      workflowExecutionOptions: { versioningOverride: override(target) },
      updateMask: { paths: ['versioning_override'] },
      identity: identity(),
    });
  await update(to);
  if (check) {
    try {
      await check(runId);
    } catch (err) {
      if (from.buildId && from.deploymentName) await update({ deploymentName: from.deploymentName, buildId: from.buildId });
      throw err;
    }
  }
  return { runId, from, to: to === 'auto-upgrade' ? 'auto-upgrade' : to.buildId, checked: Boolean(opts.workflowsPath) };
}
