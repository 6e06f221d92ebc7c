// Fleet upgrade on the stateful in-memory provider: batches, each VM's own gate, stopping on failures with the
// rest untouched, the fleet journal's resume (after a fixed gate and after a kill mid-fleet), Ctrl-C's gentle stop.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FleetJournalFile, fleetNames, fleetUpgrade, globMatcher, planFleet, type UpgradeOne } from '../../src/lifecycle/fleet.js';
import { upgrade } from '../../src/lifecycle/upgrade.js';
import { createFakeProvider, type FakeProvider } from '../support/fake-provider.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';

const A = { id: 'image-a', version: 'A' };
const B = { id: 'image-b', version: 'B' };
const NAMES = ['pmm1', 'pmm2', 'pmm3', 'pmm4', 'pmm5'];

async function fleetOf(p: FakeProvider, store: ReturnType<typeof tempStore>): Promise<void> {
  for (const n of NAMES) await provisionVm(p, store, n, A);
}

const imageOf = async (p: FakeProvider, name: string): Promise<string | undefined> => {
  const { vms } = await p.list();
  return vms.find((vm) => vm.owner?.name === name)?.image;
};

describe('fleet upgrade (in-memory provider)', () => {
  it('finds the fleet, plans it in batches and selects by glob', async () => {
    const p = createFakeProvider();
    const store = tempStore();
    try {
      await fleetOf(p, store);
      expect(await fleetNames(p)).toEqual(NAMES);
      expect(await fleetNames(p, 'pmm[')).toEqual([]);
      expect(await fleetNames(p, 'pmm?')).toEqual(NAMES);
      expect(globMatcher('pmm*')('pmm-eu')).toBe(true);
      expect(globMatcher('pmm.1')('pmmx1')).toBe(false);
      const plan = planFleet(p, store, { selector: '*', names: NAMES, batch: 2, maxFailures: 1, image: B });
      expect(plan.batches).toEqual([['pmm1', 'pmm2'], ['pmm3', 'pmm4'], ['pmm5']]);
      expect(() => planFleet(p, store, { selector: '*', names: NAMES, batch: 0, maxFailures: 1, image: B })).toThrow(/--batch must be a whole number ≥ 1/);
      expect(() => planFleet(p, store, { selector: 'x*', names: [], batch: 1, maxFailures: 1, image: B })).toThrow(/no cnvm VM on .* matches x\*/);
      expect(() => planFleet(p, store, { selector: '*', names: NAMES, batch: 1, maxFailures: 1, image: B, resumeOnly: true })).toThrow(/no unfinished fleet upgrade/);
      expect(p.calls.filter((c) => c.startsWith('createVm')).length).toBe(5);
    } finally {
      store.cleanup();
    }
  });

  it('batch 2: the third VM fails its gate → rolled back, VMs 4-5 untouched; --resume after the fix completes', async () => {
    const p = createFakeProvider();
    const store = tempStore();
    try {
      await fleetOf(p, store);
      let pmm3Ready = false;
      const inFlight: string[][] = [];
      let running: string[] = [];
      const one: UpgradeOne = async (name, onEvent) => {
        running.push(name);
        inFlight.push([...running]);
        try {
          return await upgrade(p, store, { name, overrides: { image: B }, healthCheck: async () => name !== 'pmm3' || pmm3Ready, healthTimeoutSec: 0.05, healthIntervalMs: 10 }, onEvent);
        } finally {
          running = running.filter((n) => n !== name);
        }
      };
      const req = { selector: '*', names: NAMES, batch: 2, maxFailures: 1, image: B };
      const first = await fleetUpgrade(p, store, req, one).done;
      expect(first.stopped).toBe('max-failures');
      expect(Object.fromEntries(first.members.map((m) => [m.name, m.status]))).toEqual({ pmm1: 'upgraded', pmm2: 'upgraded', pmm3: 'rolled-back', pmm4: 'upgraded', pmm5: 'untouched' });
      // pmm4 ran beside pmm3 in the same batch; pmm5 never started: still generation 1 on image A, untouched.
      expect(inFlight.some((b) => b.includes('pmm3') && b.includes('pmm4'))).toBe(true);
      expect(await imageOf(p, 'pmm5')).toBe('image-a');
      expect(await imageOf(p, 'pmm3')).toBe('image-a');
      expect(p.calls).not.toContain('createVm pmm5-g2');
      expect(first.members.find((m) => m.name === 'pmm3')?.error).toMatchObject({ kind: 'rolled-back' });

      pmm3Ready = true;
      const again = await fleetUpgrade(p, store, { ...req, names: [], resumeOnly: true }, one).done;
      expect(again.stopped).toBeUndefined();
      expect(again.members.map((m) => m.status)).toEqual(['upgraded', 'upgraded', 'upgraded', 'upgraded', 'upgraded']);
      for (const n of NAMES) expect(await imageOf(p, n)).toBe('image-b');
      // pmm1, pmm2 and pmm4 were not upgraded twice; the journal is gone once the fleet is complete.
      expect(p.calls.filter((c) => c === 'createVm pmm1-g3')).toEqual([]);
      expect(existsSync(FleetJournalFile.for(store, p.name, '*').path)).toBe(false);
    } finally {
      store.cleanup();
    }
  });

  it('a kill mid-fleet (mid-upgrade of one VM) → --resume finishes every VM, each exactly once', async () => {
    const p = createFakeProvider();
    const store = tempStore();
    try {
      await fleetOf(p, store);
      // The "killed" run: pmm3's upgrade stops for good after its new VM is created (the process is gone).
      let killed = false;
      const dead: UpgradeOne = async (name, onEvent) => {
        if (name === 'pmm3') {
          p.crashAt(2, 'before');
          await upgrade(p, store, { name, overrides: { image: B }, healthCheck: async () => true, healthIntervalMs: 10 }, onEvent).catch(() => undefined);
          killed = true;
          return new Promise(() => {});
        }
        return upgrade(p, store, { name, overrides: { image: B }, healthCheck: async () => true, healthIntervalMs: 10 }, onEvent);
      };
      void fleetUpgrade(p, store, { selector: '*', names: NAMES, batch: 1, maxFailures: 1, image: B }, dead).done;
      while (!killed) await new Promise((r) => setTimeout(r, 5));
      const journal = FleetJournalFile.for(store, p.name, '*').read();
      expect(journal?.members.map((m) => m.status)).toEqual(['upgraded', 'upgraded', 'running', 'pending', 'pending']);
      // pmm3's own lock died with the process: a later run takes it over (the lock's pid is this test's, so drop it).
      const { rmSync } = await import('node:fs');
      rmSync(`${store.dir}/locks`, { recursive: true, force: true });
      const live: UpgradeOne = (name, onEvent) => upgrade(p, store, { name, overrides: { image: B }, healthCheck: async () => true, healthIntervalMs: 10 }, onEvent);
      const resumed = await fleetUpgrade(p, store, { selector: '*', names: [], batch: 1, maxFailures: 1, image: B, resumeOnly: true }, live).done;
      expect(resumed.members.map((m) => m.status)).toEqual(['upgraded', 'upgraded', 'upgraded', 'upgraded', 'upgraded']);
      for (const n of NAMES) expect(await imageOf(p, n)).toBe('image-b');
      expect(p.calls.filter((c) => c.startsWith('createVm pmm3-g'))).toEqual(['createVm pmm3-g2']);
      expect(p.maxAttachments).toBe(1);
    } finally {
      store.cleanup();
    }
  });

  it('stop() (Ctrl-C) lets the batch in flight finish and starts nothing more', async () => {
    const p = createFakeProvider();
    const store = tempStore();
    try {
      await fleetOf(p, store);
      const holder: { handle?: ReturnType<typeof fleetUpgrade> } = {};
      const one: UpgradeOne = async (name, onEvent) => {
        if (name === 'pmm1') holder.handle?.stop();
        return upgrade(p, store, { name, overrides: { image: B }, healthCheck: async () => true, healthIntervalMs: 10 }, onEvent);
      };
      holder.handle = fleetUpgrade(p, store, { selector: '*', names: NAMES, batch: 2, maxFailures: 1, image: B }, one);
      const r = await holder.handle.done;
      expect(r.stopped).toBe('interrupted');
      expect(r.members.map((m) => m.status)).toEqual(['upgraded', 'upgraded', 'untouched', 'untouched', 'untouched']);
      expect(FleetJournalFile.for(store, p.name, '*').read()?.members.filter((m) => m.status === 'pending').length).toBe(3);
    } finally {
      store.cleanup();
    }
  });
});
