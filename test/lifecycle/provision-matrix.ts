// The provision fault matrix, run against every provider: kill the first provision before and after each of its
// provider calls, re-run it, and check the password invariant (the password the completing run shows is the one
// in the VM's config) and that there is one data volume, on at most one VM.
import { expect, it } from 'vitest';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import { passwordInConfig, provisionVm, tempStore } from '../support/lifecycle.js';
import { crashingRun, type MatrixHarness } from './upgrade-matrix.js';

export interface ProvisionMatrixHarness extends MatrixHarness {
  /** The Ignition config the provider holds for a VM (libvirt file, EC2 user data, GCE metadata). */
  ignitionOf(vmName: string): Promise<string>;
}

export function provisionFaultMatrix(label: string, makeHarness: () => Promise<ProvisionMatrixHarness>, timeout = 60_000): void {
  it(`${label}: provision killed before/after each provider call, then re-run: the password shown is the one set`, async () => {
    // Count the calls of a clean first provision.
    let n = 0;
    {
      const h = await makeHarness();
      const store = tempStore();
      try {
        const before = h.callCount();
        const r = await provisionVm(h.provider, store, h.name, h.imageA);
        n = h.callCount() - before;
        expect(passwordInConfig(await h.ignitionOf(h.name))).toBe(r.generatedAdminPassword);
      } finally {
        store.cleanup();
        await h.cleanup();
      }
    }
    expect(n).toBeGreaterThanOrEqual(3);
    for (const when of ['before', 'after'] as const) {
      for (let point = 1; point <= n; point++) {
        const h = await makeHarness();
        const store = tempStore();
        try {
          h.crashAt(point, when);
          expect(await crashingRun(() => provisionVm(h.provider, store, h.name, h.imageA)), `crash ${when} call ${point}`).toBe(true);
          const r = await provisionVm(h.provider, store, h.name, h.imageA);
          expect(r.generatedAdminPassword, `crash ${when} call ${point}: the completing run shows it`).toBeDefined();
          expect(passwordInConfig(await h.ignitionOf(r.vm.name))).toBe(r.generatedAdminPassword);
          expect(r.vm.state).toBe('running');
          const { volumes } = await h.provider.list();
          expect(volumes.filter((v) => v.name === dataVolumeName(h.name))).toHaveLength(1);
          expect(await h.maxAttachments()).toBeLessThanOrEqual(1);
          // A third run changes nothing and shows nothing.
          expect((await provisionVm(h.provider, store, h.name, h.imageA)).generatedAdminPassword).toBeUndefined();
        } finally {
          store.cleanup();
          await h.cleanup();
        }
      }
    }
  }, timeout * 8);
}
