// The GCE stable address, firewall rule and replaceIgnition through the real client against the fake Compute API:
// a static regional address that one instance holds at a time, moved with deleteAccessConfig/addAccessConfig.
import { describe, expect, it } from 'vitest';
import { InUseError } from '../../src/provider/errors.js';
import { gcpAgainstFake } from '../support/gcp-harness.js';

const IMAGE = { id: 'projects/fedora-coreos-cloud/global/images/fedora-coreos-a' };
const owner = (generation: number) => ({ name: 'pmm', generation });

describe('GCE static address', () => {
  it('is reserved once, assigned to a stopped VM, moved to the next generation, and released only when free', async () => {
    const { fake, provider, cleanup } = await gcpAgainstFake();
    try {
      expect(provider.addressing.kind).toBe('reserved');
      const address = await provider.reserveAddress!('pmm-address', 'pmm');
      expect(await provider.reserveAddress!('pmm-address', 'pmm')).toEqual(address);
      expect(fake.log.filter((l) => l.endsWith('/regions/europe-west1/addresses') && l.startsWith('POST'))).toHaveLength(1);
      expect(fake.addresses.get('pmm-address')).toMatchObject({ labels: { 'cnvm-managed': 'true', 'cnvm-owner': 'pmm' }, users: [] });

      // A static VM is created with no external IP of its own.
      const g1 = await provider.createVm({ name: 'pmm', image: IMAGE, ignition: '{}', owner: owner(1) });
      expect(fake.instances.get('pmm')?.networkInterfaces[0]?.accessConfigs).toEqual([]);
      expect(g1.state).toBe('stopped');
      const assigned = await provider.assignAddress!(address.id, 'pmm');
      expect(assigned).toMatchObject({ ip: address.ip, assignedTo: 'pmm' });
      const started = await provider.startVm('pmm');
      expect(started.addresses[0]).toBe(address.ip);
      expect(started.addresses).toHaveLength(2);

      // The next generation, stopped: the address leaves g1 (running) and lands on g2; one holder at a time.
      await provider.createVm({ name: 'pmm-g2', image: IMAGE, ignition: '{}', owner: owner(2) });
      const moved = await provider.assignAddress!(address.id, 'pmm-g2');
      expect(moved).toMatchObject({ ip: address.ip, assignedTo: 'pmm-g2' });
      expect((await provider.findVm('pmm'))?.addresses).not.toContain(address.ip);
      expect((await provider.findVm('pmm-g2'))?.addresses).toEqual([address.ip]);
      expect(fake.addresses.get('pmm-address')?.users).toEqual([expect.stringMatching(/instances\/pmm-g2$/)]);
      const calls = fake.log.filter((l) => /AccessConfig$/.test(l));
      expect(calls.slice(-2)).toEqual(['POST /instances/pmm/deleteAccessConfig', 'POST /instances/pmm-g2/addAccessConfig']);

      // Again to the holder: nothing sent. Rollback: back to g1, which gets it while running.
      const before = fake.log.length;
      await provider.assignAddress!(address.id, 'pmm-g2');
      expect(fake.log.slice(before).filter((l) => !l.startsWith('GET '))).toEqual([]);
      await provider.assignAddress!(address.id, 'pmm');
      expect((await provider.findVm('pmm'))?.addresses[0]).toBe(address.ip);

      await expect(provider.releaseAddress!(address.id)).rejects.toBeInstanceOf(InUseError);
      await provider.destroyVm('pmm');
      await provider.destroyVm('pmm-g2');
      expect(fake.addresses.get('pmm-address')?.users).toEqual([]);
      await provider.releaseAddress!(address.id);
      expect(fake.addresses.has('pmm-address')).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it('takes the ephemeral IP off a VM before giving it the static one (one access config per interface)', async () => {
    const { fake, provider, cleanup } = await gcpAgainstFake({ address: 'ephemeral' });
    try {
      expect(provider.addressing.kind).toBe('implicit');
      expect(provider.reserveAddress).toBeUndefined();
      await provider.createVm({ name: 'eph', image: IMAGE, ignition: '{}' });
      const first = (await provider.startVm('eph')).addresses[0];
      await provider.stopVm('eph');
      const second = (await provider.startVm('eph')).addresses[0];
      expect(first).toMatch(/^203\.0\.113\./);
      expect(second).not.toBe(first);
      expect(fake.instances.get('eph')?.networkInterfaces[0]?.accessConfigs).toHaveLength(1);
    } finally {
      await cleanup();
    }
  });
});

describe('GCE replaceIgnition', () => {
  it('replaces user-data with setMetadata and the fingerprint, while running, keeping the other items', async () => {
    const { fake, provider, cleanup } = await gcpAgainstFake();
    try {
      await provider.createVm({ name: 'pmm', image: IMAGE, ignition: '{"secret":"s3cret"}', owner: owner(1), record: '{"r":1}' });
      await provider.startVm('pmm');
      expect(await provider.replaceIgnition!('pmm', '{"ignition":{"version":"3.3.0"}}')).toBe('replaced');
      const items = fake.instances.get('pmm')?.metadata.items ?? [];
      expect(items.find((i) => i.key === 'user-data')?.value).toBe('{"ignition":{"version":"3.3.0"}}');
      expect(items.map((i) => i.key)).toEqual(['user-data', 'cnvm-image', 'cnvm-record']);
      expect(fake.instances.get('pmm')?.status).toBe('RUNNING');
      expect(JSON.stringify(fake.instances.get('pmm'))).not.toContain('s3cret');
    } finally {
      await cleanup();
    }
  });
});

describe('GCE firewall rule per VM', () => {
  it('opens 443 and 22 to this machine when no --allow-from is given, asking the echo service once; removed with the last generation', async () => {
    const { fake, echo, provider, cleanup } = await gcpAgainstFake();
    try {
      await provider.preflight({ name: 'pmm', image: IMAGE, ignition: '{}' });
      await provider.createVm({ name: 'pmm', image: IMAGE, ignition: '{}', owner: owner(1) });
      await provider.createVm({ name: 'pmm-g2', image: IMAGE, ignition: '{}', owner: owner(2) });
      expect([...fake.firewalls.keys()]).toEqual(['cnvm-pmm-allow']);
      expect(fake.firewalls.get('cnvm-pmm-allow')).toMatchObject({ direction: 'INGRESS', allowed: [{ IPProtocol: 'tcp', ports: ['443', '22'] }], sourceRanges: ['127.0.0.1/32'], targetTags: ['cnvm-pmm'] });
      expect(fake.log.filter((l) => l.startsWith('POST') && l.endsWith('/global/firewalls'))).toHaveLength(1);
      expect(echo.hits()).toBe(1);
      // Deleting one generation keeps the rule for the other; deleting the last one removes it.
      await provider.destroyVm('pmm');
      expect(fake.firewalls.has('cnvm-pmm-allow')).toBe(true);
      await provider.destroyVm('pmm-g2');
      expect(fake.firewalls.has('cnvm-pmm-allow')).toBe(false);
    } finally {
      await cleanup();
    }
  });
});
