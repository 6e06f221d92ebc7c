// The EC2 adapter through the real @aws-sdk/client-ec2 client against the stateful fake of the EC2 Query API:
// the provider conformance suite, plus EC2 specifics.
import { describe, expect, it } from 'vitest';
import { awsRequests, EC2_USER_DATA_LIMIT } from '../../src/provider/aws/adapter.js';
import { InUseError } from '../../src/provider/errors.js';
import { fitIgnition } from '../../src/provider/ignition-size.js';
import { awsAgainst, awsAgainstFake, EC2_PEERS, useMoto } from '../support/aws-harness.js';
import { upgrade } from '../../src/lifecycle/upgrade.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';
import { runProviderConformance } from './conformance.js';

useMoto();

for (const kind of EC2_PEERS) {
  runProviderConformance(`aws (real client, ${kind === 'fake' ? 'fake EC2 API' : "moto's EC2 server"})`, async () => {
    const { peer, provider } = await awsAgainst(kind);
    return {
      provider,
      image: peer.images[0],
      prefix: 'cnvm-conf',
      writeBytes: async (volume, b) => void b.copy(peer.bytes(volume.id)),
      readBytes: async (volume, length) => peer.bytes(volume.id).subarray(0, length),
      cleanup: () => peer.close(),
    };
  });
}

// Fake only below: moto changes states instantly, ignores ClientToken, lets a volume be attached twice, cannot be
// told to throttle, never pages DescribeVolumes and prints a fixed console; the fake models each as EC2 documents.
describe('aws specifics', () => {
  it('creates encrypted gp3 volumes in the instance zone, tagged, and attaches them as /dev/sdf', () => {
    const r = awsRequests({ region: 'eu-west-1' });
    expect(r.createVolume({ name: 'pmm-data', sizeGiB: 50, deviceName: 'pmm-data' })).toMatchObject({ AvailabilityZone: 'eu-west-1a', Size: 50, VolumeType: 'gp3', Encrypted: true });
    expect(r.runInstances({ name: 'pmm', image: { id: 'ami-1' }, ignition: '{}' }, '{}')).toMatchObject({ Placement: { AvailabilityZone: 'eu-west-1a' }, UserData: Buffer.from('{}').toString('base64') });
    expect(r.attachVolume('i-1', 'vol-1')).toEqual({ InstanceId: 'i-1', VolumeId: 'vol-1', Device: '/dev/sdf' });
  });

  it('keeps user data under 16 KB by wrapping a larger config in a gzip data: URL', () => {
    const big = JSON.stringify({ ignition: { version: '3.3.0' }, storage: { files: [{ path: '/a', contents: { source: `data:,${'x'.repeat(40_000)}` } }] } });
    const { text, wrapped } = fitIgnition(big, EC2_USER_DATA_LIMIT, 'EC2 user data');
    expect(wrapped).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(EC2_USER_DATA_LIMIT);
  });

  it('retries throttled calls, refuses a second attachment, and launches with a ClientToken', async () => {
    const { fake, provider } = await awsAgainstFake();
    try {
      fake.throttle('CreateVolume', 2);
      const vol = await provider.createVolume({ name: 'd1', sizeGiB: 10, deviceName: 'pmm-data' });
      expect(fake.log.filter((a) => a === 'CreateVolume')).toHaveLength(3);
      await provider.createVm({ name: 'a', image: { id: 'ami-0aaaaaaaaaaaaaaaa' }, ignition: '{}', dataVolumeId: vol.id });
      await expect(provider.createVm({ name: 'b', image: { id: 'ami-0aaaaaaaaaaaaaaaa' }, ignition: '{}', dataVolumeId: vol.id })).rejects.toBeInstanceOf(InUseError);
      expect([...fake.instances.values()].map((i) => i.clientToken)).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);
      expect((await provider.findVolume('d1'))?.attachedTo).toBe('a');
    } finally {
      await fake.close();
    }
  });
});

describe('EC2 retries', () => {
  it('retries 5xx answers and connection resets with the SDK\'s backoff; RunInstances keeps its ClientToken, so a retry launches once; a lost answer is found by the Name tag', async () => {
    const { fake, provider } = await awsAgainstFake();
    try {
      fake.failNext('CreateVolume', ['500', 'reset', '503']);
      await provider.createVolume({ name: 'r-data', sizeGiB: 1, deviceName: 'pmm-data' });
      expect(fake.log.filter((a) => a === 'CreateVolume')).toHaveLength(4);
      // Failures before the call was handled: nothing is found by the Name tag, so it goes out again (same token).
      fake.failNext('RunInstances', ['reset', '500']);
      await provider.createVm({ name: 'r', image: { id: 'ami-0aaaaaaaaaaaaaaaa' }, ignition: '{}' });
      expect(fake.log.filter((a) => a === 'RunInstances')).toHaveLength(3);
      expect([...fake.instances.values()]).toHaveLength(1);
      // The launch took effect and its answer was lost: the instance is found by its Name tag, not launched twice.
      fake.failNext('RunInstances', ['reset-after']);
      await provider.createVm({ name: 's', image: { id: 'ami-0aaaaaaaaaaaaaaaa' }, ignition: '{}' });
      expect(fake.log.filter((a) => a === 'RunInstances')).toHaveLength(4);
      expect([...fake.instances.values()].filter((i) => i.tags.some((t) => t.key === 'Name' && t.value === 's'))).toHaveLength(1);
      expect((await provider.findVm('s'))?.state).toBe((await provider.findVm('r'))?.state);
    } finally {
      await fake.close();
    }
  }, 60_000);
});

describe('EC2 paging', () => {
  it('list() follows NextToken past a page (EC2 pages DescribeInstances and DescribeVolumes)', async () => {
    const { fake, provider } = await awsAgainstFake({ maxPage: 5 });
    try {
      for (let i = 0; i < 7; i++) {
        const v = await provider.createVolume({ name: `page-${i}-data`, sizeGiB: 1, deviceName: 'pmm-data' });
        await provider.createVm({ name: `page-${i}`, image: { id: 'ami-0abc1234def567890' }, ignition: '{"ignition":{"version":"3.3.0"}}', dataVolumeId: v.id });
      }
      const { vms, volumes } = await provider.list();
      expect(vms.map((v) => v.name).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `page-${i}`));
      expect(volumes).toHaveLength(7);
      expect(fake.log.filter((a) => a === 'DescribeInstances').length).toBeGreaterThan(1);
    } finally {
      await fake.close();
    }
  });
});

describe('EC2 console output', () => {
  it('reads GetConsoleOutput, and a failed health gate shows its telling lines', async () => {
    const { fake, provider } = await awsAgainstFake();
    const store = tempStore();
    try {
      await provisionVm(provider, store, 'pmm', { id: 'ami-0aaaaaaaaaaaaaaaa' });
      const text = 'Booting\n[   12.3] ignition[612]: disks: createFilesystems: op(3): wipe was not requested\n[   12.4] Ignition failed: failed to create filesystems\nemergency mode\n';
      const g2 = (): string | undefined => [...fake.instances.values()].find((i) => i.tags.some((t) => t.key === 'Name' && t.value === 'pmm-g2'))?.id;
      expect(await provider.consoleOutput?.('pmm')).toBeUndefined();
      const err = await upgrade(provider, store, {
        name: 'pmm',
        overrides: { image: { id: 'ami-0bbbbbbbbbbbbbbbb' } },
        healthCheck: async () => {
          const id = g2();
          if (id) fake.consoles.set(id, text);
          return false;
        },
        healthTimeoutSec: 0.05,
        healthIntervalMs: 10,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'rolled-back' });
      expect((err as Error).message).toMatch(/its console says:\n {2}\| \[ {3}12\.3\] ignition\[612\]: disks[\s\S]*\| \[ {3}12\.4\] Ignition failed/);
    } finally {
      store.cleanup();
      await fake.close();
    }
  });
});
