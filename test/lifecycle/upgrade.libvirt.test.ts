// Upgrade on real libvirt (qemu:///system): end to end with two blank "images", and the fault matrix with crashes
// injected around every virsh-backed call. No real FCOS boots here, so the health gate is skipped or simulated.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import { upgrade } from '../../src/lifecycle/upgrade.js';
import { createLibvirtProvider } from '../../src/provider/libvirt/adapter.js';
import { crashable } from '../support/crashable.js';
import { libvirtSkipReason, libvirtTitle } from '../support/libvirt-probe.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';
import { provisionFaultMatrix, type ProvisionMatrixHarness } from './provision-matrix.js';
import { upgradeFaultMatrix } from './upgrade-matrix.js';

function setup(tag: string) {
  const dir = mkdtempSync(join(tmpdir(), `cnvm-up-${tag}-`));
  chmodSync(dir, 0o755);
  const imageA = join(dir, 'fcos-a.qcow2');
  const imageB = join(dir, 'fcos-b.qcow2');
  for (const image of [imageA, imageB]) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
  const provider = createLibvirtProvider({ uri: 'qemu:///system', storageDir: join(dir, 'store'), network: null, shutdownTimeoutSec: 0 });
  return { dir, imageA, imageB, provider };
}

function bytesAt(path: string, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  readSync(fd, buf, 0, length, 0);
  closeSync(fd);
  return buf;
}

function writeAt(path: string, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, 0);
  closeSync(fd);
}

describe.skipIf(libvirtSkipReason() !== undefined)(libvirtTitle('upgrade on real libvirt'), () => {
  it('end to end: same volume (path and serial), old domain gone, bytes intact', async () => {
    const { dir, imageA, imageB, provider } = setup('e2e');
    const store = tempStore();
    const name = `cnvm-e2e${process.pid}`;
    try {
      const first = await provisionVm(provider, store, name, { id: imageA, version: 'A' });
      const marker = Buffer.from(`PMM data written before the upgrade ${Date.now()}`);
      writeAt(first.volume.id, marker);
      const result = await upgrade(provider, store, { name, overrides: { image: { id: imageB, version: 'B' } }, skipHealthCheck: true });
      expect(result).toMatchObject({ outcome: 'upgraded', oldVm: name, newVm: `${name}-g2` });
      expect(result.vm.state).toBe('running');
      expect(result.vm.image).toBe(imageB);
      expect(result.vm.volumes).toEqual([{ volumeId: first.volume.id, deviceName: 'pmm-data' }]);
      const xml = execFileSync('virsh', ['-c', 'qemu:///system', 'dumpxml', `${name}-g2`], { encoding: 'utf8' });
      expect(xml).toContain(`<source file='${first.volume.id}'`);
      expect(xml).toContain('<serial>pmm-data</serial>');
      expect(await provider.findVm(name)).toBeUndefined();
      expect(execFileSync('virsh', ['-c', 'qemu:///system', 'list', '--all', '--name'], { encoding: 'utf8' })).not.toMatch(new RegExp(`^${name}$`, 'm'));
      expect(bytesAt(first.volume.id, marker.length).equals(marker)).toBe(true);
      expect((await provider.findVolume(dataVolumeName(name)))?.id).toBe(first.volume.id);
    } finally {
      for (const vm of [name, `${name}-g2`]) await provider.destroyVm(vm).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      store.cleanup();
    }
  }, 120_000);

  let run = 0;
  async function harness(): Promise<ProvisionMatrixHarness> {
    const { dir, imageA, imageB, provider } = setup(`m${++run}`);
    const name = `cnvm-m${process.pid}x${run}`;
    const volumeFile = (): string => join(dir, 'store', 'volumes', `${dataVolumeName(name)}.img`);
    const c = crashable(provider, volumeFile);
    return {
      provider: c.provider,
      imageA: { id: imageA, version: 'A' },
      imageB: { id: imageB, version: 'B' },
      name,
      crashAt: c.crashAt,
      callCount: c.callCount,
      maxAttachments: async () => c.maxHolders(),
      writeBytes: async (bytes) => writeAt(volumeFile(), bytes),
      readBytes: async (length) => bytesAt(volumeFile(), length),
      ignitionOf: async (vm) => readFileSync(join(dir, 'store', 'vms', vm, 'config.ign'), 'utf8'),
      cleanup: async () => {
        for (const vm of [name, `${name}-g2`]) await provider.destroyVm(vm).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  upgradeFaultMatrix('libvirt', { timeout: 120_000, makeHarness: harness });
  provisionFaultMatrix('libvirt', harness, 120_000);
});
