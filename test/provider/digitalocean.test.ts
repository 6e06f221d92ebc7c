// The DigitalOcean adapter against the stateful fake of API v2 on a loopback port: the provider conformance suite,
// then DigitalOcean specifics (request shapes, region rules, rate limits, faults, the token never sent elsewhere).
import { describe, expect, it } from 'vitest';
import { DO_USER_DATA_LIMIT } from '../../src/provider/digitalocean/adapter.js';
import { doRequests, recordFromTags, recordTags, TAG } from '../../src/provider/digitalocean/requests.js';
import { InUseError, PermissionError, ProviderError } from '../../src/provider/errors.js';
import { providerModule } from '../../src/provider/registry.js';
import { doAgainstFake, volumeBytes } from '../support/do-harness.js';
import { runProviderConformance } from './conformance.js';

const IMAGE = { id: '1001', version: 'A' };
const IGN = '{"ignition":{"version":"3.3.0"}}';

runProviderConformance('digitalocean (fetch client, fake API v2)', async () => {
  const { fake, provider, cleanup } = await doAgainstFake({}, { actionPolls: 2 });
  return {
    provider,
    image: IMAGE,
    prefix: 'cnvm-conf',
    writeBytes: async (volume, bytes) => void bytes.copy(volumeBytes(fake, volume.id)),
    readBytes: async (volume, length) => volumeBytes(fake, volume.id).subarray(0, length),
    cleanup,
    // The DO API has no create-if-absent resource for free (a tag that exists is created again without error):
    // until one is chosen, two operators exclude each other only through a shared state dir's lock.
    noLeaseYet: 'DigitalOcean has no provider-side lease yet (the local state-dir lock only)',
  };
});

describe('digitalocean specifics', { timeout: 60_000 }, () => {
  it('names the guest device after the volume, as DigitalOcean links it', () => {
    const disk = providerModule('digitalocean').disk;
    const device = (volumeName: string): string => disk.device({ provider: 'digitalocean', volumeName } as typeof disk.sample);
    expect(device('pmm1-data')).toBe('/dev/disk/by-id/scsi-0DO_Volume_pmm1-data');
    expect(disk.device(disk.fromVolume({ id: 'pmm1-data', deviceName: 'pmm1-data' }))).toBe('/dev/disk/by-id/scsi-0DO_Volume_pmm1-data');
    expect(() => device('Bad_Name')).toThrow(/must match/);
  });

  it('builds bodies with valid tags only, no filesystem (never formatted), and a firewall that keeps egress open', () => {
    const req = doRequests({ region: 'fra1' });
    const record = JSON.stringify({ schema: 1, pad: 'x'.repeat(3000), n: Math.random() });
    const body = req.dropletCreate({ name: 'pmm-g2', image: { id: '1001' }, ignition: IGN, owner: { name: 'pmm', generation: 2 }, record }, IGN, 'uuid-1');
    expect(body).toMatchObject({ name: 'pmm-g2', region: 'fra1', size: 's-2vcpu-4gb', image: 1001, volumes: ['uuid-1'] });
    for (const t of body.tags) expect(t).toMatch(TAG);
    expect(recordFromTags(body.tags)).toBe(record);
    expect(recordTags(record).length).toBeGreaterThan(0);
    expect(req.volumeCreate({ name: 'pmm-data', sizeGiB: 20, deviceName: 'pmm-data' })).not.toHaveProperty('filesystem_type');
    const fw = req.firewall('pmm', ['198.51.100.0/24']);
    expect(fw.inbound_rules.map((r) => r.ports)).toEqual(['443', '22']);
    expect(fw.outbound_rules.map((r) => r.protocol)).toEqual(['tcp', 'udp', 'icmp']);
  });

  it('creates the droplet with the volume attached, the firewall by tag, and stops it again', async () => {
    const { fake, provider, cleanup } = await doAgainstFake();
    try {
      const vol = await provider.createVolume({ name: 'pmm-data', sizeGiB: 20, deviceName: 'pmm-data', vmName: 'pmm' });
      const vm = await provider.createVm({ name: 'pmm', image: IMAGE, ignition: IGN, dataVolumeId: vol.id, owner: { name: 'pmm', generation: 1 } });
      expect(vm).toMatchObject({ state: 'stopped', volumes: [{ volumeId: 'pmm-data', deviceName: 'pmm-data' }], owner: { name: 'pmm', generation: 1 } });
      expect(fake.droplet('pmm')?.user_data).toBe(IGN);
      expect([...fake.firewalls.values()]).toMatchObject([{ name: 'cnvm-pmm', tags: ['cnvm-vm:pmm'], inbound_rules: [{ ports: '443', sources: { addresses: ['127.0.0.1/32'] } }, { ports: '22' }] }]);
      // the droplet was created running; the shutdown was an action, polled to completion
      expect(fake.log).toContain(`POST /v2/droplets/${fake.droplet('pmm')?.id}/actions`);
      expect(fake.log.some((l) => /^GET \/v2\/actions\/\d+$/.test(l))).toBe(true);
    } finally {
      await cleanup();
    }
  });

  it('refuses a volume of another region (422 from the API) and a second attachment before any call', async () => {
    const { fake, provider, cleanup } = await doAgainstFake();
    try {
      await provider.createVolume({ name: 'pmm-data', sizeGiB: 10, deviceName: 'pmm-data' });
      await provider.createVm({ name: 'a', image: IMAGE, ignition: IGN, dataVolumeId: 'pmm-data' });
      const before = fake.log.filter((l) => l === 'POST /v2/droplets').length;
      await expect(provider.createVm({ name: 'b', image: IMAGE, ignition: IGN, dataVolumeId: 'pmm-data' })).rejects.toBeInstanceOf(InUseError);
      expect(fake.log.filter((l) => l === 'POST /v2/droplets').length).toBe(before);
      // A volume in nyc3 seen from the fra1 adapter is not there; the API itself refuses a cross-region attach.
      const nyc = await doAgainstFake({ region: 'nyc3', endpoint: fake.url });
      await nyc.provider.createVolume({ name: 'far-data', sizeGiB: 10, deviceName: 'pmm-data' });
      await nyc.cleanup();
      expect(await provider.findVolume('far-data')).toBeUndefined();
      const far = fake.volume('far-data');
      const res = await fetch(`${fake.url}/v2/volumes/${far?.id}/actions`, { method: 'POST', headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'attach', droplet_id: fake.droplet('a')?.id }) });
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({ id: 'unprocessable_entity', message: expect.stringMatching(/same region/) });
    } finally {
      await cleanup();
    }
  });

  it('waits out 429 by ratelimit-reset and retries 5xx and resets; a lost create reply is found, not sent twice', async () => {
    const { fake, provider, cleanup } = await doAgainstFake();
    try {
      fake.injectFault({ match: /^POST \/v2\/volumes$/, status: 429, times: 1 });
      fake.injectFault({ match: /^GET \/v2\/volumes$/, status: 503, times: 1 });
      fake.injectFault({ match: /^POST \/v2\/volumes$/, lost: true, times: 1 });
      const vol = await provider.createVolume({ name: 'pmm-data', sizeGiB: 10, deviceName: 'pmm-data' });
      expect(vol.id).toBe('pmm-data');
      expect(fake.faultsServed).toEqual(['503 GET /v2/volumes', '429 POST /v2/volumes', 'lost POST /v2/volumes']);
      expect([...fake.volumes.values()].filter((v) => v.name === 'pmm-data')).toHaveLength(1);
      fake.injectFault({ match: /^POST \/v2\/droplets$/, lost: true, times: 1 });
      fake.injectFault({ match: /^GET \/v2\/actions\/\d+$/, reset: true, times: 2 });
      await provider.createVm({ name: 'pmm', image: IMAGE, ignition: IGN, dataVolumeId: vol.id });
      expect([...fake.droplets.values()].filter((d) => d.name === 'pmm')).toHaveLength(1);
      expect(fake.droplet('pmm')?.status).toBe('off');
    } finally {
      await cleanup();
    }
  });

  it('a real rate limit window: many calls past the limit all succeed after ratelimit-reset', async () => {
    const { fake, provider, cleanup } = await doAgainstFake({}, { rateLimit: { limit: 8, windowMs: 1000 } });
    try {
      await provider.createVolume({ name: 'pmm-data', sizeGiB: 10, deviceName: 'pmm-data' });
      await provider.createVm({ name: 'pmm', image: IMAGE, ignition: IGN, dataVolumeId: 'pmm-data' });
      expect(fake.faultsServed.filter((f) => f.startsWith('429 ')).length).toBeGreaterThan(0);
      expect(fake.droplet('pmm')?.status).toBe('off');
    } finally {
      await cleanup();
    }
  });

  it('a guest that ignores the ACPI shutdown is powered off', async () => {
    const { fake, provider, cleanup } = await doAgainstFake({}, { shutdownErrors: true });
    try {
      expect((await provider.createVm({ name: 'pmm', image: IMAGE, ignition: IGN })).state).toBe('stopped');
      expect(fake.bodies.filter((b) => /\/actions$/.test(b.path)).map((b) => (b.body as { type: string }).type)).toEqual(['shutdown', 'power_off']);
    } finally {
      await cleanup();
    }
  });

  it('checks user data size, image and token before creating anything', async () => {
    const { fake, provider, cleanup } = await doAgainstFake();
    try {
      const big = JSON.stringify({ ignition: { version: '3.3.0' }, x: Buffer.from(Array.from({ length: 120 * 1024 }, () => Math.floor(Math.random() * 256))).toString('base64') });
      await expect(provider.preflight({ name: 'pmm', image: IMAGE, ignition: big })).rejects.toThrow(new RegExp(`at most ${DO_USER_DATA_LIMIT}`));
      await expect(provider.preflight({ name: 'pmm', image: { id: '999' }, ignition: IGN })).rejects.toBeInstanceOf(ProviderError);
      const bad = await doAgainstFake({ endpoint: fake.url, token: 'wrong' });
      await expect(bad.provider.findVm('pmm')).rejects.toBeInstanceOf(PermissionError);
      await expect(bad.provider.findVm('pmm')).rejects.not.toThrow(/wrong/);
      await bad.cleanup();
      expect(fake.droplets.size + fake.volumes.size).toBe(0);
    } finally {
      await cleanup();
    }
  });
});
