// The GCE adapter through the real @google-cloud/compute client (REST transport) against the stateful fake of the
// Compute API on a loopback port: the provider conformance suite, plus GCE specifics.
import { describe, expect, it } from 'vitest';
import { gcpRequests, GCE_METADATA_LIMIT } from '../../src/provider/gcp/adapter.js';
import { fitIgnition } from '../../src/provider/ignition-size.js';
import { InUseError } from '../../src/provider/errors.js';
import { gcpAgainstFake } from '../support/gcp-harness.js';
import { runProviderConformance } from './conformance.js';

const IMAGE = { id: 'projects/fedora-coreos-cloud/global/images/fedora-coreos-43-gcp-x86-64', version: '43' };

runProviderConformance('gcp (real client, fake Compute API)', async () => {
  const { fake, provider, cleanup } = await gcpAgainstFake();
  return {
    provider,
    image: IMAGE,
    prefix: 'cnvm-conf',
    writeBytes: async (volume, bytes) => void bytes.copy(fake.disks.get(volume.id)?.bytes ?? Buffer.alloc(0)),
    readBytes: async (volume, length) => (fake.disks.get(volume.id)?.bytes ?? Buffer.alloc(0)).subarray(0, length),
    cleanup,
  };
});

describe('gcp specifics', () => {
  it('builds insert requests with an explicit deviceName, READ_WRITE, autoDelete off, labels and the per-VM tag', () => {
    const r = gcpRequests({ project: 'p', zone: 'europe-west1-b' }).instanceInsert(
      { name: 'pmm-g2', image: { id: 'projects/fedora-coreos-cloud/global/images/family/fedora-coreos-stable' }, ignition: '{}', owner: { name: 'pmm', generation: 2 } },
      '{}',
      { name: 'pmm-data', deviceName: 'pmm-data' },
    ) as { instanceResource: { disks: unknown[]; tags: unknown; metadata: { items: { key: string }[] } } };
    expect(r.instanceResource.disks[1]).toEqual({ source: 'projects/p/zones/europe-west1-b/disks/pmm-data', deviceName: 'pmm-data', mode: 'READ_WRITE', autoDelete: false });
    expect(r.instanceResource.disks[0]).toMatchObject({ boot: true, autoDelete: true });
    expect(r.instanceResource.tags).toEqual({ items: ['cnvm-pmm'] });
    expect(r.instanceResource.metadata.items.map((i) => i.key)).toContain('user-data');
  });

  it('never sends an insert naming a disk attached elsewhere', async () => {
    const { fake, provider, cleanup } = await gcpAgainstFake();
    try {
      const vol = await provider.createVolume({ name: 'd1', sizeGiB: 10, deviceName: 'pmm-data' });
      await provider.createVm({ name: 'a', image: IMAGE, ignition: '{}', dataVolumeId: vol.id });
      const before = fake.log.filter((l) => l === 'POST /instances').length;
      await expect(provider.createVm({ name: 'b', image: IMAGE, ignition: '{}', dataVolumeId: vol.id })).rejects.toBeInstanceOf(InUseError);
      expect(fake.log.filter((l) => l === 'POST /instances').length).toBe(before);
      // every mutation carried a requestId and was waited on
      expect(fake.log.some((l) => /\/operations\/operation-\d+\/wait$/.test(l))).toBe(true);
    } finally {
      await cleanup();
    }
  });

  it('wraps a config over 256 KiB in a compressed replace, and refuses one that still does not fit', () => {
    const big = JSON.stringify({ ignition: { version: '3.3.0' }, storage: { files: [{ path: '/a', contents: { source: `data:,${'a'.repeat(300 * 1024)}` } }] } });
    const fitted = fitIgnition(big, GCE_METADATA_LIMIT, 'a GCE metadata value');
    expect(fitted.wrapped).toBe(true);
    expect(JSON.parse(fitted.text)).toMatchObject({ ignition: { version: '3.3.0', config: { replace: { compression: 'gzip' } } } });
    const random = JSON.stringify({ ignition: { version: '3.3.0' }, x: Buffer.from(Array.from({ length: 400 * 1024 }, () => Math.floor(Math.random() * 256))).toString('base64') });
    expect(() => fitIgnition(random, GCE_METADATA_LIMIT, 'a GCE metadata value')).toThrow(/at most 262144/);
  });
});

describe('GCE serial port output', () => {
  it('reads instances.getSerialPortOutput for an instance, nothing for a missing one', async () => {
    const { fake, provider, cleanup } = await gcpAgainstFake();
    try {
      await provider.createVm({ name: 'pmm-serial', image: IMAGE, ignition: '{"ignition":{"version":"3.3.0"}}' });
      fake.serialOutput.set('pmm-serial', 'SeaBIOS\n[  9.1] Ignition failed: bad config\n');
      expect(await provider.consoleOutput?.('pmm-serial')).toBe('SeaBIOS\n[  9.1] Ignition failed: bad config\n');
      expect(fake.log).toContain('GET /instances/pmm-serial/serialPort');
      expect(await provider.consoleOutput?.('nope')).toBeUndefined();
    } finally {
      await cleanup();
    }
  });
});
