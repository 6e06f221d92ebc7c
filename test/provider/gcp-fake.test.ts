// The fake Compute API holds the real client to the API reference's rules: these requests go through the real
// @google-cloud/compute client (REST transport), as cnvm's do, and the fake answers what GCE answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeClientOptions, GCP_PROJECT as project, GCP_ZONE as zone } from '../support/gcp-harness.js';
import { startFakeGce, type FakeGce } from '../support/fake-gce.js';
import { decodeBody } from '../support/gce-protos.js';

type Json = Record<string, unknown>;
type Method = (r: Json) => Promise<unknown[]>;
let fake: FakeGce;
let instances: Record<string, Method>;
let operations: Record<string, Method>;

const IMAGE = 'projects/fedora-coreos-cloud/global/images/family/fedora-coreos-stable';
const machineType = `zones/${zone}/machineTypes/e2-standard-4`;
const instance = (over: Json = {}): Json => ({
  name: 'vm1',
  machineType,
  disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: IMAGE } }],
  networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }],
  ...over,
});

/** Sends a mutation through the client and waits for its operation; GCE's error, if any, is thrown. */
async function run(method: string, request: Json): Promise<void> {
  const [op] = (await instances[method]!({ project, zone, ...request })) as [{ latestResponse?: { name?: string } }];
  for (;;) {
    const [o] = (await operations.wait!.call(operations, { project, zone, operation: op.latestResponse?.name })) as [{ status?: string; error?: { errors?: { code?: string; message?: string }[] } }];
    if (o.status === 'DONE') {
      if (o.error?.errors?.[0]) throw new Error(`${o.error.errors[0].code}: ${o.error.errors[0].message}`);
      return;
    }
  }
}
const get = async (name: string): Promise<Json> => ((await instances.get!.call(instances, { project, zone, instance: name })) as [Json])[0];
const natIPs = (inst: Json): string[] => ((inst.networkInterfaces as Json[])[0]?.accessConfigs as Json[] | undefined ?? []).map((a) => String(a.natIP ?? ''));

beforeAll(async () => {
  fake = await startFakeGce(project, zone, { networks: { 'vpc-a': ['sub-a'] } });
  const compute = await import('@google-cloud/compute');
  instances = new compute.InstancesClient({ fallback: true, ...fakeClientOptions(fake) } as never) as unknown as Record<string, Method>;
  operations = new compute.ZoneOperationsClient({ fallback: true, ...fakeClientOptions(fake) } as never) as unknown as Record<string, Method>;
}, 120_000);
afterAll(() => fake.close());

describe('fake Compute API: request checks from the API reference', () => {
  it('decodes bodies into the proto types: unknown names and enum values are refused as GCE words it', () => {
    expect(decodeBody('Instance', { name: 'a', machineTyp: 'x' }, 'instance').problems).toEqual([`Invalid JSON payload received. Unknown name "machineTyp" at 'instance': Cannot find field.`]);
    expect(decodeBody('Instance', { networkInterfaces: [{ accessConfigs: [{ type: 'NAT' }] }] }, 'instance').problems).toEqual([`Invalid value for field 'instance.networkInterfaces[0].accessConfigs[0].type': "NAT"`]);
    expect(decodeBody('Disk', { name: 'd', sizeGb: '10' }, 'disk')).toMatchObject({ body: { name: 'd', sizeGb: '10' }, problems: [] });
  });

  it.each([
    ['a name that is not RFC 1035', { name: 'VM_1' }, /Invalid value for field 'resource\.name'/],
    ['a name over 63 characters', { name: `a${'b'.repeat(63)}` }, /resource\.name/],
    ['a label key starting with a digit', { labels: { '1a': 'x' } }, /label key \\"1a\\"/],
    ['an uppercase label value', { labels: { owner: 'Pmm' } }, /label value \\"Pmm\\" of owner/],
    ['an unknown machine type', { machineType: `zones/${zone}/machineTypes/e2-huge-99` }, /machineTypes\/e2-huge-99' was not found/],
    ['a machine type of another zone', { machineType: 'zones/us-central1-a/machineTypes/e2-standard-4' }, /must be in zone europe-west1-b/],
    ['no boot disk', { disks: [] }, /exactly one boot disk is required, got 0/],
    ['two boot disks', { disks: [{ boot: true, initializeParams: { sourceImage: IMAGE } }, { boot: true, initializeParams: { sourceImage: IMAGE } }] }, /exactly one boot disk is required, got 2/],
    ['an image that is not an image URL', { disks: [{ boot: true, initializeParams: { sourceImage: 'fcos' } }] }, /sourceImage/],
    ['a bad network tag', { tags: { items: ['Web Server'] } }, /resource\.tags\.items/],
    ['a custom VPC without its subnetwork', { networkInterfaces: [{ network: 'global/networks/vpc-a' }] }, /Subnetwork must be specified for a custom mode network/],
    ['default network with a custom VPC subnetwork', { networkInterfaces: [{ network: 'global/networks/default', subnetwork: `regions/europe-west1/subnetworks/sub-a` }] }, /Subnetwork should belong to network 'default'/],
  ])('refuses %s', async (_what, over, message) => {
    await expect(run('insert', { instanceResource: instance(over) })).rejects.toThrow(message);
  });

  it('refuses an unknown zone, and finds nothing in another zone', async () => {
    await expect(instances.get!.call(instances, { project, zone: 'mars-north1-a', instance: 'x' })).rejects.toThrow(/Unknown zone/);
    await expect(instances.get!.call(instances, { project, zone: 'us-central1-a', instance: 'x' })).rejects.toThrow(/was not found/);
  });
});

describe('fake Compute API: state rules', () => {
  it('gives an ephemeral external IP a new address after a stop and start, and none while stopped', async () => {
    await run('insert', { instanceResource: instance({ name: 'eph' }) });
    const first = natIPs(await get('eph'));
    expect(first).toEqual([expect.stringMatching(/^203\.0\.113\./)]);
    await run('stop', { instance: 'eph' });
    expect(natIPs(await get('eph'))).toEqual(['']);
    await run('start', { instance: 'eph' });
    const second = natIPs(await get('eph'));
    expect(second).toHaveLength(1);
    expect(second).not.toEqual(first);
  });

  it('setMetadata needs the current fingerprint, and works while the instance runs', async () => {
    await run('insert', { instanceResource: instance({ name: 'meta', metadata: { items: [{ key: 'user-data', value: 'secret' }] } }) });
    const inst = await get('meta');
    expect(inst.status).toBe('RUNNING');
    const fingerprint = (inst.metadata as Json).fingerprint;
    await expect(run('setMetadata', { instance: 'meta', metadataResource: { fingerprint: 'stale', items: [] } })).rejects.toThrow(/fingerprint does not match/);
    await run('setMetadata', { instance: 'meta', metadataResource: { fingerprint, items: [{ key: 'user-data', value: 'clean' }] } });
    expect(((await get('meta')).metadata as Json).items).toEqual([expect.objectContaining({ key: 'user-data', value: 'clean' })]);
    await expect(run('setMetadata', { instance: 'meta', metadataResource: { fingerprint, items: [] } })).rejects.toThrow(/fingerprint does not match/);
  });

  it('allows one access config per interface', async () => {
    await expect(run('addAccessConfig', { instance: 'eph', networkInterface: 'nic0', accessConfigResource: { name: 'External NAT', type: 'ONE_TO_ONE_NAT' } })).rejects.toThrow(/At most one access config/);
  });

  it('answers injected faults, then the request itself', async () => {
    fake.injectFault({ match: /^GET \/instances\/eph$/, status: 503, reason: 'backendError', message: 'Backend Error', times: 1 });
    await expect(get('eph')).rejects.toThrow(/Backend Error/);
    expect((await get('eph')).name).toBe('eph');
    fake.failOperation({ match: /^POST \/instances$/, code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: `The zone 'projects/${project}/zones/${zone}' does not have enough resources available to fulfill the request.`, times: 1 });
    await expect(run('insert', { instanceResource: instance({ name: 'stockout' }) })).rejects.toThrow(/^ZONE_RESOURCE_POOL_EXHAUSTED/);
    expect(fake.instances.has('stockout')).toBe(false);
  });
});
