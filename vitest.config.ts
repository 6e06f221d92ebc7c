import { defineConfig } from 'vitest/config';
import { LOOPBACK_ENV } from './test/support/loopback-env.js';

// `npm test`: unit tests, stateful fakes and moto. Real libvirt + qemu (`*.libvirt.test.ts`) runs in
// `npm run test:libvirt` (vitest.libvirt.config.ts); real boots of the test guest in `npm run test:guest`
// (vitest.guest.config.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/guest/**', 'test/**/*.libvirt.test.ts', '**/node_modules/**'],
    // Builds dist/ first when it is missing or stale, so `npm test` works right after `npm ci`; GitHub's releases
    // API is the loopback stand-in github-stand-in.ts starts (CNVM_GITHUB_API_URL).
    globalSetup: ['test/support/build-dist.ts', 'test/support/github-stand-in.ts', 'test/support/sandbox-root.ts'],
    testTimeout: 60_000,
    // Tests reach nothing but loopback (test/support/loopback-env.ts).
    env: { ...LOOPBACK_ENV },
    pool: 'forks',
    // Two files at a time, though the machine may have only two cores: most files wait on a peer process (moto,
    // a spawned cnvm), so one worker left a core idle (vitest's default is one fewer than the cores).
    maxWorkers: 2,
    minWorkers: 1,
  },
});
