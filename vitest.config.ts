import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import LongestFirst from './tests/sequencer.js';

/**
 * The tiers. `unit` needs neither Docker nor a Temporal server (`npm run test:unit`); `workflow` runs the
 * workflows against stub activities on the time-skipping test server; `training` trains and grades the
 * GPU-scale tasks on their fixture data, compute-bound; `integration` uses the real dev server and Docker
 * engine (like `training`, through the global set-up that starts and checks them). `npm test` runs these four;
 * `engine` (a Docker engine restart) runs only by name.
 *
 * Vitest runs the projects of one `sequence.groupOrder` together, with one worker count: first the unit
 * tier, then the other three, PARALLEL_FILES files at a time, longest first (tests/sequencer.ts), so the
 * training files start together, each about one core of single-threaded training, and the files that
 * mostly wait on containers, the dev server and timers fill the slots as they end. Every file uses its own
 * task queues and run ids; a file that cannot share the shared task queue says so with `useExclusively`
 * (tests/helpers/exclusive.ts).
 */
const PARALLEL_FILES = 4;
/**
 * The projects that use the real dev server and Docker engine, started and checked by the global set-up. The
 * fixture tasks (tests/fixtures/tasks) resolve by id there, as MLGYM_TASKS_PATH makes a user's own tasks do.
 */
const realServices = {
  pool: 'forks' as const,
  testTimeout: 300_000,
  hookTimeout: 300_000,
  globalSetup: ['tests/globalSetup.ts'],
  env: { MLGYM_TASKS_PATH: fileURLToPath(new URL('./tests/fixtures/tasks', import.meta.url)) },
};
const inParallel = { maxWorkers: PARALLEL_FILES, sequence: { groupOrder: 1 } };

export default defineConfig({
  test: {
    // The Temporal core bridge is a native addon: test files run in child processes.
    pool: 'forks',
    sequence: { sequencer: LongestFirst },
    projects: [
      // Two files at a time even on a 2-core machine (vitest's default there is one): most unit files wait
      // on python3 child processes, so two in flight keep both cores busy. Not isolated: the files of a
      // worker share its loaded modules (pure code, no servers), which saves most of the tier's import time.
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], pool: 'forks', isolate: false, maxWorkers: 2, sequence: { groupOrder: 0 }, testTimeout: 30_000 } },
      {
        test: {
          name: 'training',
          include: ['tests/training/**/*.test.ts'],
          ...realServices,
          ...inParallel,
          // Only stops a hung test: the longest trains for about 180 s here, ~250 s on a 1.4 times slower 2-core machine.
          testTimeout: 600_000,
        },
      },
      // Each file starts its own time-skipping server.
      {
        test: {
          name: 'workflow',
          include: ['tests/workflow/**/*.test.ts'],
          pool: 'forks',
          ...inParallel,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/browser/**/*.test.ts'],
          exclude: ['tests/integration/engineRestart.test.ts'],
          ...realServices,
          ...inParallel,
        },
      },
      // Restarts the Docker engine, stopping every container on the machine: only when asked for by name
      // (`npx vitest run --project engine`), never in `npm test`.
      {
        test: {
          name: 'engine',
          include: ['tests/integration/engineRestart.test.ts'],
          ...realServices,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
