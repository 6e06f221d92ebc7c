// `cnvm export cloudformation`: cfn-lint on every variant, the stack created in moto's CloudFormation with its EC2
// resources read back through boto3, and what an ImageId change replaces, from the registry schemas' createOnly
// properties (moto 5.2.1 does not replace an instance on update; see docs/export.md).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportVm, fillIgnition, PASSWORD_SENTINEL, VOLUME_ID_SENTINEL, type ExportInput } from '../../src/export/index.js';
import { desired, FIXTURES, fixtureImages, SSH_KEY } from './helpers.js';
import { AWS_TEST_ENV, startMoto, type Moto } from './moto.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cnvm-cfn-'));
type Template = { Parameters: Record<string, { Default?: unknown }>; Resources: Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string; Condition?: string }>; Mappings: Record<string, Record<string, { Ami: string }>> };

const base: ExportInput = { name: 'pmm1', desired: desired({ region: 'eu-west-1', allow_from: ['203.0.113.7/32'] }), imagePinned: false, password: 'secret', images: fixtureImages() };

async function template(input: ExportInput, file: string): Promise<{ path: string; doc: Template; pieces: Awaited<ReturnType<typeof exportVm>>['subject']['ignition']['pieces'] }> {
  const r = await exportVm('cloudformation', input);
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(r.document, null, 2));
  return { path, doc: r.document as unknown as Template, pieces: r.subject.ignition.pieces };
}

function cfnLint(path: string): { status: number | null; output: string } {
  const r = spawnSync('cfn-lint', ['--', path], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('cloudformation template', () => {
  it('passes cfn-lint in every variant', async () => {
    const variants: [string, ExportInput][] = [
      ['stream-secret.json', base],
      ['pinned-default-password.json', { ...base, desired: desired({}, 'ami-0123456789abcdef0'), imagePinned: true, password: 'none' }],
      [
        'placed.json',
        { ...base, desired: { ...desired({ region: 'eu-west-1', zone: 'eu-west-1b', subnet: 'subnet-0abc1234', key_name: 'ops', machine_type: 'm6i.large', security_group: 'sg-0abc1234def567890', allow_from: ['203.0.113.7/32', '198.51.100.0/24'] }), memoryMiB: 8192 } },
      ],
      ['ephemeral.json', { ...base, desired: desired({ region: 'eu-west-1', allow_from: ['203.0.113.7/32'], address: 'ephemeral' }) }],
    ];
    for (const [file, input] of variants) {
      const { path } = await template(input, file);
      const lint = cfnLint(path);
      expect(lint.output, file).toBe('');
      expect(lint.status, file).toBe(0);
    }
  });

  it('keeps the data volume and never writes the password (golden file pmm1.cfn.json)', async () => {
    const { doc } = await template(base, 'shape.json');
    const golden = `${FIXTURES}golden/pmm1.cfn.json`;
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, `${JSON.stringify(doc, null, 2)}\n`);
    expect(`${JSON.stringify(doc, null, 2)}\n`).toBe(readFileSync(golden, 'utf8'));
    const text = JSON.stringify(doc);
    expect(doc.Resources.DataVolume).toMatchObject({ Type: 'AWS::EC2::Volume', DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { VolumeType: 'gp3', Encrypted: true } });
    expect(doc.Resources.DataAttachment?.Properties.Device).toBe('/dev/sdf');
    // IMDSv2 only (IMDSv1's plain GET refused), hop limit 1: what provision's RunInstances asks; cfn-lint checks it
    // against the registry schema of AWS::EC2::Instance in the test above.
    expect(doc.Resources.Instance?.Properties.MetadataOptions).toEqual({ HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(doc.Mappings.FcosAmi).toEqual({ 'eu-west-1': { Ami: 'ami-0a1b2c3d4e5f60718' }, 'us-east-1': { Ami: 'ami-0123456789abcdef0' }, 'us-west-2': { Ami: 'ami-0fedcba9876543210' } });
    expect(text).not.toContain(PASSWORD_SENTINEL);
    expect(text).not.toMatch(/cnvm:managed/);
    expect(text).not.toContain(VOLUME_ID_SENTINEL.replace('-', ''));
    expect(text).toContain('{{resolve:secretsmanager:');
    // The profile's PMM settings and the ssh key are in the config, as provision renders them.
    expect(text).toContain('PMM_DATA_RETENTION');
    expect(text).toContain(SSH_KEY.split(' ')[1]);
  });

  it('--address ephemeral: no Elastic IP; the URL is the instance\'s own public IP', async () => {
    const { doc } = await template({ ...base, desired: desired({ region: 'eu-west-1', allow_from: ['203.0.113.7/32'], address: 'ephemeral' }) }, 'ephemeral-shape.json');
    expect(Object.values(doc.Resources).map((r) => r.Type)).not.toContain('AWS::EC2::EIP');
    const outputs = (doc as unknown as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    expect(outputs.PublicIp?.Value).toEqual({ 'Fn::GetAtt': ['Instance', 'PublicIp'] });
    expect(outputs.PmmUrl?.Value).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['Instance', 'PublicIp'] }, '/']] });
  });

  it('16 KB rule: a large config goes into a compressed inner config, the deploy-time values stay outside', async () => {
    // 150 keys: about 18 KB of config, so the user data is the wrapper.
    const keys = Array.from({ length: 150 }, (_, i) => `${SSH_KEY.split(' ').slice(0, 2).join(' ')} key${i}@example`);
    const input = { ...base, desired: { ...base.desired, sshKeys: keys } };
    const { path, doc, pieces } = await template(input, 'large.json');
    expect(Buffer.byteLength(fillIgnition(pieces, { volumeSerial: 'vol0123456789abcdef0', adminPassword: 'x'.repeat(24) }))).toBeGreaterThan(16 * 1024);
    expect(cfnLint(path)).toEqual({ status: 0, output: '' });
    const join = (doc.Resources.Instance?.Properties.UserData as { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } })['Fn::Base64']['Fn::Join'][1];
    const filled = join.map((p) => (typeof p === 'string' ? p : JSON.stringify(p).includes('Fn::Split') ? 'vol0123456789abcdef0' : 'P'.repeat(128))).join('');
    expect(Buffer.byteLength(filled)).toBeLessThanOrEqual(16 * 1024);
    // What Ignition assembles: the inner config merged into the outer one holds every entry of the original.
    const outer = JSON.parse(filled) as Record<string, Record<string, unknown[]>> & { ignition: { config: { merge: { source: string; compression: string }[] } } };
    const merge = outer.ignition.config.merge[0] as { source: string; compression: string };
    expect(merge.compression).toBe('gzip');
    const inner = JSON.parse(gunzipSync(Buffer.from(merge.source.replace('data:;base64,', ''), 'base64')).toString('utf8')) as Record<string, Record<string, unknown[]>>;
    const merged: Record<string, Record<string, unknown[]>> = JSON.parse(JSON.stringify(inner));
    for (const [section, body] of Object.entries(outer)) {
      if (section === 'ignition') continue;
      for (const [key, list] of Object.entries(body)) ((merged[section] ??= {})[key] = [...(merged[section]?.[key] ?? []), ...list]);
    }
    const canonical = (v: unknown): unknown => (Array.isArray(v) ? v.map(canonical).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort().map(([k, x]) => [k, canonical(x)])) : v);
    const original = JSON.parse(fillIgnition(pieces, { volumeSerial: 'vol0123456789abcdef0', adminPassword: 'P'.repeat(128) })) as unknown;
    expect(canonical(merged)).toEqual(canonical(original));
    // The deploy-time values are only in the outer part: the disk, its filesystem and mount unit, the password file.
    expect(JSON.stringify(inner)).not.toContain('vol0123456789abcdef0');
    expect(Object.keys(outer).sort()).toEqual(['ignition', 'storage', 'systemd']);
  });

  it('refuses a config that does not fit even compressed', async () => {
    const random = (i: number): string => `ssh-ed25519 ${randomBytes(400).toString('base64').replace(/=+$/, '')} key${i}@example`;
    const keys = Array.from({ length: 60 }, (_, i) => random(i));
    await expect(exportVm('cloudformation', { ...base, desired: { ...base.desired, sshKeys: keys } })).rejects.toThrow(/compressed, and EC2 user data takes at most 16384/);
  });

  it('replaces only the instance and its attachment when ImageId changes (registry createOnly properties)', async () => {
    const { doc } = await template(base, 'replace.json');
    const types = [...new Set(Object.values(doc.Resources).map((r) => r.Type))];
    const createOnly = JSON.parse(execFileSync('python3', [join(HERE, 'create-only.py'), ...types], { encoding: 'utf8' })) as Record<string, string[]>;
    // Which parameters and resources a value depends on.
    const refs = (v: unknown): string[] => {
      if (Array.isArray(v)) return v.flatMap(refs);
      if (!v || typeof v !== 'object') return [];
      const o = v as Record<string, unknown>;
      if (typeof o.Ref === 'string') return [o.Ref];
      if (Array.isArray(o['Fn::GetAtt'])) return [String(o['Fn::GetAtt'][0])];
      return Object.values(o).flatMap(refs);
    };
    const replaced = new Set<string>(['ImageId']);
    for (let changed = true; changed; ) {
      changed = false;
      for (const [id, r] of Object.entries(doc.Resources)) {
        if (replaced.has(id)) continue;
        // The data volume's schema lists no createOnly property: count every property of it as one, to be safe.
        const props = r.Type === 'AWS::EC2::Volume' ? Object.keys(r.Properties) : (createOnly[r.Type] ?? []);
        if (props.some((p) => refs(r.Properties[p]).some((x) => replaced.has(x)))) {
          replaced.add(id);
          changed = true;
        }
      }
    }
    replaced.delete('ImageId');
    expect([...replaced].sort()).toEqual(['DataAttachment', 'Instance']);
    // The Elastic IP follows the new instance by an in-place update of InstanceId (not createOnly for AWS::EC2::EIP).
    expect(createOnly['AWS::EC2::EIP']).not.toContain('InstanceId');
  });
});

describe('cloudformation stack on moto', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  }, 40_000);
  afterAll(() => moto?.stop());

  it('creates the instance, the retained volume, the attachment and the address; user data is the rendered Ignition', async () => {
    // moto has none of the fixture stream's AMIs: the stack gets one of moto's own as ImageId (pinned-image path).
    const { path, pieces } = await template(base, 'moto.json');
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm1-admin-AbCdEf';
    const out = execFileSync('python3', [join(HERE, 'moto-stack.py'), moto.endpoint, path, secret], { encoding: 'utf8', env: { ...process.env, ...AWS_TEST_ENV }, timeout: 120_000 });
    type Snap = {
      status: string;
      resources: string[];
      outputs: Record<string, string>;
      instance: { id: string; image: string; type: string; subnet: string };
      userData: string;
      volume: { id: string; size: number; az: string; attachments: { InstanceId: string; Device: string; State: string }[] };
      ingress: [number, string][];
      addresses: { ip: string; instance: string; domain: string }[];
    };
    const r = JSON.parse(out) as { amis: string[]; created: Snap; replaced: Snap; afterDelete: { volumes: { id: string; state: string }[]; instancesTerminated: string[] } };
    const c = r.created;
    expect(c.status).toBe('CREATE_COMPLETE');
    expect(c.resources).toEqual(['DataAttachment', 'DataVolume', 'ElasticIp', 'Instance', 'SecurityGroup']);
    expect(c.instance).toMatchObject({ image: r.amis[0], type: 't3.large' });
    expect(c.volume).toMatchObject({ size: 30, az: 'eu-west-1a' });
    expect(c.volume.attachments).toEqual([expect.objectContaining({ InstanceId: c.instance.id, Device: '/dev/sdf', State: 'attached' })]);
    expect(c.ingress).toEqual([
      [22, '203.0.113.7/32'],
      [443, '203.0.113.7/32'],
    ]);
    expect(c.addresses).toEqual([expect.objectContaining({ instance: c.instance.id, domain: 'vpc' })]);
    expect(c.outputs.PmmUrl).toBe(`https://${c.addresses[0]?.ip}/`);
    expect(c.outputs.DataVolumeId).toBe(c.volume.id);
    // The user data is the config provision renders for this volume; moto leaves the secret's dynamic reference
    // unresolved (real CloudFormation substitutes the secret's value there).
    const expected = fillIgnition(pieces, { volumeSerial: c.volume.id.replace('-', ''), adminPassword: `{{resolve:secretsmanager:${secret}:SecretString}}` });
    expect(c.userData).toBe(expected);
    expect(c.userData).toContain(`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${c.volume.id.replace('-', '')}`);
    // Through the ImageId update the volume survives, with the same id, on the stack's instance.
    expect(r.replaced.volume.id).toBe(c.volume.id);
    expect(r.replaced.outputs.PmmUrl).toBe(c.outputs.PmmUrl);
    // Deleting the stack and terminating its instance leaves the volume (Retain; DeleteOnTermination false).
    expect(r.afterDelete.instancesTerminated.length).toBeGreaterThan(0);
    expect(r.afterDelete.volumes).toEqual([{ id: c.volume.id, state: 'available' }]);
  }, 150_000);
});
