// Upgrade against the stateful in-memory provider: order of operations, downtime, plan, and the full fault matrix.
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/lifecycle/journal.js';
import { status } from '../../src/lifecycle/status.js';
import { planUpgrade, upgrade, UpgradeRolledBackError } from '../../src/lifecycle/upgrade.js';
import { createFakeProvider, type FakeOptions } from '../support/fake-provider.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';
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
