import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The Temporal core bridge is a native addon: run test files in child processes, one at a time,
    // because they share one dev server and one Docker engine on a 2-core machine.
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    globalSetup: ['tests/globalSetup.ts'],
    include: ['tests/**/*.test.ts'],
  },
});
