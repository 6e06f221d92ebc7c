// The lost-reply matrix, written once and run on every cloud peer (moto and the project's EC2 fake, the Compute
// fake): for each of provision, upgrade, rollback and destroy, count the mutating API calls of a clean run, then for
// every one of them run again with a proxy that lets that call take effect and loses its reply. The run must
// complete (or a re-run must), and `destroy --delete-data` must then leave nothing of the VM: no instance, volume,
// address, group or rule on the peer, no journal and no record here.
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { destroy } from '../../src/lifecycle/destroy.js';
import { Journal } from '../../src/lifecycle/journal.js';
import type { StateStore } from '../../src/lifecycle/store.js';
import { upgrade, UpgradeRolledBackError } from '../../src/lifecycle/upgrade.js';
import type { ImageRef, Provider } from '../../src/provider/types.js';
import type { ReplyDropProxy } from '../support/reply-drop-proxy.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';

export interface LostReplyHarness {
  /** The adapter, talking to the peer through the proxy. */
  provider: Provider;
  proxy: ReplyDropProxy;
  images: [ImageRef, ImageRef];
  /** What exists on the peer, read past the proxy (each harness starts from an empty account/project). */
  leftovers(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export type Scenario = 'provision' | 'upgrade' | 'rollback' | 'destroy';
export const SCENARIOS: Scenario[] = ['provision', 'upgrade', 'rollback', 'destroy'];

const NAME = 'pmm';

async function setUp(h: LostReplyHarness, store: StateStore, scenario: Scenario): Promise<void> {
  if (scenario !== 'provision') await provisionVm(h.provider, store, NAME, h.images[0]);
}

/** The scenario's own run; a rollback is its expected ending. */
async function act(h: LostReplyHarness, store: StateStore, scenario: Scenario): Promise<void> {
  if (scenario === 'provision') return void (await provisionVm(h.provider, store, NAME, h.images[0]));
  if (scenario === 'destroy') return void (await destroy(h.provider, store, { name: NAME, deleteData: true }));
  const healthy = scenario === 'upgrade';
  try {
    await upgrade(h.provider, store, { name: NAME, overrides: { image: h.images[1] }, healthCheck: async () => healthy, healthTimeoutSec: 0.05, healthIntervalMs: 10 });
    if (!healthy) throw new Error('the gate failed, yet the upgrade did not roll back');
  } catch (err) {
    if (!(err instanceof UpgradeRolledBackError) || healthy) throw err;
  }
}

async function expectNothingLeft(h: LostReplyHarness, store: StateStore, context: string): Promise<void> {
  expect(await h.leftovers(), `${context}: resources left on the peer`).toEqual([]);
  expect(existsSync(Journal.for(store.dir, h.provider.name, NAME).path), `${context}: the journal is gone`).toBe(false);
  expect(existsSync(store.recordPath(h.provider.name, NAME)), `${context}: the record is gone`).toBe(false);
}

export function lostReplyMatrix(label: string, makeHarness: () => Promise<LostReplyHarness>, timeout = 300_000): void {
  for (const scenario of SCENARIOS) {
    it(`${label}: ${scenario}, the reply of each mutating call lost`, async () => {
      // The clean run: which mutating calls the scenario makes.
      let calls: string[] = [];
      {
        const h = await makeHarness();
        const store = tempStore();
        try {
          await setUp(h, store, scenario);
          const before = h.proxy.mutations.length;
          await act(h, store, scenario);
          calls = h.proxy.mutations.slice(before);
          if (scenario !== 'destroy') await destroy(h.provider, store, { name: NAME, deleteData: true });
          await expectNothingLeft(h, store, `${scenario}, clean`);
        } finally {
          store.cleanup();
          await h.cleanup();
        }
      }
      expect(calls.length).toBeGreaterThan(0);
      const rerun: string[] = [];
      for (let n = 1; n <= calls.length; n++) {
        const context = `${scenario}, reply of call ${n} (${calls[n - 1]}) lost`;
        const h = await makeHarness();
        const store = tempStore();
        try {
          await setUp(h, store, scenario);
          h.proxy.dropNthMutation(n);
          try {
            await act(h, store, scenario);
          } catch (err) {
            // Allowed: the run fails cleanly and a re-run completes it.
            rerun.push(`${context}: ${(err as Error).message.split('\n')[0]}`);
            await act(h, store, scenario);
          }
          expect(h.proxy.dropped, `${context}: a reply was lost`).toHaveLength(1);
          if (scenario !== 'destroy') await destroy(h.provider, store, { name: NAME, deleteData: true });
          await expectNothingLeft(h, store, context);
        } finally {
          store.cleanup();
          await h.cleanup();
        }
      }
      // Every lost reply is absorbed by the call itself: no run needed a second go.
      expect(rerun).toEqual([]);
    }, timeout);
  }
}
