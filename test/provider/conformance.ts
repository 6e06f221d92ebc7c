// One provider conformance suite, run against every adapter (libvirt for real; AWS and GCP against stateful fakes).
// It walks the data volume through two VMs and checks the rules cnvm depends on: the volume stays the same object
// with the same bytes, it is never attached to two VMs, destroying a VM keeps it, and every step is idempotent.
// Adapters that declare `addressing.kind === 'reserved'` also walk a stable address through the same VMs: reserved
// once, on one VM at a time, reported by the VM that holds it, kept when its holder goes, released only when free.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InUseError, WrongStateError } from '../../src/provider/errors.js';
import { LeaseHeldError } from '../../src/provider/lease-rules.js';
import type { ImageRef, Provider, StableAddress, Volume } from '../../src/provider/types.js';

export interface ConformanceHarness {
  provider: Provider;
  image: ImageRef;
  /** Unique prefix for this run's resource names. */
  prefix: string;
  /** Write / read bytes at the start of a volume, behind the provider's back (as the guest would). */
  writeBytes(volume: Volume, bytes: Buffer): Promise<void>;
  readBytes(volume: Volume, length: number): Promise<Buffer>;
  cleanup(): Promise<void>;
  /**
   * Why this adapter has no provider-side lease yet (its runs exclude each other only through the local state-dir
   * lock). Only a harness that says so may lack one; any other adapter without it fails the suite.
   */
  noLeaseYet?: string;
}

export function runProviderConformance(label: string, makeHarness: () => Promise<ConformanceHarness>): void {
  describe(`provider conformance: ${label}`, () => {
    let h: ConformanceHarness;
    let p: Provider;
    let volume: Volume;
    const marker = Buffer.from(`cnvm conformance ${Date.now()} \u2713 bytes that must survive`);
    /** The first 64 KiB as the guest left them: the marker, then the zeros of a fresh volume. */
    const image = Buffer.concat([marker, Buffer.alloc(64 * 1024 - marker.length)]);
    const names = { vol: '', vm1: '', vm2: '', vm3: '', address: '' };
    let address: StableAddress | undefined;
    /** The address operations, for adapters that reserve addresses; the test is skipped on the others. */
    const reserved = (skip: () => void): Required<Pick<Provider, 'findAddress' | 'reserveAddress' | 'assignAddress' | 'releaseAddress'>> => {
      const { findAddress, reserveAddress, assignAddress, releaseAddress } = p;
      if (p.addressing.kind !== 'reserved') skip();
      if (!findAddress || !reserveAddress || !assignAddress || !releaseAddress) throw new Error(`${p.name} declares reserved addresses without the operations`);
      return { findAddress, reserveAddress, assignAddress, releaseAddress };
    };

    beforeAll(async () => {
      h = await makeHarness();
      p = h.provider;
      names.vol = `${h.prefix}-data`;
      names.vm1 = `${h.prefix}-a`;
      names.vm2 = `${h.prefix}-b`;
      names.vm3 = `${h.prefix}-c`;
      names.address = `${h.prefix}-address`;
    }, 120_000);
    afterAll(async () => {
      for (const vm of [names.vm1, names.vm2, names.vm3]) await p?.destroyVm(vm).catch(() => undefined);
      const a = p?.findAddress ? await p.findAddress(names.address).catch(() => undefined) : undefined;
      if (a) await p.releaseAddress?.(a.id).catch(() => undefined);
      const v = await p?.findVolume(names.vol).catch(() => undefined);
      if (v) await p.deleteVolume(v.id).catch(() => undefined);
      await h?.cleanup();
    }, 120_000);

    it('preflight checks without side effects', async () => {
      await p.preflight({ name: names.vm1, image: h.image, ignition: '{"ignition":{"version":"3.3.0"}}' });
      expect(await p.findVm(names.vm1)).toBeUndefined();
    });

    it('plans without side effects', async () => {
      const steps = [
        ...p.plan.createVolume({ name: names.vol, sizeGiB: 1, deviceName: 'pmm-data' }),
        ...p.plan.createVm({ name: names.vm1, image: h.image, ignition: '{}' }),
        ...p.plan.stopVm(names.vm1),
        ...p.plan.detachVolume(names.vm1, 'x'),
      ];
      expect(steps.length).toBeGreaterThan(3);
      for (const s of steps) expect(s.action && s.effect).toBeTruthy();
      expect(await p.findVolume(names.vol)).toBeUndefined();
      expect(await p.findVm(names.vm1)).toBeUndefined();
    });

    it('creates the data volume once', async () => {
      volume = await p.createVolume({ name: names.vol, sizeGiB: 1, deviceName: 'pmm-data', vmName: names.vm1 });
      expect(volume).toMatchObject({ name: names.vol, sizeGiB: 1, deviceName: 'pmm-data' });
      expect(volume.attachedTo).toBeUndefined();
      const again = await p.createVolume({ name: names.vol, sizeGiB: 1, deviceName: 'pmm-data', vmName: names.vm1 });
      expect(again.id).toBe(volume.id);
      await h.writeBytes(volume, marker);
    });

    it('creates a VM with the volume attached under its device name, once', async () => {
      const vm = await p.createVm({ name: names.vm1, image: h.image, ignition: '{"ignition":{"version":"3.3.0"}}', dataVolumeId: volume.id, memoryMiB: 256, cpus: 1 });
      expect(vm.state).toBe('stopped');
      expect(vm.volumes).toEqual([{ volumeId: volume.id, deviceName: 'pmm-data' }]);
      const again = await p.createVm({ name: names.vm1, image: h.image, ignition: '{}', dataVolumeId: volume.id });
      expect(again.id).toBe(vm.id);
      expect((await p.findVolume(names.vol))?.attachedTo).toBe(names.vm1);
    });

    it('starts, and starting again is a no-op', async () => {
      expect((await p.startVm(names.vm1)).state).toBe('running');
      expect((await p.startVm(names.vm1)).state).toBe('running');
    });

    it('keeps the owner and the record it was given, and never takes over a VM of another owner', async () => {
      const record = JSON.stringify({ note: 'cnvm record \u2713 with "quotes" & <brackets>', list: Array.from({ length: 40 }, (_, i) => `item-${i}`) });
      await p.createVm({ name: names.vm3, image: h.image, ignition: '{"ignition":{"version":"3.3.0"}}', memoryMiB: 256, cpus: 1, owner: { name: names.vm1, generation: 3 }, record });
      expect(await p.findVm(names.vm3)).toMatchObject({ owner: { name: names.vm1, generation: 3 }, record });
      await expect(p.createVm({ name: names.vm3, image: h.image, ignition: '{}', owner: { name: 'someone-else', generation: 1 } })).rejects.toBeInstanceOf(InUseError);
    });

    it('createVm on a VM left running (killed between launch and stop) brings it to stopped', async () => {
      expect((await p.startVm(names.vm3)).state).toBe('running');
      const again = await p.createVm({ name: names.vm3, image: h.image, ignition: '{}', owner: { name: names.vm1, generation: 3 } });
      expect(again.state).toBe('stopped');
      await p.destroyVm(names.vm3);
      expect(await p.findVm(names.vm3)).toBeUndefined();
    });

    it('refuses a second attachment of the volume', async () => {
      await p.createVm({ name: names.vm2, image: h.image, ignition: '{"ignition":{"version":"3.3.0"}}', memoryMiB: 256, cpus: 1 });
      await expect(p.attachVolume(names.vm2, volume.id)).rejects.toBeInstanceOf(InUseError);
      await expect(p.createVm({ name: names.vm3, image: h.image, ignition: '{}', dataVolumeId: volume.id })).rejects.toBeInstanceOf(InUseError);
      expect(await p.findVm(names.vm3)).toBeUndefined();
    });

    it('refuses to detach from a running VM', async () => {
      await expect(p.detachVolume(names.vm1, volume.id)).rejects.toBeInstanceOf(WrongStateError);
    });

    it('stops, detaches, and both are idempotent', async () => {
      expect((await p.stopVm(names.vm1)).state).toBe('stopped');
      expect((await p.stopVm(names.vm1)).state).toBe('stopped');
      expect((await p.detachVolume(names.vm1, volume.id)).volumes).toEqual([]);
      expect((await p.detachVolume(names.vm1, volume.id)).volumes).toEqual([]);
      expect((await p.findVolume(names.vol))?.attachedTo).toBeUndefined();
    });

    it('attaches to the second VM and starts it; the volume is the same object with the same bytes', async () => {
      const vm = await p.attachVolume(names.vm2, volume.id);
      expect(vm.volumes).toEqual([{ volumeId: volume.id, deviceName: 'pmm-data' }]);
      expect((await p.attachVolume(names.vm2, volume.id)).volumes).toHaveLength(1);
      expect((await p.startVm(names.vm2)).state).toBe('running');
      const now = await p.findVolume(names.vol);
      expect(now?.id).toBe(volume.id);
      expect(now?.attachedTo).toBe(names.vm2);
      expect((await h.readBytes(volume, image.length)).equals(image)).toBe(true);
    });

    it('lists what cnvm manages', async () => {
      const { vms, volumes } = await p.list();
      expect(vms.map((v) => v.name)).toEqual(expect.arrayContaining([names.vm1, names.vm2]));
      expect(volumes.map((v) => v.id)).toContain(volume.id);
    });

    it('reserved addresses: reserving twice gives the same address; it can be found by name and by id', async ({ skip }) => {
      const ops = reserved(skip);
      expect(p.addressing.describe).toBeTruthy();
      expect(p.plan.reserveAddress?.(names.address).length).toBeGreaterThan(0);
      expect(await ops.findAddress(names.address)).toBeUndefined();
      address = await ops.reserveAddress(names.address, names.vm1);
      expect(address).toMatchObject({ name: names.address, ip: expect.stringMatching(/\S/) });
      expect(address.assignedTo).toBeUndefined();
      expect((await ops.reserveAddress(names.address, names.vm1)).id).toBe(address.id);
      expect((await ops.findAddress(address.id))?.ip).toBe(address.ip);
    });

    it('reserved addresses: assigned to a running VM, it reports the IP; assigning again changes nothing', async ({ skip }) => {
      const ops = reserved(skip);
      const a = address as StableAddress;
      expect(p.plan.assignAddress?.(a.id, names.vm2).length).toBeGreaterThan(0);
      expect((await ops.assignAddress(a.id, names.vm2)).assignedTo).toBe(names.vm2);
      expect((await p.findVm(names.vm2))?.addresses[0]).toBe(a.ip);
      expect((await ops.assignAddress(a.id, names.vm2)).assignedTo).toBe(names.vm2);
      expect((await ops.findAddress(a.id))?.assignedTo).toBe(names.vm2);
      await expect(ops.releaseAddress(a.id)).rejects.toBeInstanceOf(InUseError);
    });

    it('reserved addresses: assigned to another (stopped) VM, it moves; that VM reports it once started', async ({ skip }) => {
      const ops = reserved(skip);
      const a = address as StableAddress;
      expect((await ops.assignAddress(a.id, names.vm1)).assignedTo).toBe(names.vm1);
      expect((await p.findVm(names.vm2))?.addresses).not.toContain(a.ip);
      expect((await p.startVm(names.vm1)).state).toBe('running');
      expect((await p.findVm(names.vm1))?.addresses[0]).toBe(a.ip);
      expect((await p.findVm(names.vm2))?.addresses).not.toContain(a.ip);
      expect((await p.stopVm(names.vm1)).state).toBe('stopped');
      expect((await ops.findAddress(a.id))?.assignedTo).toBe(names.vm1);
    });

    it('destroying a VM keeps its data volume; destroying again is a no-op', async () => {
      await p.destroyVm(names.vm2);
      await p.destroyVm(names.vm2);
      expect(await p.findVm(names.vm2)).toBeUndefined();
      const kept = await p.findVolume(names.vol);
      expect(kept?.id).toBe(volume.id);
      expect(kept?.attachedTo).toBeUndefined();
      expect((await h.readBytes(volume, image.length)).equals(image)).toBe(true);
    });

    it('deletes a volume only when detached, and only once', async () => {
      await p.attachVolume(names.vm1, volume.id);
      await expect(p.deleteVolume(volume.id)).rejects.toBeInstanceOf(InUseError);
      await p.detachVolume(names.vm1, volume.id);
      await p.deleteVolume(volume.id);
      await p.deleteVolume(volume.id);
      expect(await p.findVolume(names.vol)).toBeUndefined();
      await p.destroyVm(names.vm1);
    });

    it('reserved addresses: destroying the holder keeps the address, unassigned; then it is released, once', async ({ skip }) => {
      const ops = reserved(skip);
      const a = address as StableAddress;
      const kept = await ops.findAddress(a.id);
      expect(kept).toMatchObject({ id: a.id, ip: a.ip });
      expect(kept?.assignedTo).toBeUndefined();
      expect(p.plan.releaseAddress?.(a.id).length).toBeGreaterThan(0);
      await ops.releaseAddress(a.id);
      await ops.releaseAddress(a.id);
      expect(await ops.findAddress(names.address)).toBeUndefined();
    });

    it('the VM\'s lease: one holder at a time, a live one refused naming it, released on success and on failure', async ({ skip }) => {
      const acquire = p.acquireLease;
      if (!acquire && h.noLeaseYet) return skip(h.noLeaseYet);
      if (!acquire) throw new Error(`${p.name} has no lease primitives`);
      const key = `${h.prefix}-lease`;
      const a = await acquire(key, 'upgrade');
      const refused = await acquire(key, 'destroy').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(LeaseHeldError);
      expect((refused as LeaseHeldError).holder.token).toBe(a.lease.token);
      expect((refused as Error).message).toContain('cnvm upgrade');
      await a.release();
      await a.release();
      const b = await acquire(key, 'destroy');
      expect(b.lease.command).toBe('destroy');
      // A command that fails still releases (lockVm's finally): the next one gets it at once.
      await Promise.reject(new Error('step failed')).catch(() => b.release());
      const c = await acquire(key, 'upgrade');
      await c.release();
    });
  });
}
