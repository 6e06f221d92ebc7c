// The VM's lease, held where the VM lives: two operators (two state directories, two provider clients — two
// "machines") against one EC2 (the fake and moto) and one GCE (the fake). Concurrent upgrades: one runs, the other
// is refused with exit 7 naming the holder; a destroy from A while B upgrades is refused; a dead or expired holder
// is taken over. The libvirt lock file's rules are checked on a temporary storage directory (the same primitive
// the adapter uses), and once on real libvirt in test/lifecycle/lease-libvirt.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { destroy } from '../../src/lifecycle/destroy.js';
import { upgrade } from '../../src/lifecycle/upgrade.js';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import type { CnvmError } from '../../src/errors.js';
const exitCodeFor = (e: unknown): number => EXIT_CODES[(e as CnvmError).kind];
import { acquireLease, LeaseHeldError } from '../../src/provider/lease-rules.js';
import { fileLeases } from '../../src/provider/libvirt/lease.js';
import { createGcpProvider } from '../../src/provider/gcp/adapter.js';
import type { ImageRef, LeaseHolder, Provider } from '../../src/provider/types.js';
import { awsAgainst, awsProviderFor, EC2_PEERS, useMoto } from '../support/aws-harness.js';
import { fakeClientOptions, gcpAgainstFake, GCP_PROJECT, GCP_ZONE } from '../support/gcp-harness.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';

useMoto();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A pid that existed and is gone now (a finished child). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid as number;
}

describe('libvirt lock file in the storage directory (rules of the contract wrapper)', () => {
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'cnvm-storage-'));
    cleanups.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };

  it('one holder at a time; a live holder is refused (exit 7) with who holds it; release frees it', async () => {
    const leases = fileLeases(dir());
    const a = await acquireLease(leases, 'pmm', 'upgrade');
    const err = await acquireLease(leases, 'pmm', 'destroy').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect(exitCodeFor(err as LeaseHeldError)).toBe(7);
    expect((err as Error).message).toMatch(new RegExp(`on ${hostname()} \\(pid ${process.pid}, cnvm upgrade, since .*, lease until`));
    expect((err as Error).message).toContain(leases.where('pmm'));
    await a.release();
    const b = await acquireLease(leases, 'pmm', 'destroy');
    expect(b.lease.command).toBe('destroy');
    await b.release();
  });

  it('of many concurrent acquisitions exactly one wins', async () => {
    const leases = fileLeases(dir());
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLease(leases, 'pmm', 'upgrade')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof LeaseHeldError)).toBe(true);
  });

  it('a dead holder on this host and an expired one elsewhere are taken over; an older lease never removes a newer one', async () => {
    const storage = dir();
    const leases = fileLeases(storage);
    const stale = (over: Partial<LeaseHolder>): LeaseHolder => ({ holder: 'op', host: hostname(), pid: deadPid(), command: 'upgrade', acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString(), token: 'old', ...over });
    expect(await leases.create('pmm', stale({}))).toBe(true);
    const took = await acquireLease(leases, 'pmm', 'upgrade');
    expect(took.lease.token).not.toBe('old');
    await took.release();

    expect(await leases.create('pmm', stale({ host: 'another-machine', pid: process.pid, expiresAt: new Date(Date.now() - 1000).toISOString() }))).toBe(true);
    const old = await leases.read('pmm');
    const mine = await acquireLease(leases, 'pmm', 'upgrade');
    // The stale lease's removal, replayed late, leaves the newer lease alone.
    await leases.remove('pmm', old!);
    expect((await leases.read('pmm'))?.lease.token).toBe(mine.lease.token);
    // A live holder elsewhere (not expired) is refused.
    await mine.release();
    expect(await leases.create('pmm', stale({ host: 'another-machine', pid: 1 }))).toBe(true);
    await expect(acquireLease(leases, 'pmm', 'upgrade')).rejects.toThrow(/op on another-machine \(pid 1, cnvm upgrade/);
  });

  it('renewal pushes the expiry out in the file; a lease taken over is not renewed or released by its old holder', async () => {
    const storage = dir();
    const leases = fileLeases(storage);
    const a = await acquireLease(leases, 'pmm', 'upgrade', 1);
    const before = a.lease.expiresAt;
    await new Promise((r) => setTimeout(r, 20));
    await a.renew();
    expect(JSON.parse(readFileSync(join(storage, 'locks', 'pmm.lock'), 'utf8')).expiresAt > before).toBe(true);
    // Expired (1 s) and taken over by another run: the old holder's renew and release change nothing.
    await new Promise((r) => setTimeout(r, 1100));
    const b = await acquireLease(leases, 'pmm', 'destroy');
    await a.renew();
    await a.release();
    expect((await leases.read('pmm'))?.lease.token).toBe(b.lease.token);
    await b.release();
    writeFileSync(join(storage, 'locks', 'pmm.lock'), ''); // a creator killed before it wrote: void after 10 s, not at once
    await expect(acquireLease(leases, 'pmm', 'upgrade')).rejects.toThrow(LeaseHeldError);
  });
});

interface Peer {
  /** Two clients of one provider scope: operator A's and operator B's. */
  a: Provider;
  b: Provider;
  images: [ImageRef, ImageRef];
}

async function ec2Peer(kind: (typeof EC2_PEERS)[number]): Promise<Peer> {
  const { peer, provider } = await awsAgainst(kind);
  cleanups.push(() => peer.close());
  return { a: provider, b: awsProviderFor(peer), images: peer.images };
}

async function gcePeer(): Promise<Peer> {
  const h = await gcpAgainstFake();
  cleanups.push(() => h.cleanup());
  const b = createGcpProvider({ project: GCP_PROJECT, zone: GCP_ZONE, clientOptions: fakeClientOptions(h.fake), pollIntervalMs: 1, publicIpUrl: h.echo.url, retry: { baseMs: 5, capMs: 40, budgetMs: 400 } });
  return {
    a: h.provider,
    b,
    images: [
      { id: 'projects/fedora-coreos-cloud/global/images/fedora-coreos-a', version: 'A' },
      { id: 'projects/fedora-coreos-cloud/global/images/fedora-coreos-b', version: 'B' },
    ],
  };
}

const peers: [string, () => Promise<Peer>][] = [...EC2_PEERS.map((k): [string, () => Promise<Peer>] => [`aws on ${k}`, () => ec2Peer(k)]), ['gcp on the fake', gcePeer]];

for (const [label, makePeer] of peers) {
  describe(`two operators, one VM (${label})`, () => {
    it('concurrent upgrades: one runs, the other exits 7; destroy from A while B upgrades exits 7; the lease is gone after', async () => {
      const { a, b, images } = await makePeer();
      const storeA = tempStore();
      const storeB = tempStore();
      cleanups.push(() => storeA.cleanup(), () => storeB.cleanup());
      await provisionVm(a, storeA, 'pmm', images[0], { password: { kind: 'default' } });

      // B's upgrade waits in its health gate until released, holding the lease meanwhile.
      let open: () => void = () => {};
      const gate = new Promise<void>((resolve) => (open = resolve));
      let inGate: () => void = () => {};
      const reached = new Promise<void>((resolve) => (inGate = resolve));
      const running = upgrade(b, storeB, { name: 'pmm', overrides: { image: images[1] }, healthIntervalMs: 10, healthCheck: async () => (inGate(), await gate, true) });
      await reached;

      const second = await upgrade(a, storeA, { name: 'pmm', overrides: { image: images[1] }, skipHealthCheck: true }).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(LeaseHeldError);
      expect(exitCodeFor(second as Error)).toBe(7);
      expect((second as Error).message).toMatch(/cnvm upgrade/);
      const destroyed = await destroy(a, storeA, { name: 'pmm', deleteData: true }).catch((e: unknown) => e);
      expect(destroyed).toBeInstanceOf(LeaseHeldError);

      open();
      const result = await running;
      expect(result.outcome).toBe('upgraded');
      expect(await b.leases?.read('pmm')).toBeUndefined();
      // Free again: A can work on it now.
      const lease = await a.acquireLease!('pmm', 'status-check');
      await lease.release();
    }, 120_000);

    it('an expired lease left by a run on another machine is taken over', async () => {
      const { a, b } = await makePeer();
      const left: LeaseHolder = { holder: 'op', host: 'gone-laptop', pid: 4242, command: 'upgrade', acquiredAt: new Date(Date.now() - 600_000).toISOString(), expiresAt: new Date(Date.now() - 1000).toISOString(), token: 'left-behind' };
      expect(await a.leases!.create('pmm', left)).toBe(true);
      expect(await b.leases!.create('pmm', { ...left, token: 'second' })).toBe(false);
      const took = await b.acquireLease!('pmm', 'destroy');
      expect((await a.leases!.read('pmm'))?.lease.token).toBe(took.lease.token);
      expect(took.lease).toMatchObject({ command: 'destroy', host: hostname(), pid: process.pid });
      await took.release();
      expect(await a.leases!.read('pmm')).toBeUndefined();
    }, 60_000);
  });
}
