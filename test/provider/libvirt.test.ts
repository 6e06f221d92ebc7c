// The libvirt adapter on real libvirt/qemu (qemu:///system; .ci/libvirt-setup.sh installs and starts it). The
// "image" is a blank qcow2: a domain with no OS runs under KVM or TCG, which is all these scenarios need.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLibvirtProvider } from '../../src/provider/libvirt.js';
import { domainXml, parseDomainXml, parseDomIfAddr, parseDomState } from '../../src/provider/libvirt-commands.js';
import { runProviderConformance } from './conformance.js';

function libvirtAvailable(): string | undefined {
  try {
    execFileSync('virsh', ['-c', 'qemu:///system', 'list'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('libvirt is available (bash .ci/libvirt-setup.sh)', () => {
  it('answers on qemu:///system', () => {
    expect(libvirtAvailable()).toBeUndefined();
  });
});

runProviderConformance('libvirt (real qemu:///system)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnvm-libvirt-'));
  chmodSync(dir, 0o755); // qemu runs as libvirt-qemu and must reach the disks
  const image = join(dir, 'base.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
  const provider = createLibvirtProvider({ uri: 'qemu:///system', storageDir: join(dir, 'store'), network: null, shutdownTimeoutSec: 0 });
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

describe('libvirt command builders', () => {
  const xml = domainXml({
    name: 'pmm1',
    virtType: 'qemu',
    memoryMiB: 4096,
    cpus: 2,
    bootDisk: '/s/vms/pmm1/boot.qcow2',
    baseImage: '/cache/fcos.qcow2',
    ignitionPath: '/s/vms/pmm1/config,1.ign',
    dataDisk: { path: '/s/volumes/pmm1-data.img', serial: 'pmm-data' },
  });

  it('hands Ignition to the guest through fw_cfg, commas escaped', () => {
    expect(xml).toContain("<qemu:arg value='name=opt/com.coreos/config,file=/s/vms/pmm1/config,,1.ign'/>");
  });

  it('attaches the data disk as virtio with its serial, and marks the domain as cnvm\'s', () => {
    expect(parseDomainXml(xml)).toEqual({
      cnvm: true,
      image: '/cache/fcos.qcow2',
      disks: [
        { path: '/s/vms/pmm1/boot.qcow2', target: 'vda' },
        { path: '/s/volumes/pmm1-data.img', target: 'vdb', serial: 'pmm-data' },
      ],
    });
  });

  it('parses virsh output', () => {
    expect(parseDomState('shut off\n')).toBe('stopped');
    expect(parseDomState('running')).toBe('running');
    expect(parseDomIfAddr(' Name       MAC address          Protocol     Address\n----\n vnet0      52:54:00:aa:bb:cc    ipv4         192.168.122.45/24\n')).toEqual(['192.168.122.45']);
  });
});
