// What cnvm leaves on a libvirt host, on real libvirt/qemu (qemu:///system): every file holding data, a disk or a
// secret is closed to other users, the user's base image is copied (never hard-linked, so libvirt re-owning a
// running VM's backing chain cannot touch it), and replaceIgnition rewrites the fw_cfg file in place of the old one
// with the same owner and mode.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/provider/errors.js';
import { createLibvirtProvider, parseDacBaseLabel, qemuIdentity } from '../../src/provider/libvirt/adapter.js';
import { libvirtSkipReason, libvirtTitle } from '../support/libvirt-probe.js';

const URI = 'qemu:///system';
const hasVirsh = libvirtSkipReason() === undefined;
const isRoot = process.getuid?.() === 0;

const dir = mkdtempSync(join(tmpdir(), 'cnvm-hostsafety-'));
chmodSync(dir, 0o755); // qemu runs as libvirt-qemu and must reach the store under it
const storageDir = join(dir, 'store');
const userImage = join(dir, 'mine.qcow2');
const vm = `cnvm-safe${process.pid}`;
const p = createLibvirtProvider({ uri: URI, storageDir, network: null, shutdownTimeoutSec: 0 });
const firstConfig = '{"ignition":{"version":"3.3.0"},"passwd":{"users":[{"name":"core","passwordHash":"first-boot-secret"}]}}';

/** Every path under a directory, the directory included. */
function walk(path: string): string[] {
  return lstatSync(path).isDirectory() ? [path, ...readdirSync(path).flatMap((e) => walk(join(path, e)))] : [path];
}

describe.skipIf(!hasVirsh)(libvirtTitle('libvirt host safety'), () => {
  const qemu = (() => {
    if (!hasVirsh) return undefined;
    const caps = execFileSync('virsh', ['-c', URI, 'capabilities'], { encoding: 'utf8' });
    return parseDacBaseLabel(caps, 'kvm') ?? parseDacBaseLabel(caps, 'qemu') ?? qemuIdentity();
  })();
  let userImageBefore: { uid: number; gid: number; mode: number; ino: number };

  beforeAll(async () => {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', userImage, '1G']);
    // The user's own image: owned by some other account, as a download in a home directory would be.
    if (isRoot) chownSync(userImage, 4242, 4242);
    chmodSync(userImage, 0o644);
    const st = statSync(userImage);
    userImageBefore = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, ino: st.ino };
    const volume = await p.createVolume({ name: `${vm}-data`, sizeGiB: 1, deviceName: 'pmm-data' });
    await p.createVm({ name: vm, image: { id: userImage }, ignition: firstConfig, dataVolumeId: volume.id, memoryMiB: 256, cpus: 1 });
    await p.startVm(vm);
  }, 180_000);

  afterAll(async () => {
    await p.destroyVm(vm).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('leaves the user\'s base image as it was (owner, mode, inode) while a VM runs on it', () => {
    const st = statSync(userImage);
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, ino: st.ino }).toEqual(userImageBefore);
    const staged = readdirSync(join(storageDir, 'images')).map((f) => statSync(join(storageDir, 'images', f)));
    expect(staged).toHaveLength(1);
    expect(staged[0]?.ino).not.toBe(userImageBefore.ino);
  });

  it('gives other users no access to anything in the store, and qemu\'s group only what it needs', () => {
    const open = walk(storageDir).filter((path) => (statSync(path).mode & 0o007) !== 0);
    expect(open).toEqual([]);
    const mode = (rel: string) => statSync(join(storageDir, rel)).mode & 0o777;
    expect(mode(`volumes/${vm}-data.img`) & 0o077).toBe(0);
    expect(mode(`volumes/${vm}-data.json`)).toBe(0o600);
    expect(mode(`vms/${vm}/boot.qcow2`) & 0o077).toBe(0);
    expect(mode(`vms/${vm}/domain.xml`)).toBe(0o600);
    if (isRoot && qemu && qemu.uid !== 0) {
      for (const folder of ['', 'volumes', 'images', 'vms', `vms/${vm}`]) {
        const st = statSync(join(storageDir, folder));
        expect([folder, st.mode & 0o777, st.uid, st.gid]).toEqual([folder, 0o710, 0, qemu.gid]);
      }
      const ign = statSync(join(storageDir, 'vms', vm, 'config.ign'));
      expect([ign.mode & 0o777, ign.uid, ign.gid]).toEqual([0o640, 0, qemu.gid]);
      const base = statSync(join(storageDir, 'images', readdirSync(join(storageDir, 'images'))[0] ?? ''));
      expect(base.mode & 0o007).toBe(0);
    }
  });

  it('replaceIgnition rewrites the fw_cfg file atomically with the same owner and mode; qemu reads it at the next start', async () => {
    const path = join(storageDir, 'vms', vm, 'config.ign');
    const before = statSync(path);
    const second = '{"ignition":{"version":"3.3.0"}}';
    expect(await p.replaceIgnition?.(vm, second)).toBe('replaced');
    const after = statSync(path);
    expect(readFileSync(path, 'utf8')).toBe(second);
    expect([after.mode & 0o7777, after.uid, after.gid]).toEqual([before.mode & 0o7777, before.uid, before.gid]);
    expect(after.ino).not.toBe(before.ino); // a new file renamed into place, never a half-written one
    expect(readdirSync(join(storageDir, 'vms', vm)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The running VM is untouched; after a restart qemu hands the guest the new file under the same fw_cfg name.
    expect((await p.findVm(vm))?.state).toBe('running');
    await p.stopVm(vm);
    await p.startVm(vm);
    const pid = readFileSync(`/run/libvirt/qemu/${vm}.pid`, 'utf8').trim();
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')).toContain(`-fw_cfg name=opt/com.coreos/config,file=${path}`);
    await p.stopVm(vm);
  }, 120_000);

  it('replaceIgnition of a VM that does not exist is NotFoundError and writes nothing', async () => {
    await expect(p.replaceIgnition?.(`${vm}-nope`, '{}')).rejects.toBeInstanceOf(NotFoundError);
    expect(readdirSync(join(storageDir, 'vms'))).toEqual([vm]);
  });
});
