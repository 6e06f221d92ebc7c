import { defineConfig } from 'vitest/config';

// `npm run test:guest`: boots of the test guest built by test/guest/build.sh. One file at a time, tests in order:
// the machine has few cores and the tests share one data disk.
export default defineConfig({
  test: {
    include: ['test/guest/**/*.test.ts'],
    globalSetup: ['test/support/build-dist.ts', 'test/support/sandbox-root.ts'],
    testTimeout: 25 * 60_000,
    hookTimeout: 25 * 60_000,
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
