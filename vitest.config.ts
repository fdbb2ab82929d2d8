import { defineConfig } from 'vitest/config';

/**
 * Three tiers. `unit` needs neither Docker nor a Temporal server (`npm run test:unit`); `workflow`
 * runs the workflows against stub activities on the time-skipping test server; `integration` uses the
 * real dev server and Docker engine that its global set-up starts and checks. `npm test` runs these three;
 * `engine` (a Docker engine restart) runs only by name.
 */
export default defineConfig({
  test: {
    // The Temporal core bridge is a native addon: test files run in child processes.
    pool: 'forks',
    projects: [
      // Two files at a time even on a 2-core machine (vitest's default there is one): most unit files wait
      // on python3 child processes, so two in flight keep both cores busy.
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], pool: 'forks', maxWorkers: 2, testTimeout: 30_000 } },
      // Each file starts its own time-skipping server; one file at a time on a 2-core machine.
      { test: { name: 'workflow', include: ['tests/workflow/**/*.test.ts'], pool: 'forks', fileParallelism: false, testTimeout: 60_000, hookTimeout: 60_000 } },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/browser/**/*.test.ts'],
          exclude: ['tests/integration/engineRestart.test.ts'],
          // They share one dev server and one Docker engine on a 2-core machine: one file at a time.
          pool: 'forks',
          fileParallelism: false,
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
          testTimeout: 300_000,
          hookTimeout: 300_000,
          globalSetup: ['tests/globalSetup.ts'],
        },
      },
    ],
  },
});
