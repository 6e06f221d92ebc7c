import { defineConfig } from 'vitest/config';
import { LOOPBACK_ENV } from './test/support/loopback-env.js';

// `npm test`: unit tests, the stateful fakes and moto. Real libvirt/qemu (`*.libvirt.test.ts`) is
// `npm run test:libvirt` (vitest.libvirt.config.ts); real boots of the test guest are `npm run test:guest`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/guest/**', 'test/**/*.libvirt.test.ts', '**/node_modules/**'],
    // Builds dist/ first when it is missing or stale, so `npm test` works right after `npm ci`.
    globalSetup: ['test/support/build-dist.ts'],
    testTimeout: 60_000,
    // Tests reach nothing but loopback (test/support/loopback-env.ts).
    env: { ...LOOPBACK_ENV },
    pool: 'forks',
  },
});
