import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real boots of the test guest take many minutes and need root: `npm run test:guest` (vitest.guest.config.ts).
    exclude: ['test/guest/**', '**/node_modules/**'],
    // Builds dist/ first when it is missing or stale, so `npm test` works right after `npm ci`.
    globalSetup: ['test/support/build-dist.ts', 'test/support/github-stand-in.ts'],
    testTimeout: 60_000,
    // Tests reach nothing but loopback: the operator-address lookup goes to a closed loopback port unless a test
    // starts its own echo server, GitHub is the stand-in github-stand-in.ts starts (CNVM_GITHUB_API_URL), and
    // neither cloud SDK probes an instance metadata service.
    env: { CNVM_PUBLIC_IP_URL: 'http://127.0.0.1:9/', CNVM_STREAM_BASE_URL: 'http://127.0.0.1:9/streams', AWS_EC2_METADATA_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none' },
    pool: 'forks',
  },
});
