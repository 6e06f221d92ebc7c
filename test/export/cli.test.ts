// `cnvm export` through the built CLI (needs `npm run build`): the same flags and profile as `cnvm provision`, the
// same checks and exit codes, atomic -o, and the VM it describes is the one provision creates: provisioned on the
// stateful fake EC2 (real EC2 client), the instance's user data equals the exported template's Ignition with the
// volume id and the shown-once password filled in, and the dry run's requests equal the template's values.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutProgress } from '../cli/progress-lines.js';
import { runCli } from '../support/run-cli.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';
import { startFakeGce, type FakeGce } from '../support/fake-gce.js';
import { evaluateIgnitionTemplate } from './tf-schema.js';
import { FIXTURES, SSH_KEY } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-export-cli-'));
const configDir = join(dir, 'providers');
const stateDir = join(dir, 'state');
const keyFile = join(dir, 'ops.pub');
const streamFile = join(FIXTURES, 'stream-stable.json');
let fake: FakeEc2;
let gce: FakeGce;

function cnvm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { CNVM_EC2_ENDPOINT: fake.endpoint, CNVM_GCE_ENDPOINT: `http://127.0.0.1:${gce.port}`, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret' };
  return runCli(args, { cwd: dir, env });
}

// The profile provision and export both read: PMM settings, data size, a key file.
beforeAll(async () => {
  fake = await startFakeEc2('eu-west-1');
  gce = await startFakeGce('cnvm-test', 'europe-west1-b');
  mkdirSync(configDir);
  writeFileSync(keyFile, `${SSH_KEY}\n`);
  writeFileSync(join(configDir, 'aws.yaml'), ['provider: aws', 'region: eu-west-1', 'data_size: 40G', 'machine_type: m6i.large', 'pmm:', '  tag: "3.4.1"', '  env:', '    PMM_DATA_RETENTION: 720h', ''].join('\n'));
});
afterAll(async () => {
  await fake.close();
  await gce.close();
  rmSync(dir, { recursive: true, force: true });
});

const flags = ['--name', 'pmm1', '--config-dir', configDir, '--state-dir', stateDir, '--image', 'ami-0aaaaaaaaaaaaaaaa', '--ssh-key', keyFile, '--memory', '8192', '--allow-from', '198.51.100.0/24'];
type Cfn = { Parameters: Record<string, { Default?: unknown }>; Resources: Record<string, { Properties: Record<string, unknown> }> };

/** Reassembles the user data the template builds: literal pieces, the volume serial, the password. */
function userDataOf(t: Cfn, volumeId: string, password: string): string {
  const join = ((t.Resources.Instance?.Properties.UserData as { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } })['Fn::Base64']['Fn::Join'][1]);
  return join
    .map((p) => {
      if (typeof p === 'string') return p;
      const text = JSON.stringify(p);
      if (text.includes('Fn::Split')) return volumeId.replace('-', '');
      if (text.includes('resolve:secretsmanager')) return password;
      throw new Error(`unexpected piece ${text}`);
    })
    .join('');
}

describe('cnvm export', () => {
  it('describes the VM provision --dry-run plans and provision creates', async () => {
    const exported = await cnvm(['export', 'cloudformation', ...flags, '--stream-file', streamFile]);
    expect(withoutProgress(exported.stderr)).toBe('');
    expect(exported.code).toBe(0);
    const t = JSON.parse(exported.stdout) as Cfn;

    const dry = await cnvm(['provision', '--skip-health-check', '--provider', 'aws', ...flags, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const actions = (JSON.parse(dry.stdout) as { steps: { actions: { action: string; detail: Record<string, unknown> }[] }[] }).steps.flatMap((s) => s.actions);
    const createVolume = actions.find((a) => a.action === 'ec2:CreateVolume')?.detail;
    const run = actions.find((a) => a.action === 'ec2:RunInstances')?.detail;
    const attach = actions.find((a) => a.action === 'ec2:AttachVolume')?.detail;
    expect(t.Parameters.ImageId?.Default).toBe(run?.ImageId);
    expect(t.Parameters.InstanceType?.Default).toBe(run?.InstanceType);
    expect(t.Parameters.DataSizeGiB?.Default).toBe(createVolume?.Size);
    expect(t.Resources.DataVolume?.Properties).toMatchObject({ VolumeType: createVolume?.VolumeType, Encrypted: createVolume?.Encrypted });
    expect(t.Resources.DataAttachment?.Properties.Device).toBe(attach?.Device);

    const p = await cnvm(['provision', '--skip-health-check', '--provider', 'aws', ...flags, '--json']);
    expect(p.code).toBe(0);
    const out = JSON.parse(p.stdout) as { volume: { id: string }; adminPassword: string };
    const inst = [...fake.instances.values()][0];
    const provisioned = Buffer.from(inst?.userData ?? '', 'base64').toString('utf8');
    // Byte for byte: image-independent config, device naming, ssh key, PMM tag and settings, password file.
    expect(userDataOf(t, out.volume.id, out.adminPassword)).toBe(provisioned);
    // Export after provision reads the record: the same template.
    const again = await cnvm(['export', 'cloudformation', '--name', 'pmm1', '--config-dir', configDir, '--state-dir', stateDir, '--stream-file', streamFile]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(t);
  });

  it('terraform --provider gcp: the instance metadata provision writes on the fake Compute API is the template\'s user-data', async () => {
    const gcpFlags = ['--provider', 'gcp', '--project', 'cnvm-test', '--zone', 'europe-west1-b', '--name', 'pmm3', '--config-dir', configDir, '--state-dir', stateDir, '--image', 'projects/fedora-coreos-cloud/global/images/family/fedora-coreos-stable', '--ssh-key', keyFile, '--pmm-tag', '3.5.0', '--allow-from', '198.51.100.0/24'];
    const exported = await cnvm(['export', 'terraform', ...gcpFlags]);
    expect(exported.code).toBe(0);
    const tf = JSON.parse(exported.stdout) as { resource: { google_compute_instance: { pmm: { metadata: Record<string, string>; attached_disk: { device_name: string }[] } } }; variable: Record<string, { default?: unknown }> };
    const p = await cnvm(['provision', '--skip-health-check', ...gcpFlags, '--json']);
    expect(p.code).toBe(0);
    const out = JSON.parse(p.stdout) as { adminPassword: string; volume: { deviceName: string } };
    const inst = gce.instances.get('pmm3');
    const provisioned = inst?.metadata.items.find((i) => i.key === 'user-data')?.value;
    expect(evaluateIgnitionTemplate(tf.resource.google_compute_instance.pmm.metadata['user-data'] as string, { adminPassword: out.adminPassword })).toBe(provisioned);
    expect(tf.resource.google_compute_instance.pmm.attached_disk[0]?.device_name).toBe(out.volume.deviceName);
    expect(tf.variable.image?.default).toBe('projects/fedora-coreos-cloud/global/images/family/fedora-coreos-stable');
    // No gcp profile: the adapter's default machine type, as provision used.
    expect(tf.variable.machine_type?.default).toBe('e2-standard-4');
  });

  it('terraform --provider aws|gcp|libvirt writes NAME.tf.json into a directory, atomically, readable, secret-free', async () => {
    const out = join(dir, 'tf');
    mkdirSync(out);
    for (const provider of ['aws', 'gcp', 'libvirt']) {
      const extra = provider === 'gcp' ? ['--project', 'p1', '--zone', 'europe-west1-b'] : provider === 'libvirt' ? ['--image', join(dir, 'ops.pub')] : ['--image', 'ami-0aaaaaaaaaaaaaaaa', '--region', 'eu-west-1'];
      const r = await cnvm(['export', 'terraform', '--provider', provider, '--name', `tf-${provider}`, '--config-dir', configDir, '--state-dir', stateDir, '--ssh-key', keyFile, '--stream-file', streamFile, ...extra, '-o', out]);
      expect(r.stderr, provider).toBe(`terraform-${provider}: wrote ${join(out, `tf-${provider}.tf.json`)}\n`);
      expect(r.code).toBe(0);
      const file = join(out, `tf-${provider}.tf.json`);
      expect(statSync(file).mode & 0o777).toBe(0o644);
      const text = readFileSync(file, 'utf8');
      expect(JSON.parse(text)).toHaveProperty('terraform.required_providers');
      expect(text).not.toMatch(/CnvmExportAdminPassword/);
    }
    expect(readdirSync(out).sort()).toEqual(['tf-aws.tf.json', 'tf-gcp.tf.json', 'tf-libvirt.tf.json']);
  });

  it('fails like provision on bad input, before writing anything', async () => {
    const target = join(dir, 'bad.json');
    const cases: [string[], number, RegExp][] = [
      [['export', 'cloudformation', '--name', 'pmm1', '--bogus'], 2, /unknown flag --bogus/],
      [['export', 'cloudformation', '--name', 'Bad_Name'], 2, /--name "Bad_Name"/],
      [['export', 'cloudformation', '--name', 'pmm-g2'], 2, /reserved/],
      [['export', 'cloudformation', '--name', 'pmm2', '--data-size', '1.5G'], 2, /not a whole number of GiB/],
      [['export', 'cloudformation', '--name', 'pmm2', '--ssh-key', join(dir, 'missing.pub')], 3, /no such file/],
      [['export', 'cloudformation', '--name', 'pmm2', '--provider', 'gcp'], 2, /for aws/],
      [['export', 'terraform', '--name', 'pmm2'], 2, /--provider is required/],
      [['export', 'terraform', '--provider', 'nope', '--name', 'pmm2'], 2, /unknown provider/],
      [['export', 'yaml', '--name', 'pmm2'], 2, /unknown format/],
      [['export', 'cloudformation', '--name', 'pmm2', '--admin-password-file', keyFile], 2, /Secrets Manager/],
      [['export', 'cloudformation', '--name', 'pmm2', '--stream-file', join(dir, 'none.json')], 3, /--stream-file/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cnvm([...args, '--config-dir', configDir, '--state-dir', join(dir, 'state-bad'), '-o', target]);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(target)).toBe(false);
  });
});
