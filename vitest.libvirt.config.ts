import { defineConfig } from 'vitest/config';
import { LOOPBACK_ENV } from './test/support/loopback-env.js';

// `npm run test:libvirt`: the tests on real libvirt + qemu (qemu:///system, blank images, no OS boots). Each suite
// skips with the reason when virsh, qemu or libvirtd is missing (test/support/libvirt-probe.ts); .ci/run sets
// CNVM_REQUIRE_LIBVIRT=1 so there a missing piece fails instead. Every file names its domains, volumes and
// directories after its own pid, so files run in parallel (most of the time is libvirt and qemu, not this process).
export default defineConfig({
  test: {
    include: ['test/**/*.libvirt.test.ts'],
    exclude: ['test/guest/**', '**/node_modules/**'],
    globalSetup: ['test/support/build-dist.ts', 'test/support/github-stand-in.ts', 'test/support/sandbox-root.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    env: { ...LOOPBACK_ENV },
    pool: 'forks',
  },
});
