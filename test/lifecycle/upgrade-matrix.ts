// The upgrade fault matrix, written once and run against every provider (the in-memory fake here, real libvirt
// in upgrade-libvirt.test.ts): for every mutating call of an upgrade, and of a rollback, crash just before it
// and just after it, re-run the command, and check the invariants.
import { expect, it } from 'vitest';
import { Journal } from '../../src/lifecycle/journal.js';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import { upgrade, UpgradeRolledBackError } from '../../src/lifecycle/upgrade.js';
import type { StateStore } from '../../src/lifecycle/store.js';
import type { ImageRef, Provider } from '../../src/provider/types.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';

export interface MatrixHarness {
  provider: Provider;
  imageA: ImageRef;
  imageB: ImageRef;
  name: string;
  /** Arms a crash on the n-th mutating provider call from now. */
  crashAt(n: number, when: 'before' | 'after'): void;
  /** Mutating calls made so far. */
  callCount(): number;
  /** Most VMs that ever held the volume at once (must stay ≤ 1). */
  maxAttachments(): Promise<number>;
  writeBytes(bytes: Buffer): Promise<void>;
  readBytes(length: number): Promise<Buffer>;
  cleanup(): Promise<void>;
}

export interface MatrixOptions {
  makeHarness: () => Promise<MatrixHarness>;
  /** Limit the crash points (real providers are slower). */
  points?: (n: number) => number[];
  timeout?: number;
}

const healthy = async (): Promise<boolean> => true;
const unhealthy = async (): Promise<boolean> => false;

async function freshUpgradeTarget(h: MatrixHarness, store: StateStore, marker: Buffer): Promise<void> {
  await provisionVm(h.provider, store, h.name, h.imageA, { password: { kind: 'file', value: 'first-boot-password' } });
  await h.writeBytes(marker);
}

async function checkUpgraded(h: MatrixHarness, store: StateStore, marker: Buffer, expectNew: string): Promise<void> {
  const vol = await h.provider.findVolume(dataVolumeName(h.name));
  expect(vol?.attachedTo).toBe(expectNew);
  const vm = await h.provider.findVm(expectNew);
  expect(vm?.state).toBe('running');
  expect(vm?.image).toBe(h.imageB.id);
  expect(await h.provider.findVm(h.name)).toBeUndefined();
  expect((await h.readBytes(marker.length)).equals(marker)).toBe(true);
  expect(await h.maxAttachments()).toBeLessThanOrEqual(1);
  expect(Journal.for(store.dir, h.provider.name, h.name).read()?.phase).toBe('done');
}

async function checkRolledBack(h: MatrixHarness, store: StateStore, marker: Buffer): Promise<void> {
  const vol = await h.provider.findVolume(dataVolumeName(h.name));
  expect(vol?.attachedTo).toBe(h.name);
  expect((await h.provider.findVm(h.name))?.state).toBe('running');
  expect(await h.provider.findVm(`${h.name}-g2`)).toBeUndefined();
  expect((await h.readBytes(marker.length)).equals(marker)).toBe(true);
  expect(await h.maxAttachments()).toBeLessThanOrEqual(1);
  expect(Journal.for(store.dir, h.provider.name, h.name).read()?.phase).toBe('rolled-back');
}

/** Runs a command expecting an injected crash; returns whether it crashed (a rollback is a normal ending). */
export async function crashingRun(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return false;
  } catch (err) {
    if ((err as Error).name === 'InjectedCrash') return true;
    if (err instanceof UpgradeRolledBackError) return false;
    throw err;
  }
}

export function upgradeFaultMatrix(label: string, options: MatrixOptions): void {
  const timeout = options.timeout ?? 60_000;

  // How many mutating calls a clean upgrade and a clean rollback make.
  const counts = { upgrade: 0, rollback: 0 };
  it(`${label}: a clean upgrade and a clean rollback`, async () => {
    for (const kind of ['upgrade', 'rollback'] as const) {
      const h = await options.makeHarness();
      const store = tempStore();
      const marker = Buffer.from(`marker ${kind} ${Date.now()}`);
      try {
        await freshUpgradeTarget(h, store, marker);
        const before = h.callCount();
        const req = { name: h.name, overrides: { image: h.imageB }, healthCheck: kind === 'upgrade' ? healthy : unhealthy, healthTimeoutSec: 0.05, healthIntervalMs: 10 };
        if (kind === 'upgrade') await checkUpgraded(h, store, marker, (await upgrade(h.provider, store, req)).newVm);
        else {
          await expect(upgrade(h.provider, store, req)).rejects.toBeInstanceOf(UpgradeRolledBackError);
          await checkRolledBack(h, store, marker);
        }
        counts[kind] = h.callCount() - before;
      } finally {
        store.cleanup();
        await h.cleanup();
      }
    }
    expect(counts.upgrade).toBeGreaterThanOrEqual(6);
    expect(counts.rollback).toBeGreaterThan(counts.upgrade - 2);
  }, timeout);

  for (const kind of ['upgrade', 'rollback'] as const) {
    for (const when of ['before', 'after'] as const) {
      it(`${label}: ${kind}, crash ${when} each provider call, then re-run`, async () => {
        const n = counts[kind];
        expect(n, 'the clean run must have counted the calls').toBeGreaterThan(0);
        const points = options.points ? options.points(n) : Array.from({ length: n }, (_, i) => i + 1);
        for (const point of points) {
          const h = await options.makeHarness();
          const store = tempStore();
          const marker = Buffer.from(`marker ${kind} ${when} ${point} ${Date.now()}`);
          try {
            await freshUpgradeTarget(h, store, marker);
            const req = { name: h.name, overrides: { image: h.imageB }, healthCheck: kind === 'upgrade' ? healthy : unhealthy, healthTimeoutSec: 0.05, healthIntervalMs: 10 };
            h.crashAt(point, when);
            const crashed = await crashingRun(() => upgrade(h.provider, store, req));
            expect(crashed, `crash ${when} call ${point} fired`).toBe(true);
            expect(await h.maxAttachments(), `after crash ${when} call ${point}`).toBeLessThanOrEqual(1);
            // the plain re-run resumes from the journal
            if (kind === 'upgrade') {
              const result = await upgrade(h.provider, store, req);
              expect(result.resumed).toBe(true);
              await checkUpgraded(h, store, marker, result.newVm);
            } else {
              await expect(upgrade(h.provider, store, req)).rejects.toBeInstanceOf(UpgradeRolledBackError);
              await checkRolledBack(h, store, marker);
            }
          } finally {
            store.cleanup();
            await h.cleanup();
          }
        }
      }, timeout * 4);
    }
  }
}
