// The provision fault matrix, run against every provider: kill the first provision before and after each of its
// provider calls, re-run it, and check the password invariant (the password the completing run shows is the one
// the VM's first boot got), that there is one data volume on at most one VM, that a reserved address (providers
// that reserve one) is on the VM holding the volume, and that once the gate passed the stored config no longer
// carries the password wherever the adapter could replace it.
import { expect, it } from 'vitest';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import type { ProvisionResult } from '../../src/lifecycle/provision.js';
import type { StateStore } from '../../src/lifecycle/store.js';
import { passwordInConfig, provisionVm, tempStore } from '../support/lifecycle.js';
import { crashingRun, expectAddressFollowsVolume, type MatrixHarness } from './upgrade-matrix.js';

export interface ProvisionMatrixHarness extends MatrixHarness {
  /** The Ignition config the provider holds for a VM (libvirt file, EC2 user data, GCE metadata). */
  ignitionOf(vmName: string): Promise<string>;
}

/**
 * Provisions with a gate whose check reads the stored config: what the gate sees is what the first boot ran (nothing
 * replaces it before the gate passes), kept from the first run that reached the gate.
 */
function gatedProvision(h: ProvisionMatrixHarness, store: StateStore, seen: { password?: string | undefined; reached: boolean }): Promise<ProvisionResult> {
  return provisionVm(h.provider, store, h.name, h.imageA, {
    healthCheck: async (vm) => {
      if (!seen.reached) Object.assign(seen, { reached: true, password: passwordInConfig(await h.ignitionOf(vm.name)) });
      return true;
    },
  });
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
        const seen: { password?: string; reached: boolean } = { reached: false };
        const r = await gatedProvision(h, store, seen);
        n = h.callCount() - before;
        expect(seen).toEqual({ reached: true, password: r.generatedAdminPassword });
        if (r.storedConfig === 'replaced') expect(passwordInConfig(await h.ignitionOf(h.name))).toBeUndefined();
        else expect(r.storedConfig).toMatch(/^(deferred|unsupported)$/);
        // A VM with no network reports no address: the result says why instead of printing nothing.
        if (r.url === undefined) expect(r.urlMissing).toMatch(/^no address yet/);
        else expect(r.url).toMatch(/^https:\/\//);
        await expectAddressFollowsVolume(h, 'clean run');
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
        const at = `crash ${when} call ${point}`;
        try {
          const seen: { password?: string; reached: boolean } = { reached: false };
          h.crashAt(point, when);
          expect(await crashingRun(() => gatedProvision(h, store, seen)), at).toBe(true);
          const r = await gatedProvision(h, store, seen);
          expect(r.generatedAdminPassword, `${at}: the completing run shows it`).toBeDefined();
          expect(seen.password, `${at}: the first boot got the password shown`).toBe(r.generatedAdminPassword);
          if (r.storedConfig === 'replaced' || r.storedConfig === 'no-password') expect(passwordInConfig(await h.ignitionOf(r.vm.name)), `${at}: scrubbed`).toBeUndefined();
          expect(r.vm.state).toBe('running');
          const { volumes } = await h.provider.list();
          expect(volumes.filter((v) => v.name === dataVolumeName(h.name))).toHaveLength(1);
          expect(await h.maxAttachments()).toBeLessThanOrEqual(1);
          await expectAddressFollowsVolume(h, at);
          // A third run changes nothing and shows nothing.
          const third = await gatedProvision(h, store, seen);
          expect(third.generatedAdminPassword).toBeUndefined();
          expect(third.url).toBe(r.url);
        } finally {
          store.cleanup();
          await h.cleanup();
        }
      }
    }
  }, timeout * 8);
}
