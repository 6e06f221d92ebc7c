// `cnvm provision | upgrade | destroy --provider aws` end to end: the built CLI with the real EC2 client, pointed
// through CNVM_EC2_ENDPOINT at each EC2 peer (the project's stateful fake, moto's EC2 server) with static test
// credentials. What the commands created is read back with boto3, a client independent of the one under test.
// Needs `npm run build`.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/conformance.js';
import { EC2_PEERS, startEc2Peer, useMoto, type Ec2Peer } from '../support/aws-harness.js';
import { boto3Json } from '../support/moto.js';

const BIN = join(REPO_ROOT, 'dist/cli/bin.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCnvm(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

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
    const cnvm = (args: string[]): Promise<Run> =>
      runCnvm(args, { ...process.env, CNVM_EC2_ENDPOINT: peer.endpoint, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret', AWS_EC2_METADATA_DISABLED: 'true' });
    const seen = (): Promise<Seen> => boto3Json<Seen>(peer.endpoint, SEE);

    beforeAll(async () => {
      peer = await startEc2Peer(kind);
    }, 120_000);
    afterAll(async () => {
      await peer?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('--dry-run --json prints the API calls with their key parameters, and makes none', async () => {
      const r = await cnvm(['provision', ...common, '--image', peer.images[0].id, '--dry-run', '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const actions = (JSON.parse(r.stdout) as { steps: { actions: { action: string; detail: Record<string, unknown> }[] }[] }).steps.flatMap((s) => s.actions);
      expect(actions.map((a) => a.action)).toEqual(['ec2:CreateVolume', 'ec2:RunInstances', 'ec2:StopInstances', 'ec2:AttachVolume', 'ec2:StartInstances']);
      expect(actions[0]?.detail).toMatchObject({ AvailabilityZone: 'eu-west-1a', Size: 20, VolumeType: 'gp3', Encrypted: true });
      expect(actions[1]?.detail).toMatchObject({ ImageId: peer.images[0].id, InstanceType: 't3.large' });
      // A dry run reads what exists (the record, the volume); it changes nothing.
      expect(await seen()).toEqual({ volumes: [], instances: [] });
    }, 60_000);

    it('provisions with the EBS device path in Ignition, upgrades, and destroys keeping the volume', async () => {
      const p = await cnvm(['provision', ...common, '--image', peer.images[0].id, '--json']);
      expect(p.stderr).toBe('');
      expect(p.code).toBe(0);
      const out = JSON.parse(p.stdout) as { vm: { state: string }; volume: { id: string } };
      expect(out.vm.state).toBe('running');
      const first = await seen();
      expect(first.instances.map((i) => [i.Name, i.ImageId])).toEqual([['pmm1', peer.images[0].id]]);
      const ignition = Buffer.from(first.instances[0]?.UserData ?? '', 'base64').toString('utf8');
      expect(ignition).toContain(`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${out.volume.id.replace('-', '')}`);
      expect(first.volumes.find((v) => v.VolumeId === out.volume.id)?.Tags).toEqual(expect.arrayContaining([{ Key: 'cnvm:managed', Value: 'true' }]));

      const u = await cnvm(['upgrade', ...common, '--image', peer.images[1].id, '--skip-health-check', '--yes', '--json']);
      expect(u.stderr).toBe('');
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
