// The EC2 adapter's checks before side effects, its per-VM security group, its Elastic IP and replaceIgnition, on
// both EC2 peers (the project's fake and moto's server) through the real client. What exists afterwards is read
// from the peer directly (its own API; boto3 for moto), not through the adapter.
import { randomBytes } from 'node:crypto';
import { DescribeSubnetsCommand, DetachVolumeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { ruleChanges } from '../../src/provider/aws/network.js';
import { awsModule } from '../../src/provider/aws/module.js';
import { awsAgainst, awsAgainstFake, awsProviderFor, EC2_PEERS, OPERATOR_IP, REGION, useMoto, type Ec2Peer } from '../support/aws-harness.js';
import { boto3Json, TEST_CREDENTIALS } from '../support/moto.js';

useMoto();

const IGNITION = '{"ignition":{"version":"3.3.0"}}';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function on(kind: 'fake' | 'moto', options: Parameters<typeof awsAgainst>[1] = {}) {
  const { peer, provider } = await awsAgainst(kind, options);
  const ec2 = new EC2Client({ region: REGION, endpoint: peer.endpoint, credentials: TEST_CREDENTIALS });
  cleanups.push(async () => {
    ec2.destroy();
    await peer.close();
  });
  return { peer, provider, ec2 };
}

interface Seen {
  instances: number;
  volumes: number;
  groups: { name: string; rules: [number, string][]; owner?: string }[];
  addresses: { id: string; ip: string; instance?: string; name?: string }[];
}
/** Everything cnvm may have created, read with boto3 (an independent client). */
const seen = (peer: Ec2Peer): Promise<Seen> =>
  boto3Json<Seen>(
    peer.endpoint,
    `
live = ["pending", "running", "stopping", "stopped"]
insts = [i for r in c.describe_instances(Filters=[{"Name": "instance-state-name", "Values": live}])["Reservations"] for i in r["Instances"]]
vols = [v for v in c.describe_volumes()["Volumes"] if any(t["Key"] == "cnvm:managed" for t in v.get("Tags", []))]
tag = lambda x, k: next((t["Value"] for t in x.get("Tags", []) if t["Key"] == k), None)
groups = [{"name": g["GroupName"], "owner": tag(g, "cnvm:owner"), "rules": sorted([p["FromPort"], r["CidrIp"]] for p in g["IpPermissions"] for r in p.get("IpRanges", []))} for g in c.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"]
addrs = [{"id": a["AllocationId"], "ip": a["PublicIp"], "instance": a.get("InstanceId"), "name": tag(a, "Name")} for a in c.describe_addresses()["Addresses"]]
print(json.dumps({"instances": len(insts), "volumes": len(vols), "groups": groups, "addresses": addrs}))
`,
  );

describe('aws: rules for the security group', () => {
  it('adds what is missing; with --allow-from it also removes what is not listed', () => {
    const current = [
      { port: 443, cidr: '10.0.0.0/8' },
      { port: 22, cidr: '10.0.0.0/8' },
    ];
    expect(ruleChanges(current, ['10.0.0.0/8', '192.0.2.0/24'], true)).toEqual({ authorize: [{ port: 443, cidr: '192.0.2.0/24' }, { port: 22, cidr: '192.0.2.0/24' }], revoke: [] });
    expect(ruleChanges(current, ['192.0.2.0/24'], true).revoke).toEqual(current);
    expect(ruleChanges(current, ['192.0.2.7/32'], false).revoke).toEqual([]);
  });

  it('--address accepts stable or ephemeral only, naming the flag', async () => {
    await expect(awsModule.create({ region: REGION, address: 'static' })).rejects.toMatchObject({ kind: 'usage', message: expect.stringContaining('--address static') });
    expect((await awsModule.create({ region: REGION, address: 'ephemeral' })).addressing.kind).toBe('implicit');
    await expect(awsModule.create({ region: REGION, allow_from: ['10.0.0.0/8', '10.1.2.3'] })).rejects.toMatchObject({ kind: 'usage', message: expect.stringContaining('--allow-from 10.1.2.3') });
    expect((await awsModule.create({ region: REGION })).addressing).toMatchObject({ kind: 'reserved', describe: expect.stringContaining('Elastic IP') });
  });
});

for (const kind of EC2_PEERS) {
  describe(`aws on ${kind}`, () => {
    it('preflight refuses an unknown AMI, zone, subnet, security group, a zone/subnet mismatch and oversized user data, with nothing created', async () => {
      const { peer, provider, ec2 } = await on(kind);
      const spec = { name: 'pf', image: peer.images[0], ignition: IGNITION };
      await expect(provider.preflight({ ...spec, image: { id: 'ami-0123456789abcdef0' } })).rejects.toMatchObject({ kind: 'provider', message: expect.stringContaining('no such AMI') });
      const big = JSON.stringify({ ignition: { version: '3.3.0' }, storage: { files: [{ path: '/r', contents: { source: `data:;base64,${randomBytes(20_000).toString('base64')}` } }] } });
      await expect(provider.preflight({ ...spec, ignition: big })).rejects.toThrow(/EC2 user data/);
      const badZone = awsProviderFor(peer, { availabilityZone: `${REGION}z` });
      await expect(badZone.preflight(spec)).rejects.toThrow(`--zone ${REGION}z: no such availability zone`);
      const badSubnet = awsProviderFor(peer, { subnetId: 'subnet-0123456789abcdef0' });
      await expect(badSubnet.preflight(spec)).rejects.toThrow('--subnet subnet-0123456789abcdef0: no such subnet');
      const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: [`${REGION}b`] }] }));
      const inB = subnets.Subnets?.[0]?.SubnetId ?? '';
      const mismatch = awsProviderFor(peer, { subnetId: inB, availabilityZone: `${REGION}a` });
      await expect(mismatch.preflight(spec)).rejects.toThrow(`is in ${REGION}b, not in --zone ${REGION}a`);
      const badGroup = awsProviderFor(peer, { securityGroupIds: ['sg-0123456789abcdef0'] });
      await expect(badGroup.preflight(spec)).rejects.toThrow('--security-group sg-0123456789abcdef0');
      // createVm makes the same checks before RunInstances: no orphan instance after a zone error.
      await expect(badZone.createVm(spec)).rejects.toThrow('no such availability zone');
      expect(await seen(peer)).toMatchObject({ instances: 0, volumes: 0, groups: [], addresses: [] });
    }, 120_000);

    it("a VM's own group opens 443 and 22 to the operator's address; --allow-from sets the rules, a changed list updates them", async () => {
      const { peer, provider } = await on(kind);
      await provider.createVm({ name: 'web', image: peer.images[0], ignition: IGNITION, owner: { name: 'web', generation: 1 } });
      expect((await seen(peer)).groups).toEqual([{ name: 'web-pmm', owner: 'web', rules: [[22, `${OPERATOR_IP}/32`], [443, `${OPERATOR_IP}/32`]] }]);
      const allowAB = awsProviderFor(peer, { allowCidrs: ['198.51.100.0/24', '203.0.113.0/24'] });
      const allowBC = awsProviderFor(peer, { allowCidrs: ['203.0.113.0/24', '100.64.0.0/10'] });
      expect(allowBC.plan.createVm({ name: 'web-g3', image: peer.images[0], ignition: IGNITION, owner: { name: 'web', generation: 3 } }).map((a) => a.action)).toEqual([
        'ec2:CreateSecurityGroup',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:RevokeSecurityGroupIngress',
        'ec2:RunInstances',
        'ec2:StopInstances',
      ]);
      await allowAB.createVm({ name: 'web-g2', image: peer.images[0], ignition: IGNITION, owner: { name: 'web', generation: 2 } });
      await allowBC.createVm({ name: 'web-g3', image: peer.images[0], ignition: IGNITION, owner: { name: 'web', generation: 3 } });
      const groups = (await seen(peer)).groups;
      expect(groups.filter((g) => g.name === 'web-pmm')).toEqual([
        { name: 'web-pmm', owner: 'web', rules: [[22, '100.64.0.0/10'], [22, '203.0.113.0/24'], [443, '100.64.0.0/10'], [443, '203.0.113.0/24']] },
      ]);
    }, 120_000);

    it('an Elastic IP per VM: reserved once, listed first, moved to the next instance, released only when free', async () => {
      const { peer, provider } = await on(kind);
      const one = await provider.createVm({ name: 'eip', image: peer.images[0], ignition: IGNITION, owner: { name: 'eip', generation: 1 } });
      const address = await provider.reserveAddress?.('eip-address', 'eip');
      expect(address).toMatchObject({ id: expect.stringMatching(/^eipalloc-/), name: 'eip-address' });
      expect((await provider.reserveAddress?.('eip-address', 'eip'))?.id).toBe(address?.id);
      const id = address?.id ?? '';
      // Assigned to the stopped instance before it starts, so PMM never answers on another address.
      expect(one.state).toBe('stopped');
      expect(await provider.assignAddress?.(id, 'eip')).toMatchObject({ id, assignedTo: 'eip', ip: address?.ip });
      expect((await provider.startVm('eip')).addresses[0]).toBe(address?.ip);
      await provider.createVm({ name: 'eip-g2', image: peer.images[1], ignition: IGNITION, owner: { name: 'eip', generation: 2 } });
      expect(await provider.assignAddress?.(id, 'eip-g2')).toMatchObject({ assignedTo: 'eip-g2', ip: address?.ip });
      expect((await provider.findVm('eip-g2'))?.addresses[0]).toBe(address?.ip);
      expect((await provider.findVm('eip'))?.addresses).not.toContain(address?.ip);
      await expect(provider.releaseAddress?.(id)).rejects.toMatchObject({ code: 'in-use' });
      const tagged = (await seen(peer)).addresses;
      expect(tagged).toEqual([{ id, ip: address?.ip, instance: (await provider.findVm('eip-g2'))?.id, name: 'eip-address' }]);
      await provider.destroyVm('eip-g2');
      expect((await provider.findAddress?.('eip-address'))?.assignedTo).toBeUndefined();
      await provider.releaseAddress?.(id);
      expect((await seen(peer)).addresses).toEqual([]);
    }, 120_000);

    it('replaceIgnition changes the user data of a stopped instance and defers on a running one', async () => {
      const { peer, provider } = await on(kind);
      await provider.createVm({ name: 'ign', image: peer.images[0], ignition: '{"ignition":{"version":"3.3.0"},"secret":"first-boot"}' });
      await provider.startVm('ign');
      expect(await provider.replaceIgnition?.('ign', IGNITION)).toBe('deferred');
      await provider.stopVm('ign');
      expect(await provider.replaceIgnition?.('ign', IGNITION)).toBe('replaced');
      const userData = await boto3Json<string>(
        peer.endpoint,
        `
i = [i for r in c.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["ign"]}])["Reservations"] for i in r["Instances"]][0]
import base64
print(json.dumps(base64.b64decode(c.describe_instance_attribute(InstanceId=i["InstanceId"], Attribute="userData")["UserData"]["Value"]).decode()))
`,
      );
      expect(userData).toBe(IGNITION);
    }, 120_000);
  });
}

// Fake only: moto answers DetachVolume of a volume that is not attached without an error, and does not cut pages
// before filtering.
describe('fake EC2 agrees with the API reference', () => {
  it('detaches a data volume from a running instance, refuses its root volume, and says InvalidAttachment.NotFound for what is not attached', async () => {
    const { fake, provider } = await awsAgainstFake();
    cleanups.push(() => fake.close());
    const ec2 = new EC2Client({ region: REGION, endpoint: fake.endpoint, credentials: TEST_CREDENTIALS });
    const vol = await provider.createVolume({ name: 'd-data', sizeGiB: 1, deviceName: 'pmm-data' });
    await provider.createVm({ name: 'd', image: { id: 'ami-0aaaaaaaaaaaaaaaa' }, ignition: IGNITION, dataVolumeId: vol.id });
    const vm = await provider.startVm('d');
    const root = fake.instances.get(vm.id)?.rootVolumeId ?? '';
    expect(fake.volumes.get(root)?.attachment?.instanceId).toBe(vm.id);
    await expect(ec2.send(new DetachVolumeCommand({ VolumeId: root }))).rejects.toMatchObject({ name: 'IncorrectState' });
    await ec2.send(new DetachVolumeCommand({ VolumeId: vol.id, InstanceId: vm.id }));
    // The contract wrapper, not EC2, keeps cnvm's own rule: detach only while stopped.
    await provider.list();
    await expect(ec2.send(new DetachVolumeCommand({ VolumeId: vol.id }))).rejects.toMatchObject({ name: 'InvalidAttachment.NotFound' });
    ec2.destroy();
  }, 60_000);

  it('finds a VM by name when EC2 returns empty filtered pages with a NextToken', async () => {
    const { fake, provider } = await awsAgainstFake({ maxPage: 5 });
    cleanups.push(() => fake.close());
    for (let i = 0; i < 7; i++) await provider.createVm({ name: `pg-${i}`, image: { id: 'ami-0aaaaaaaaaaaaaaaa' }, ignition: IGNITION });
    expect((await provider.findVm('pg-6'))?.name).toBe('pg-6');
    expect((await provider.list()).vms).toHaveLength(7);
  }, 120_000);
});
