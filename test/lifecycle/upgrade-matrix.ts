// The upgrade fault matrix, written once and run against every provider (the in-memory fake here, real libvirt
// in upgrade.libvirt.test.ts): for every mutating call of an upgrade, and of a rollback, crash just before it
// and just after it, re-run the command, and check the invariants: the volume on one VM, its bytes intact, and on
// providers that reserve addresses, the address on the VM that holds the volume, with the PMM URL unchanged.
import { expect, it } from 'vitest';
import { Journal } from '../../src/lifecycle/journal.js';
import { addressName, dataVolumeName } from '../../src/lifecycle/names.js';
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
  /**
   * Which crash matrices this file runs (default both); the clean runs, which count the calls, always run. A slow
   * peer (moto) runs the two in two files, so they run in parallel: together they are the whole matrix.
   */
  crashes?: readonly ('upgrade' | 'rollback')[];
}

const healthy = async (): Promise<boolean> => true;
const unhealthy = async (): Promise<boolean> => false;

/** A reserved address, where the provider reserves one, sits on the VM that holds the volume. */
export async function expectAddressFollowsVolume(h: MatrixHarness, context: string): Promise<void> {
  if (h.provider.addressing.kind !== 'reserved') return;
  const address = await h.provider.findAddress?.(addressName(h.name));
  const volume = await h.provider.findVolume(dataVolumeName(h.name));
  expect(address, `${context}: the address exists`).toBeDefined();
  expect(address?.assignedTo, `${context}: the address is on the VM holding the volume`).toBe(volume?.attachedTo);
  const holder = volume?.attachedTo ? await h.provider.findVm(volume.attachedTo) : undefined;
  if (holder?.state === 'running') expect(holder.addresses[0], `${context}: the running VM reports the stable IP`).toBe(address?.ip);
}

/** Provisions the VM to upgrade; returns its PMM URL (which a stable address keeps through upgrade and rollback). */
async function freshUpgradeTarget(h: MatrixHarness, store: StateStore, marker: Buffer): Promise<string | undefined> {
  const r = await provisionVm(h.provider, store, h.name, h.imageA, { password: { kind: 'file', value: 'first-boot-password' } });
  await h.writeBytes(marker);
  return r.url;
}

/** After the upgrade or the rollback finished: the address rule, and a reserved address's URL is the one before. */
async function checkAddress(h: MatrixHarness, context: string, urlBefore: string | undefined, urlAfter: string | undefined): Promise<void> {
  await expectAddressFollowsVolume(h, context);
  if (h.provider.addressing.kind === 'reserved') expect(urlAfter, `${context}: PMM's clients keep their server`).toBe(urlBefore);
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
        const url = await freshUpgradeTarget(h, store, marker);
        const before = h.callCount();
        const req = { name: h.name, overrides: { image: h.imageB }, healthCheck: kind === 'upgrade' ? healthy : unhealthy, healthTimeoutSec: 0.05, healthIntervalMs: 10 };
        if (kind === 'upgrade') {
          const result = await upgrade(h.provider, store, req);
          await checkUpgraded(h, store, marker, result.newVm);
          await checkAddress(h, 'clean upgrade', url, result.url);
        } else {
          const err = await upgrade(h.provider, store, req).catch((e: unknown) => e);
          expect(err, (err as Error).message).toBeInstanceOf(UpgradeRolledBackError);
          await checkRolledBack(h, store, marker);
          await checkAddress(h, 'clean rollback', url, (err as UpgradeRolledBackError).result.url);
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

  for (const kind of options.crashes ?? (['upgrade', 'rollback'] as const)) {
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
            const url = await freshUpgradeTarget(h, store, marker);
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
              await checkAddress(h, `upgrade resumed after a crash ${when} call ${point}`, url, result.url);
            } else {
              const err = await upgrade(h.provider, store, req).catch((e: unknown) => e);
              expect(err).toBeInstanceOf(UpgradeRolledBackError);
              await checkRolledBack(h, store, marker);
              await checkAddress(h, `rollback resumed after a crash ${when} call ${point}`, url, (err as UpgradeRolledBackError).result.url);
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
