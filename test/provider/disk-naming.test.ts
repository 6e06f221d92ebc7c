// Each provider's disk naming (src/provider/<name>/disk.ts): the stable path its guest sees a data volume under.
import { describe, expect, it } from 'vitest';
import { dataDevicePath, dataDiskDevice, providerModule, providerNames } from '../../src/provider/registry.js';

describe('data disk device paths', () => {
  it('come from the volume as each provider attaches it', () => {
    const volume = { id: 'vol-0123456789abcdef0', deviceName: 'pmm-data' };
    expect(dataDevicePath('libvirt', volume)).toBe('/dev/disk/by-id/virtio-pmm-data');
    expect(dataDevicePath('gcp', volume)).toBe('/dev/disk/by-id/google-pmm-data');
    expect(dataDevicePath('aws', volume)).toBe('/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0');
    for (const name of providerNames()) expect(providerModule(name).disk.device(providerModule(name).disk.sample), name).toMatch(/^\/dev\/disk\/by-id\//);
  });

  it('are stable per provider', () => {
    expect(dataDiskDevice({ provider: 'libvirt', serial: 'pmm-data' })).toBe('/dev/disk/by-id/virtio-pmm-data');
    expect(dataDiskDevice({ provider: 'gcp', deviceName: 'pmm-data' })).toBe('/dev/disk/by-id/google-pmm-data');
    expect(dataDiskDevice({ provider: 'aws', volumeId: 'vol-0123456789abcdef0' })).toBe('/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0');
  });
  it('refuse names the guest would not see as given', () => {
    expect(() => dataDiskDevice({ provider: 'libvirt', serial: 'a-serial-longer-than-20' })).toThrow(/1–20 characters/);
    expect(() => dataDiskDevice({ provider: 'libvirt', serial: 'bad serial' })).toThrow(/serial/);
    expect(() => dataDiskDevice({ provider: 'gcp', deviceName: 'Data_Disk' })).toThrow(/deviceName/);
    expect(() => dataDiskDevice({ provider: 'aws', volumeId: 'vol_123' })).toThrow(/EBS volume id/);
  });
});
