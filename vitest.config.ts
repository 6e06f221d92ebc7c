import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real boots of the test guest take many minutes and need root: `npm run test:guest` (vitest.guest.config.ts).
    exclude: ['test/guest/**', '**/node_modules/**'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
