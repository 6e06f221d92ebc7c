import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real boots of the test guest take many minutes and need root: `npm run test:guest` (vitest.guest.config.ts).
    exclude: ['test/guest/**', '**/node_modules/**'],
    // Builds dist/ first when it is missing or stale, so `npm test` works right after `npm ci`.
    globalSetup: ['test/support/build-dist.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
