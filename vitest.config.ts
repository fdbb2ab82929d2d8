import { defineConfig } from 'vitest/config';
import LongestFirst from './tests/sequencer.js';

/**
 * Three tiers. `unit` needs neither Docker nor a Temporal server (`npm run test:unit`); `workflow`
 * runs the workflows against stub activities on the time-skipping test server; `integration` uses the
 * real dev server and Docker engine that its global set-up starts and checks. `npm test` runs these three;
 * `engine` (a Docker engine restart) runs only by name.
 *
 * Vitest runs the projects of one `sequence.groupOrder` together, with one worker count: first the unit
 * tier, then the workflow and integration tiers together, three files at a time. Most integration files
 * wait on containers, the dev server and timers rather than compute, so three in flight on a 2-core
 * machine take about half the time of one. Every file uses its own task queues and run ids; a file that
 * cannot share the shared task queue says so with `useExclusively` (tests/helpers/exclusive.ts).
 */
const PARALLEL_FILES = 3;

export default defineConfig({
  test: {
    // The Temporal core bridge is a native addon: test files run in child processes.
    pool: 'forks',
    sequence: { sequencer: LongestFirst },
    projects: [
      // Two files at a time even on a 2-core machine (vitest's default there is one): most unit files wait
      // on python3 child processes, so two in flight keep both cores busy.
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], pool: 'forks', maxWorkers: 2, sequence: { groupOrder: 0 }, testTimeout: 30_000 } },
      // Each file starts its own time-skipping server.
      {
        test: {
          name: 'workflow',
          include: ['tests/workflow/**/*.test.ts'],
          pool: 'forks',
          maxWorkers: PARALLEL_FILES,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/browser/**/*.test.ts'],
          exclude: ['tests/integration/engineRestart.test.ts'],
          pool: 'forks',
          maxWorkers: PARALLEL_FILES,
          sequence: { groupOrder: 1 },
          testTimeout: 300_000,
          hookTimeout: 300_000,
          globalSetup: ['tests/globalSetup.ts'],
        },
      },
      // Restarts the Docker engine, stopping every container on the machine: only when asked for by name
      // (`npx vitest run --project engine`), never in `npm test`.
      {
        test: {
          name: 'engine',
          include: ['tests/integration/engineRestart.test.ts'],
          pool: 'forks',
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
          testTimeout: 300_000,
          hookTimeout: 300_000,
          globalSetup: ['tests/globalSetup.ts'],
        },
      },
    ],
  },
});
