// `cnvm provision | upgrade | destroy --provider aws` end to end: the built CLI with the real EC2 client, pointed at
// the stateful fake EC2 API through CNVM_EC2_ENDPOINT (static test credentials). Needs `npm run build`.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/conformance.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';

const BIN = join(REPO_ROOT, 'dist/cli/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'cnvm-awscli-'));
const configDir = join(dir, 'providers');
mkdirSync(configDir);
let fake: FakeEc2;
const common = ['--provider', 'aws', '--region', 'eu-west-1', '--name', 'pmm1', '--config-dir', configDir, '--state-dir', join(dir, 'state')];

function cnvm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, CNVM_EC2_ENDPOINT: fake.endpoint, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret', AWS_EC2_METADATA_DISABLED: 'true' };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  fake = await startFakeEc2('eu-west-1');
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cnvm with --provider aws', () => {
  it('--dry-run --json prints the API calls with their key parameters, and makes none', async () => {
    const r = await cnvm(['provision', ...common, '--image', 'ami-0abc1234def567890', '--dry-run', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const actions = (JSON.parse(r.stdout) as { steps: { actions: { action: string; detail: Record<string, unknown> }[] }[] }).steps.flatMap((s) => s.actions);
    expect(actions.map((a) => a.action)).toEqual(['ec2:CreateVolume', 'ec2:RunInstances', 'ec2:StopInstances', 'ec2:AttachVolume', 'ec2:StartInstances']);
    expect(actions[0]?.detail).toMatchObject({ AvailabilityZone: 'eu-west-1a', Size: 20, VolumeType: 'gp3', Encrypted: true });
    expect(actions[1]?.detail).toMatchObject({ ImageId: 'ami-0abc1234def567890', InstanceType: 't3.large' });
    // A dry run reads what exists (the record, the volume); it changes nothing.
    expect(fake.log.filter((a) => !a.startsWith('Describe'))).toEqual([]);
  });

  it('provisions with the EBS device path in Ignition, upgrades, and destroys keeping the volume', async () => {
    const p = await cnvm(['provision', '--skip-health-check', ...common, '--image', 'ami-0aaaaaaaaaaaaaaaa', '--json']);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const out = JSON.parse(p.stdout) as { vm: { state: string }; volume: { id: string } };
    expect(out.vm.state).toBe('running');
    const inst = [...fake.instances.values()][0];
    const ignition = Buffer.from(inst?.userData ?? '', 'base64').toString('utf8');
    expect(ignition).toContain(`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${out.volume.id.replace('-', '')}`);

    const u = await cnvm(['upgrade', ...common, '--image', 'ami-0bbbbbbbbbbbbbbbb', '--skip-health-check', '--yes', '--json']);
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    expect(JSON.parse(u.stdout)).toMatchObject({ outcome: 'upgraded', newVm: 'pmm1-g2', vm: { image: 'ami-0bbbbbbbbbbbbbbbb', volumes: [{ volumeId: out.volume.id }] } });

    const d = await cnvm(['destroy', ...common, '--json']);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ vmRemoved: true, volumeDeleted: false, volumeKept: out.volume.id });
    expect(fake.volumes.get(out.volume.id)?.state).toBe('available');
  });
});
