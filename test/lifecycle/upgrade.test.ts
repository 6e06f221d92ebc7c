// Upgrade against the stateful in-memory provider: order of operations, downtime, plan, and the full fault matrix.
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { destroy, planDestroy } from '../../src/lifecycle/destroy.js';
import { Journal } from '../../src/lifecycle/journal.js';
import { planProvision } from '../../src/lifecycle/provision.js';
import { status } from '../../src/lifecycle/status.js';
import { planUpgrade, upgrade, UpgradeRolledBackError } from '../../src/lifecycle/upgrade.js';
import { createFakeProvider, type FakeOptions } from '../support/fake-provider.js';
import { passwordInConfig, provisionInput, provisionVm, tempStore } from '../support/lifecycle.js';
import { provisionFaultMatrix, type ProvisionMatrixHarness } from './provision-matrix.js';
import { upgradeFaultMatrix } from './upgrade-matrix.js';

const A = { id: 'image-a', version: 'A' };
const B = { id: 'image-b', version: 'B' };

describe('upgrade (in-memory provider)', () => {
  it('creates the new VM before stopping the old one, and deletes the old one only after the gate', async () => {
    const p = createFakeProvider();
    const store = tempStore();
    try {
      await provisionVm(p, store, 'pmm', A);
      p.calls.length = 0;
      const events: string[] = [];
      const result = await upgrade(p, store, { name: 'pmm', overrides: { image: B }, healthCheck: async () => true }, (e) => events.push(`${e.step}:${e.status}`));
      expect(p.calls).toEqual(['createVm pmm-g2', 'stopVm pmm', 'detachVolume pmm fakevol-pmm-data', 'attachVolume pmm-g2 pmm-data', 'startVm pmm-g2', 'destroyVm pmm']);
      expect(events.indexOf('health:done')).toBeLessThan(events.indexOf('destroy-old:start'));
      expect(result).toMatchObject({ outcome: 'upgraded', oldVm: 'pmm', newVm: 'pmm-g2', resumed: false });
      // a second upgrade goes to the third generation; status follows the volume
      const again = await upgrade(p, store, { name: 'pmm', overrides: { image: A }, skipHealthCheck: true });
      expect(again.newVm).toBe('pmm-g3');
      expect((await status(p, store, 'pmm')).vm?.name).toBe('pmm-g3');
      expect(p.calls).not.toContain(expect.stringMatching(/^deleteVolume/));
    } finally {
      store.cleanup();
    }
  });

  it('keeps the old VM with --keep-old, and plans without changing anything', async () => {
    const p = createFakeProvider();
    const store = tempStore();
    try {
      await provisionVm(p, store, 'pmm', A);
      const plan = await planUpgrade(p, store, { name: 'pmm', overrides: { image: B }, keepOld: true });
      expect(plan.steps.map((s) => s.step)[0]).toMatch(/^create pmm-g2 \(generation 2\) on B/);
      expect(plan.keeps).toEqual(expect.arrayContaining([expect.stringMatching(/never deleted/), 'old VM pmm (stopped)']));
      expect(p.calls).toEqual(['createVolume pmm-data', 'createVm pmm', 'startVm pmm', 'replaceIgnition pmm']);
      await upgrade(p, store, { name: 'pmm', overrides: { image: B }, keepOld: true, skipHealthCheck: true });
      expect((await p.findVm('pmm'))?.state).toBe('stopped');
      expect((await status(p, store, 'pmm')).others).toEqual(['pmm']);
    } finally {
      store.cleanup();
    }
  });

  it('rolls back when PMM never becomes ready, and says so', async () => {
    const p = createFakeProvider();
    const store = tempStore();
    try {
      await provisionVm(p, store, 'pmm', A);
      const err = await upgrade(p, store, { name: 'pmm', overrides: { image: B }, healthCheck: async () => false, healthTimeoutSec: 0.05, healthIntervalMs: 10 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpgradeRolledBackError);
      expect((err as Error).message).toMatch(/did not become ready .*rolled back: pmm runs with the data volume again/);
      expect((await status(p, store, 'pmm')).vm).toMatchObject({ name: 'pmm', state: 'running' });
      expect(Journal.for(store.dir, 'libvirt', 'pmm').read()?.phase).toBe('rolled-back');
    } finally {
      store.cleanup();
    }
  });

  it('--resume with nothing to resume is an error; a VM that does not exist cannot be upgraded', async () => {
    const p = createFakeProvider();
    const store = tempStore();
    try {
      await expect(upgrade(p, store, { name: 'nope', overrides: { image: B } })).rejects.toThrow(/provision it first/);
      await expect(upgrade(p, store, { name: 'nope', overrides: { image: B }, resumeOnly: true })).rejects.toMatchObject({ kind: 'not-found', message: expect.stringMatching(/no interrupted upgrade of nope/) });
    } finally {
      store.cleanup();
    }
  });

  it('counts downtime from the stop, after the new VM exists, to the start (gate skipped)', async () => {
    const p = createFakeProvider({ latencyMs: { createVm: 20, stopVm: 5, startVm: 5 } });
    const store = tempStore();
    try {
      await provisionVm(p, store, 'pmm', A);
      const events: { step: string; status: string; at: number }[] = [];
      const r = await upgrade(p, store, { name: 'pmm', overrides: { image: B }, skipHealthCheck: true }, (e) => events.push(e));
      const at = (step: string, status: string): number => events.find((e) => e.step === step && e.status === status)?.at ?? -1;
      // The slow creation is over before the old VM stops; the window ends when the new one runs.
      expect(at('create-new', 'done')).toBeLessThanOrEqual(at('stop-old', 'start'));
      expect(r.downtimeMs).toBeGreaterThan(0);
      expect(r.downtimeMs).toBeLessThanOrEqual(at('start-new', 'done') - at('stop-old', 'start') + 1);
      // the gate skipped is reported as such, not as a gate passed
      expect(events.filter((e) => e.step === 'health').map((e) => e.status)).toEqual(['skip']);
    } finally {
      store.cleanup();
    }
  });
});

describe('the upgrade journal', () => {
  /** pmm provisioned on A, its upgrade to B killed after the old VM stopped (calls: createVm, stopVm): inside the window. */
  async function interruptedUpgrade(p: ReturnType<typeof createFakeProvider>, store: ReturnType<typeof tempStore>): Promise<Journal> {
    await provisionVm(p, store, 'pmm', A);
    p.crashAt(2, 'after');
    await expect(upgrade(p, store, { name: 'pmm', overrides: { image: B }, skipHealthCheck: true })).rejects.toThrow(/injected crash/);
    return Journal.for(store.dir, p.name, 'pmm');
  }

  it('a journal about another data volume (the VM destroyed with its data and made again) is set aside, never resumed', async () => {
    const p = createFakeProvider();
    const store = tempStore();
    try {
      const journal = await interruptedUpgrade(p, store);
      const stale = journal.read();
      expect(stale?.phase).toBe('forward');
      // As if the VM had been destroyed with its data elsewhere and provisioned again: a new volume, the old journal.
      journal.write({ ...(stale as NonNullable<typeof stale>), volumeId: 'vol-of-the-dead-vm' });
      const events: string[] = [];
      const r = await upgrade(p, store, { name: 'pmm', overrides: { image: B }, skipHealthCheck: true }, (e) => events.push(`${e.step}:${e.status}:${e.detail ?? ''}`));
      expect(r.resumed).toBeFalsy();
      expect(events.find((e) => e.startsWith('resume:skip:'))).toMatch(/about another data volume .* set aside as .*\.stale-/);
      expect(events.some((e) => e.startsWith('resume:start'))).toBe(false);
      const { readdirSync } = await import('node:fs');
      expect(readdirSync(dirname(journal.path)).some((f) => f.includes('.stale-'))).toBe(true);
      expect(p.maxAttachments).toBe(1);
    } finally {
      store.cleanup();
    }
  });

  it('stores the step list it runs; a version 1 journal (no list) still resumes; an unknown version is refused', async () => {
    const p = createFakeProvider({ addressing: 'reserved' });
    const store = tempStore();
    try {
      const journal = await interruptedUpgrade(p, store);
      const written = journal.read();
      expect(written?.version).toBe(2);
      expect(written?.plan?.map((s) => s.kind)).toEqual(['reserve-address', 'create-new', 'stop-old', 'detach-old', 'attach-new', 'move-address', 'start-new', 'health', 'scrub-kept-old', 'destroy-old', 'stop-new', 'detach-new', 'attach-old', 'address-back', 'access-back', 'scrub-old', 'start-old', 'destroy-new']);
      expect(written?.plan?.find((s) => s.kind === 'health')?.skip).toBe('not checked: --skip-health-check');
      // the same journal as the previous cnvm wrote it
      const { plan: _list, ...v1 } = written as NonNullable<typeof written>;
      journal.write({ ...v1, version: 1 });
      const events: string[] = [];
      const r = await upgrade(p, store, { name: 'pmm', overrides: { image: B }, skipHealthCheck: true }, (e) => events.push(`${e.step}:${e.status}`));
      expect(r).toMatchObject({ outcome: 'upgraded', newVm: 'pmm-g2', resumed: true });
      expect(events).toEqual(expect.arrayContaining(['create-new:skip', 'stop-old:start', 'detach-old:done', 'start-new:done', 'health:skip']));
      expect((await status(p, store, 'pmm')).vm?.name).toBe('pmm-g2');
      expect(p.maxAttachments).toBe(1);
      journal.write({ ...v1, version: 3 as 2, phase: 'forward' });
      await expect(upgrade(p, store, { name: 'pmm', overrides: { image: A } })).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/schema version 3, this cnvm reads versions 1 and 2/) });
    } finally {
      store.cleanup();
    }
  });
});

describe('stable addresses (in-memory provider with reserved addresses)', () => {
  it('provision reserves the address and gives it to the VM before it starts; upgrade moves it inside the downtime window', async () => {
    const p = createFakeProvider({ addressing: 'reserved' });
    const store = tempStore();
    try {
      const plan = await planProvision(p, store, provisionInput('pmm', A));
      expect(plan.notes).toContain('address: fake reserved address, moved to the new VM inside the downtime window');
      expect(plan.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['reserve address pmm-address (the IP PMM\'s clients use, kept across upgrades)', 'assign address pmm-address to pmm before it starts']));
      const first = await provisionVm(p, store, 'pmm', A);
      expect(p.calls).toEqual(['createVolume pmm-data', 'reserveAddress pmm-address', 'createVm pmm', 'assignAddress pmm-address pmm', 'startVm pmm', 'replaceIgnition pmm']);
      const [address] = p.addresses();
      expect(first.url).toBe(`https://${address?.ip}/`);
      expect(store.readRecord('libvirt', 'pmm')?.address).toEqual({ id: address?.id, name: 'pmm-address', ip: address?.ip });

      const upPlan = await planUpgrade(p, store, { name: 'pmm', overrides: { image: B } });
      expect(upPlan.steps.map((s) => s.step)).toContain(`move ${address?.ip} from pmm to pmm-g2`);
      expect(upPlan.keeps).toContain(`address ${address?.ip} (${address?.id}): PMM's clients keep their server`);
      p.calls.length = 0;
      const events: string[] = [];
      const result = await upgrade(p, store, { name: 'pmm', overrides: { image: B }, healthCheck: async () => true }, (e) => events.push(`${e.step}:${e.status}`));
      expect(p.calls).toEqual(['createVm pmm-g2', 'stopVm pmm', 'detachVolume pmm fakevol-pmm-data', 'attachVolume pmm-g2 pmm-data', 'assignAddress pmm-address pmm-g2', 'startVm pmm-g2', 'destroyVm pmm']);
      // Inside the window: after the old VM stops, before the new one starts.
      expect(events.indexOf('move-address:done')).toBeGreaterThan(events.indexOf('stop-old:done'));
      expect(events.indexOf('move-address:done')).toBeLessThan(events.indexOf('start-new:start'));
      expect(result.url).toBe(first.url);
      expect(result.vm.addresses[0]).toBe(address?.ip);
      expect((await status(p, store, 'pmm')).url).toBe(first.url);
    } finally {
      store.cleanup();
    }
  });

  it('destroy keeps the address with the volume (a re-provision gets the same URL back); --delete-data releases it', async () => {
    const p = createFakeProvider({ addressing: 'reserved' });
    const store = tempStore();
    try {
      const first = await provisionVm(p, store, 'pmm', A);
      const plan = await planDestroy(p, store, { name: 'pmm', deleteData: false });
      expect(plan.keeps.join('\n')).toMatch(/^address 203\.0\.113\.\d+ \(fakeaddr-pmm-address\), reserved and unassigned/m);
      const kept = await destroy(p, store, { name: 'pmm', deleteData: false });
      expect(kept.addressKept).toBe(p.addresses()[0]?.ip);
      expect(p.addresses()).toEqual([expect.not.objectContaining({ assignedTo: expect.anything() })]);
      const again = await provisionVm(p, store, 'pmm', A);
      expect(again.url).toBe(first.url);
      expect(p.addresses()).toHaveLength(1);
      const doomed = await planDestroy(p, store, { name: 'pmm', deleteData: true });
      expect(doomed.steps.map((s) => s.step).at(-1)).toMatch(/^release address 203\.0\.113\.\d+ \(fakeaddr-pmm-address\)/);
      const gone = await destroy(p, store, { name: 'pmm', deleteData: true });
      expect(gone).toMatchObject({ volumeDeleted: true, addressReleased: first.url?.slice(8, -1) });
      expect(p.addresses()).toEqual([]);
    } finally {
      store.cleanup();
    }
  });

  it('without the move, the new VM would answer on another IP (the fake gives ephemeral IPs per create)', async () => {
    const p = createFakeProvider({ addressing: 'reserved' });
    await p.createVm({ name: 'a', image: A, ignition: '{}' });
    await p.createVm({ name: 'b', image: A, ignition: '{}' });
    const [a, b] = [await p.startVm('a'), await p.startVm('b')];
    expect(a.addresses[0]).not.toBe(b.addresses[0]);
  });

  it('rollback moves the address back before the old VM starts', async () => {
    const p = createFakeProvider({ addressing: 'reserved' });
    const store = tempStore();
    try {
      const first = await provisionVm(p, store, 'pmm', A);
      p.calls.length = 0;
      const err = await upgrade(p, store, { name: 'pmm', overrides: { image: B }, healthCheck: async () => false, healthTimeoutSec: 0.05, healthIntervalMs: 10 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpgradeRolledBackError);
      const calls = p.calls.slice(p.calls.indexOf('startVm pmm-g2'));
      expect(calls).toEqual(['startVm pmm-g2', 'stopVm pmm-g2', 'detachVolume pmm-g2 fakevol-pmm-data', 'attachVolume pmm pmm-data', 'assignAddress pmm-address pmm', 'startVm pmm', 'destroyVm pmm-g2']);
      expect((err as UpgradeRolledBackError).result.url).toBe(first.url);
      expect(p.addresses()[0]?.assignedTo).toBe('pmm');
    } finally {
      store.cleanup();
    }
  });

  it('a config replaceable only while stopped (EC2 user data): deferred at provision, done at the next stop', async () => {
    for (const keepOld of [false, true]) {
      const p = createFakeProvider({ addressing: 'reserved', replaceIgnition: 'while-stopped' });
      const store = tempStore();
      try {
        const r = await provisionVm(p, store, 'pmm', A);
        expect(r).toMatchObject({ storedConfig: 'deferred', secretRemoved: true });
        expect(r.notes.join('\n')).toMatch(/replaces it only while the VM is stopped; cnvm does it at the next stop/);
        expect(passwordInConfig(p.spec('pmm')?.ignition ?? '')).toBe(r.generatedAdminPassword);
        expect(store.readRecord('libvirt', 'pmm')?.password.inConfigOf).toEqual(['pmm']);
        if (keepOld) {
          await upgrade(p, store, { name: 'pmm', overrides: { image: B }, keepOld: true, healthCheck: async () => true });
          expect(p.calls).toContain('replaceIgnition pmm');
        } else {
          // A failed upgrade rolls back: the old VM is stopped on the way, and its config is replaced then.
          await expect(upgrade(p, store, { name: 'pmm', overrides: { image: B }, healthCheck: async () => false, healthTimeoutSec: 0.05, healthIntervalMs: 10 })).rejects.toBeInstanceOf(UpgradeRolledBackError);
          expect((await p.findVm('pmm'))?.state).toBe('running');
        }
        expect(passwordInConfig(p.spec('pmm')?.ignition ?? '')).toBeUndefined();
        expect(store.readRecord('libvirt', 'pmm')?.password.inConfigOf).toBeUndefined();
      } finally {
        store.cleanup();
      }
    }
  });

  it('an adapter without replaceIgnition: provision says the stored config keeps the password', async () => {
    const p = createFakeProvider({ replaceIgnition: 'unsupported' });
    const store = tempStore();
    try {
      const r = await provisionVm(p, store, 'pmm', A);
      expect(r.storedConfig).toBe('unsupported');
      expect(r.notes.join('\n')).toMatch(/cannot replace a VM's stored config yet/);
      expect((await planProvision(p, tempStore(), provisionInput('other', A))).steps.map((s) => s.step).join('\n')).toMatch(/not supported by this libvirt adapter yet/);
    } finally {
      store.cleanup();
    }
  });

  it('a gate that fails says how to retry and keeps everything; the retry completes and shows the password', async () => {
    const p = createFakeProvider({ addressing: 'reserved' });
    const store = tempStore();
    try {
      const err = await provisionVm(p, store, 'pmm', A, { healthCheck: async () => false, healthTimeoutSec: 0.05 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'provider', message: expect.stringMatching(/did not become ready within 0.05 s[\s\S]*re-run: cnvm provision --provider libvirt --name pmm[\s\S]*--skip-health-check/) });
      expect(store.readSecret('libvirt', 'pmm')).toBeDefined();
      expect((await p.findVm('pmm'))?.state).toBe('running');
      const r = await provisionVm(p, store, 'pmm', A);
      expect(r.generatedAdminPassword).toBeDefined();
      expect(passwordInConfig(p.spec('pmm')?.firstBootIgnition ?? '')).toBe(r.generatedAdminPassword);
      expect(store.readSecret('libvirt', 'pmm')).toBeUndefined();
    } finally {
      store.cleanup();
    }
  });
});

async function fakeHarness(options: FakeOptions = {}): Promise<ProvisionMatrixHarness> {
  const p = createFakeProvider(options);
  return {
    provider: p,
    imageA: A,
    imageB: B,
    name: 'pmm',
    crashAt: (n, when) => p.crashAt(n, when),
    callCount: () => p.calls.length,
    maxAttachments: async () => p.maxAttachments,
    writeBytes: async (bytes) => void bytes.copy(p.volumeBytes('fakevol-pmm-data')),
    readBytes: async (length) => p.volumeBytes('fakevol-pmm-data').subarray(0, length),
    ignitionOf: async (vm) => p.spec(vm)?.ignition ?? '',
    cleanup: async () => {},
  };
}

describe('upgrade fault matrix (in-memory provider)', () => {
  upgradeFaultMatrix('fake', { makeHarness: () => fakeHarness() });
});

describe('provision fault matrix (in-memory provider)', () => {
  provisionFaultMatrix('fake', () => fakeHarness());
});

// As EC2 (Elastic IP, user data replaced only while stopped) and GCE (static address) behave.
describe('upgrade fault matrix (in-memory provider, reserved addresses)', () => {
  upgradeFaultMatrix('fake reserved', { makeHarness: () => fakeHarness({ addressing: 'reserved', replaceIgnition: 'while-stopped' }) });
});

describe('provision fault matrix (in-memory provider, reserved addresses)', () => {
  provisionFaultMatrix('fake reserved', () => fakeHarness({ addressing: 'reserved' }));
  provisionFaultMatrix('fake reserved, config replaced only while stopped', () => fakeHarness({ addressing: 'reserved', replaceIgnition: 'while-stopped' }));
});
