// `cnvm provision | upgrade | destroy --provider aws` end to end: the built CLI with the real EC2 client, pointed
// through CNVM_EC2_ENDPOINT at each EC2 peer (the project's stateful fake, moto's EC2 server) with static test
// credentials. What the commands created is read back with boto3, a client independent of the one under test.
// Needs `npm run build`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutProgress } from './progress-lines.js';
import { runCli, type CliRun } from '../support/run-cli.js';
import { EC2_PEERS, OPERATOR_IP, startEc2Peer, useMoto, usePublicIpEcho, type Ec2Peer } from '../support/aws-harness.js';
import { startFakeEc2 } from '../support/fake-ec2.js';
import { boto3Json } from '../support/moto.js';


useMoto();

/** What the peer holds, seen through boto3. */
interface Seen {
  volumes: { VolumeId: string; State: string; Tags?: { Key: string; Value: string }[] }[];
  instances: { InstanceId: string; Name: string; ImageId: string; UserData: string }[];
}
const SEE = `
vols = c.describe_volumes()["Volumes"]
insts = [i for r in c.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"] for i in r["Instances"]]
def user_data(i):
    return c.describe_instance_attribute(InstanceId=i["InstanceId"], Attribute="userData").get("UserData", {}).get("Value", "")
print(json.dumps({
  "volumes": [{"VolumeId": v["VolumeId"], "State": v["State"], "Tags": v.get("Tags", [])} for v in vols],
  "instances": [{"InstanceId": i["InstanceId"], "Name": next((t["Value"] for t in i.get("Tags", []) if t["Key"] == "Name"), ""), "ImageId": i["ImageId"], "UserData": user_data(i)} for i in insts],
}))
`;

for (const kind of EC2_PEERS) {
  describe(`cnvm with --provider aws (on ${kind})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnvm-awscli-'));
    const configDir = join(dir, 'providers');
    mkdirSync(configDir);
    const common = ['--provider', 'aws', '--region', 'eu-west-1', '--name', 'pmm1', '--config-dir', configDir, '--state-dir', join(dir, 'state')];
    let peer: Ec2Peer;
    let echoUrl = '';
    const cnvm = (args: string[]): Promise<CliRun> =>
      runCli(args, { env: { CNVM_EC2_ENDPOINT: peer.endpoint, CNVM_PUBLIC_IP_URL: echoUrl, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret' } });
    const seen = (): Promise<Seen> => boto3Json<Seen>(peer.endpoint, SEE);

    beforeAll(async () => {
      peer = await startEc2Peer(kind);
      echoUrl = await usePublicIpEcho();
    }, 120_000);
    afterAll(async () => {
      await peer?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('--dry-run --json prints the API calls with their key parameters, and makes none', async () => {
      const r = await cnvm(['provision', '--skip-health-check', ...common, '--image', peer.images[0].id, '--dry-run', '--json']);
      expect(withoutProgress(r.stderr)).toBe('');
      expect(r.code).toBe(0);
      const actions = (JSON.parse(r.stdout) as { steps: { actions: { action: string; detail: Record<string, unknown> }[] }[] }).steps.flatMap((s) => s.actions);
      // The VM's own security group, opened to this machine's address (no --allow-from), comes before the launch.
      expect(actions.map((a) => a.action).filter((a) => !/Address$/.test(a))).toEqual([
        'ec2:CreateVolume',
        'ec2:CreateSecurityGroup',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:RunInstances',
        'ec2:StopInstances',
        'ec2:AttachVolume',
        'ec2:StartInstances',
      ]);
      expect(actions.find((a) => a.action === 'ec2:CreateVolume')?.detail).toMatchObject({ AvailabilityZone: 'eu-west-1a', Size: 20, VolumeType: 'gp3', Encrypted: true });
      expect(actions.find((a) => a.action === 'ec2:RunInstances')?.detail).toMatchObject({ ImageId: peer.images[0].id, InstanceType: 't3.large' });
      // A dry run reads what exists (the record, the volume); it changes nothing.
      expect(await seen()).toEqual({ volumes: [], instances: [] });
    }, 60_000);

    it('--address takes stable or ephemeral; another value is a usage error naming the flag', async () => {
      const r = await cnvm(['provision', '--skip-health-check', ...common, '--image', peer.images[0].id, '--address', 'static', '--dry-run']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--address static');
    }, 60_000);

    it('provisions with the EBS device path in Ignition, upgrades, and destroys keeping the volume', async () => {
      const p = await cnvm(['provision', '--skip-health-check', ...common, '--image', peer.images[0].id, '--json']);
      expect(withoutProgress(p.stderr)).toBe('');
      expect(p.code).toBe(0);
      const out = JSON.parse(p.stdout) as { vm: { state: string }; volume: { id: string } };
      expect(out.vm.state).toBe('running');
      const first = await seen();
      expect(first.instances.map((i) => [i.Name, i.ImageId])).toEqual([['pmm1', peer.images[0].id]]);
      const ignition = Buffer.from(first.instances[0]?.UserData ?? '', 'base64').toString('utf8');
      expect(ignition).toContain(`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${out.volume.id.replace('-', '')}`);
      expect(first.volumes.find((v) => v.VolumeId === out.volume.id)?.Tags).toEqual(expect.arrayContaining([{ Key: 'cnvm:managed', Value: 'true' }]));

      const rules = await boto3Json<[number, string][]>(
        peer.endpoint,
        'print(json.dumps(sorted([p["FromPort"], r["CidrIp"]] for g in c.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["pmm1-pmm"]}])["SecurityGroups"] for p in g["IpPermissions"] for r in p["IpRanges"])))',
      );
      expect(rules).toEqual([
        [22, `${OPERATOR_IP}/32`],
        [443, `${OPERATOR_IP}/32`],
      ]);

      const u = await cnvm(['upgrade', ...common, '--image', peer.images[1].id, '--skip-health-check', '--yes', '--json']);
      expect(withoutProgress(u.stderr)).toBe('');
      expect(u.code).toBe(0);
      expect(JSON.parse(u.stdout)).toMatchObject({ outcome: 'upgraded', newVm: 'pmm1-g2', vm: { image: peer.images[1].id, volumes: [{ volumeId: out.volume.id }] } });
      expect((await seen()).instances.map((i) => [i.Name, i.ImageId])).toEqual([['pmm1-g2', peer.images[1].id]]);

      const d = await cnvm(['destroy', ...common, '--json']);
      expect(d.code).toBe(0);
      expect(JSON.parse(d.stdout)).toMatchObject({ vmRemoved: true, volumeDeleted: false, volumeKept: out.volume.id });
      const after = await seen();
      expect(after.instances).toEqual([]);
      expect(after.volumes.map((v) => [v.VolumeId, v.State])).toEqual([[out.volume.id, 'available']]);
    }, 180_000);
  });
}

describe('cnvm --provider aws without credentials', () => {
  it('names the ways to provide them, exits 4 (provider) with no stack trace, and sends nothing', async () => {
    const fake = await startFakeEc2('eu-west-1');
    const home = mkdtempSync(join(tmpdir(), 'cnvm-nocreds-'));
    try {
      const env: Record<string, string | undefined> = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('AWS_')).map((k) => [k, undefined]));
      // HOME has no ~/.aws; the instance-role lookup is off, as tests reach loopback only.
      Object.assign(env, { CNVM_EC2_ENDPOINT: fake.endpoint, AWS_EC2_METADATA_DISABLED: 'true', CNVM_PUBLIC_IP_URL: await usePublicIpEcho() });
      const args = ['--provider', 'aws', '--region', 'eu-west-1', '--name', 'pmm1', '--config-dir', join(home, 'providers'), '--state-dir', join(home, 'state')];
      for (const command of [['provision', '--skip-health-check', ...args, '--image', 'ami-0aaaaaaaaaaaaaaaa'], ['status', ...args]]) {
        const r = await runCli(command, { env, home });
        expect(r.code, `${command[0]}: ${r.stderr}`).toBe(4);
        expect(r.stderr).toMatch(/no AWS credentials found/);
        for (const way of ['AWS_PROFILE', '--aws-profile', '~/.aws/config', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'aws sso login', 'instance role']) expect(r.stderr).toContain(way);
        expect(r.stderr).not.toMatch(/^\s+at /m);
      }
      expect(fake.log).toEqual([]);
    } finally {
      await fake.close();
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
