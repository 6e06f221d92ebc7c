// The libvirt adapter on real libvirt/qemu (qemu:///system; .ci/libvirt-setup.sh installs and starts it). The
// "image" is a blank qcow2: a domain with no OS runs under KVM or TCG, which is all these scenarios need. The
// suite is skipped, with the reason, when virsh, qemu or the daemon is missing (test/support/libvirt-probe.ts); in
// CI (CNVM_REQUIRE_LIBVIRT=1) that is a failure instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ProviderError, WrongStateError } from '../../src/provider/errors.js';
import { createLibvirtProvider, parseDacBaseLabel, qemuIdentity } from '../../src/provider/libvirt/adapter.js';
import { offeredVirtTypes } from '../../src/provider/libvirt/capabilities.js';
import type { Provider } from '../../src/provider/types.js';
import { libvirtSkipReason, libvirtTitle } from '../support/libvirt-probe.js';
import { runProviderConformance } from './conformance.js';

const URI = 'qemu:///system';
const skip = libvirtSkipReason();
const hasVirsh = skip === undefined;

/** Milliseconds per provider operation, printed after the suite (the figures the README quotes). */
const timings = new Map<string, number[]>();
function timed(p: Provider): Provider {
  return new Proxy(p, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || key === 'plan') return value;
      return async (...args: unknown[]) => {
        const t = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          const list = timings.get(String(key)) ?? [];
          list.push(performance.now() - t);
          timings.set(String(key), list);
        }
      };
    },
  });
}

/** A scratch area: the base image in a 0700 directory (like a cache in root's home), the store world-traversable. */
function scratch(prefix: string): { dir: string; image: string; storageDir: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755); // qemu runs as libvirt-qemu and must reach the store under it
  const cache = join(dir, 'private-cache');
  execFileSync('mkdir', ['-m', '0700', cache]);
  const image = join(cache, 'blank.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
  return { dir, image, storageDir: join(dir, 'store') };
}

function qemuCmdline(name: string): string {
  const pid = readFileSync(`/run/libvirt/qemu/${name}.pid`, 'utf8').trim();
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

describe.skipIf(!hasVirsh)(libvirtTitle('libvirt is available (bash .ci/libvirt-setup.sh)'), () => {
  it(`answers on ${URI}`, () => {
    expect(() => execFileSync('virsh', ['-c', URI, 'list'], { stdio: 'pipe' })).not.toThrow();
  });
});

if (hasVirsh) {
  runProviderConformance(`libvirt (real ${URI})`, async () => {
    const { dir, image, storageDir } = scratch('cnvm-libvirt-');
    const provider = timed(createLibvirtProvider({ uri: URI, storageDir, network: null, shutdownTimeoutSec: 0 }));
    return {
      provider,
      image: { id: image, version: 'blank' },
      prefix: `cnvm-t${process.pid}`,
      async writeBytes(volume, bytes) {
        const fd = openSync(volume.id, 'r+');
        writeSync(fd, bytes, 0, bytes.length, 0);
        closeSync(fd);
      },
      async readBytes(volume, length) {
        const buf = Buffer.alloc(length);
        const fd = openSync(volume.id, 'r');
        readSync(fd, buf, 0, length, 0);
        closeSync(fd);
        return buf;
      },
      async cleanup() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

describe.skipIf(!hasVirsh)(libvirtTitle('libvirt adapter specifics'), () => {
  const { dir, image, storageDir } = hasVirsh ? scratch('cnvm-libvirt-x-') : { dir: '', image: '', storageDir: '' };
  const p = timed(createLibvirtProvider({ uri: URI, storageDir, network: null, shutdownTimeoutSec: 0 }));
  const vm = `cnvm-x${process.pid}`;
  const foreign = `cnvm-foreign${process.pid}`;
  const ignition = '{"ignition":{"version":"3.3.0"},"passwd":{"users":[{"name":"core","passwordHash":"secret"}]}}';

  beforeAll(async () => {
    const volume = await p.createVolume({ name: `${vm}-data`, sizeGiB: 1, deviceName: 'pmm-data' });
    await p.createVm({ name: vm, image: { id: image }, ignition, dataVolumeId: volume.id, memoryMiB: 256, cpus: 1 });
  }, 120_000);
  afterAll(async () => {
    await p.destroyVm(vm).catch(() => undefined);
    spawnSync('virsh', ['-c', URI, 'undefine', foreign], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    const rows = [...timings].map(([op, ms]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      return `${op.padEnd(14)} n=${String(ms.length).padStart(2)}  median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0).padStart(5)} ms  max ${sorted.at(-1)?.toFixed(0).padStart(5)} ms`;
    });
    console.log(`libvirt operation timings (${URI}):\n${rows.join('\n')}`);
  }, 120_000);

  it('keeps the base image under the storage directory, so qemu can read it and a cleared cache breaks nothing', () => {
    const backing = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-U', join(storageDir, 'vms', vm, 'boot.qcow2')], { encoding: 'utf8' })) as { 'backing-filename': string };
    expect(backing['backing-filename'].startsWith(join(storageDir, 'images', 'blank-'))).toBe(true);
    // A copy, never a hard link: libvirt re-owns a running VM's backing chain, which must not be the user's file.
    expect(statSync(backing['backing-filename']).ino).not.toBe(statSync(image).ino);
  });

  it('writes the Ignition config for qemu alone to read', () => {
    const path = join(storageDir, 'vms', vm, 'config.ign');
    expect(readFileSync(path, 'utf8')).toBe(ignition);
    const file = statSync(path);
    const folder = statSync(join(storageDir, 'vms', vm));
    const caps = execFileSync('virsh', ['-c', URI, 'capabilities'], { encoding: 'utf8' });
    const qemu = parseDacBaseLabel(caps, 'kvm') ?? parseDacBaseLabel(caps, 'qemu') ?? qemuIdentity();
    if (process.getuid?.() === 0 && qemu && qemu.uid !== 0) {
      expect([file.mode & 0o777, file.gid]).toEqual([0o640, qemu.gid]);
      expect([folder.mode & 0o777, folder.gid]).toEqual([0o710, qemu.gid]);
    } else {
      expect(file.mode & 0o077).toBe(0);
    }
  });

  it('keeps the data volume and the boot disk from other users (PMM data, monitored databases\' credentials)', () => {
    expect(statSync(join(storageDir, 'volumes', `${vm}-data.img`)).mode & 0o077).toBe(0);
    expect(statSync(join(storageDir, 'volumes')).mode & 0o007).toBe(0);
    expect(statSync(join(storageDir, 'vms', vm, 'boot.qcow2')).mode & 0o077).toBe(0);
  });

  it('starts qemu with the config on fw_cfg and the data disk under its serial', async () => {
    expect((await p.startVm(vm)).state).toBe('running');
    const cmdline = qemuCmdline(vm);
    expect(cmdline).toContain(`-fw_cfg name=opt/com.coreos/config,file=${join(storageDir, 'vms', vm, 'config.ign')}`);
    expect(cmdline).toMatch(/serial\W+pmm-data/); // -drive serial=… or -device {"serial":"pmm-data"}
    // KVM exactly when libvirt offers it (else TCG), so the same code runs on hosts without nested virtualisation.
    const kvm = offeredVirtTypes(execFileSync('virsh', ['-c', URI, 'capabilities'], { encoding: 'utf8' })).includes('kvm');
    expect(cmdline).toMatch(kvm ? /-accel kvm|accel=kvm/ : /-accel tcg|accel=tcg/);
    expect((await p.stopVm(vm)).state).toBe('stopped');
  });

  it('keeps the boot disk when asked, and a VM defined again under the name reuses it', async () => {
    const boot = join(storageDir, 'vms', vm, 'boot.qcow2');
    const before = statSync(boot).ino;
    await p.destroyVm(vm, { deleteBootDisk: false });
    expect(await p.findVm(vm)).toBeUndefined();
    expect(existsSync(boot)).toBe(true);
    const again = await p.createVm({ name: vm, image: { id: image }, ignition, memoryMiB: 256, cpus: 1 });
    expect(again.state).toBe('stopped');
    expect(statSync(boot).ino).toBe(before);
    await p.destroyVm(vm);
    expect(existsSync(join(storageDir, 'vms', vm))).toBe(false);
    expect((await p.findVolume(`${vm}-data`))?.attachedTo).toBeUndefined();
  });

  it('reports missing VMs and volumes as NotFoundError, the provider message kept as the cause', async () => {
    const err = await p.startVm(`${vm}-nope`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    await expect(p.attachVolume(vm, join(storageDir, 'volumes', 'nope.img'))).rejects.toBeInstanceOf(NotFoundError);
    const raw = await p.createVm({ name: `${vm}-bad`, image: { id: join(dir, 'missing.qcow2') }, ignition: '{}' }).catch((e: unknown) => e);
    expect(raw).toBeInstanceOf(NotFoundError);
  });

  it('says how to fix a VM whose network is not active', async () => {
    const net = `cnvmnet${process.pid}`;
    const xml = join(dir, 'net.xml');
    writeFileSync(xml, `<network><name>${net}</name></network>`);
    execFileSync('virsh', ['-c', URI, 'net-define', xml], { stdio: 'pipe' });
    const q = createLibvirtProvider({ uri: URI, storageDir, network: net, shutdownTimeoutSec: 0 });
    try {
      await q.createVm({ name: `${vm}-net`, image: { id: image }, ignition: '{}', memoryMiB: 256, cpus: 1 });
      const err = await q.startVm(`${vm}-net`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WrongStateError);
      expect((err as Error).message).toContain(`libvirt network ${net} is not active; start it (virsh -c ${URI} net-start ${net}) or use another network`);
      expect((err as Error).cause).toBeInstanceOf(Error);
    } finally {
      await q.destroyVm(`${vm}-net`);
      spawnSync('virsh', ['-c', URI, 'net-undefine', net], { stdio: 'ignore' });
    }
  });

  it('refuses to manage a domain it did not define', async () => {
    const xml = join(dir, 'foreign.xml');
    writeFileSync(xml, `<domain type='qemu'><name>${foreign}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
    execFileSync('virsh', ['-c', URI, 'define', xml], { stdio: 'pipe' });
    const err = await p.findVm(foreign).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/not created by cnvm/);
    expect((await p.list()).vms.map((v) => v.name)).not.toContain(foreign);
    await expect(p.destroyVm(foreign)).rejects.toBeInstanceOf(ProviderError);
    expect(spawnSync('virsh', ['-c', URI, 'domstate', foreign]).status).toBe(0);
  });
});
