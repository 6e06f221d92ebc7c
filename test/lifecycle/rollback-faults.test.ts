// Rollback leaves nothing behind: an upgrade whose n-th mutating call fails (an ordinary provider error, before
// the call or after it took effect), for every n, on the EC2 adapter against the project's EC2 fake and the GCE
// adapter against the Compute fake, with a healthy and with a failing gate. However the run ends — upgraded,
// rolled back, or stopped with its journal for --resume (and then resumed) — the VM has exactly one instance,
// the record's current generation, running with the data volume; no second VM, boot disk or address is left; and
// `destroy --delete-data` then leaves nothing on the peer.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { destroy } from '../../src/lifecycle/destroy.js';
import { Journal } from '../../src/lifecycle/journal.js';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import { currentGeneration } from '../../src/lifecycle/record.js';
import type { StateStore } from '../../src/lifecycle/store.js';
import { upgrade, UpgradeError, UpgradeRolledBackError } from '../../src/lifecycle/upgrade.js';
import type { ImageRef, Provider } from '../../src/provider/types.js';
import { ec2Harness, gceHarness } from '../support/cloud-peers.js';
import { doPeerHarness } from '../support/do-peer.js';
import { faulty } from '../support/faulty.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';
import type { LostReplyHarness } from './lost-reply-matrix.js';

const NAME = 'pmm';

async function runUpgrade(provider: Provider, store: StateStore, image: ImageRef, healthy: boolean, resumeOnly = false): Promise<string> {
  try {
    await upgrade(provider, store, { name: NAME, overrides: { image }, healthCheck: async () => healthy, healthTimeoutSec: 0.05, healthIntervalMs: 10, ...(resumeOnly ? { resumeOnly } : {}) });
    return 'upgraded';
  } catch (err) {
    if (err instanceof UpgradeRolledBackError) return 'rolled-back';
    if (err instanceof UpgradeError) return `stopped: ${err.message}`;
    if ((err as Error).message.includes('injected fault')) return `failed: ${(err as Error).message}`;
    throw err;
  }
}

/** One instance of the VM, the record's current generation, running with the data volume; one of each resource. */
async function expectOneVm(h: LostReplyHarness, store: StateStore, context: string, disks: number): Promise<void> {
  const record = store.readRecord(h.provider.name, NAME);
  const current = record && currentGeneration(record);
  expect(current, `${context}: the record names a current generation`).toBeDefined();
  const { vms } = await h.provider.list();
  const ours = vms.filter((vm) => vm.name === NAME || vm.owner?.name === NAME);
  expect(ours.map((vm) => vm.name), `${context}: one VM, the record's`).toEqual([current?.vm]);
  const volume = await h.provider.findVolume(dataVolumeName(NAME));
  expect(ours[0]?.volumes.map((v) => v.volumeId), `${context}: it holds the data volume`).toContain(volume?.id);
  expect(ours[0]?.state, `${context}: it runs`).toBe('running');
  // On the peer: one instance, the data disk and (where the peer lists it apart) its boot disk, at most one address.
  const left = await h.leftovers();
  expect(left.filter((l) => l.startsWith('instance')), `${context}: instances on the peer`).toHaveLength(1);
  expect(left.filter((l) => /^(volume|disk)/.test(l)), `${context}: disks on the peer`).toHaveLength(disks);
  expect(left.filter((l) => l.startsWith('address')).length, `${context}: addresses on the peer`).toBeLessThanOrEqual(1);
}

/** `disks`: what the peer lists for one VM (EC2: its root volume and the data volume; the Compute fake keeps boot disks inside the instance). */
function faultMatrix(label: string, makeHarness: () => Promise<LostReplyHarness>, disks: number): void {
  for (const healthy of [true, false]) {
    it(`${label}: ${healthy ? 'upgrade' : 'rolled-back upgrade'}, each mutating call failing before and after it took effect`, async () => {
      let calls = 0;
      {
        const h = await makeHarness();
        const store = tempStore();
        try {
          const f = faulty(h.provider);
          await provisionVm(f.provider, store, NAME, h.images[0]);
          const before = f.made.length;
          expect(await runUpgrade(f.provider, store, h.images[1], healthy)).toBe(healthy ? 'upgraded' : 'rolled-back');
          calls = f.made.length - before;
          await expectOneVm({ ...h, provider: f.provider }, store, 'clean run', disks);
        } finally {
          store.cleanup();
          await h.cleanup();
        }
      }
      expect(calls).toBeGreaterThan(3);
      for (let n = 1; n <= calls; n++) {
        for (const when of ['before', 'after'] as const) {
          const h = await makeHarness();
          const store = tempStore();
          const f = faulty(h.provider);
          try {
            await provisionVm(f.provider, store, NAME, h.images[0]);
            f.failAt(n, when);
            let outcome = await runUpgrade(f.provider, store, h.images[1], healthy);
            const context = `call ${n} (${f.failed[0] ?? 'none'}) failed: ${outcome}`;
            expect(f.failed, context).toHaveLength(1);
            const journal = Journal.for(store.dir, f.provider.name, NAME).read();
            // A failure the run could not handle itself leaves the journal for --resume, which finishes the job.
            if (journal && (journal.phase === 'forward' || journal.phase === 'rollback')) outcome = await runUpgrade(f.provider, store, h.images[1], healthy, true);
            expect(outcome, context).toMatch(/^(upgraded|rolled-back|stopped: )/);
            await expectOneVm({ ...h, provider: f.provider }, store, context, disks);
            await destroy(f.provider, store, { name: NAME, deleteData: true });
            expect(await h.leftovers(), `${context}: left after destroy --delete-data`).toEqual([]);
            expect(existsSync(Journal.for(store.dir, f.provider.name, NAME).path), `${context}: journal`).toBe(false);
          } finally {
            store.cleanup();
            await h.cleanup();
          }
        }
      }
    }, 300_000);
  }
}

describe('rollback after a failed call (aws on the EC2 fake)', () => faultMatrix('aws-fake', () => ec2Harness('fake'), 2));
describe('rollback after a failed call (gcp on the Compute fake)', () => faultMatrix('gcp', gceHarness, 1));
describe('rollback after a failed call (digitalocean on the API v2 fake)', () => faultMatrix('digitalocean', doPeerHarness, 1));
