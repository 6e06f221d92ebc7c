// `cnvm list` and `cnvm status --all` over several providers, through the built CLI: the EC2 fake answers, a
// libvirt whose daemon socket does not exist cannot; the reachable provider's VMs are still shown, the other is
// named with why, the exit code is that failure's, and the JSON validates against its schema. A fresh state
// directory sees the same VMs (names come from the provider, status from the record each VM carries).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePublicIpEcho } from '../support/aws-harness.js';
import { REPO_ROOT } from '../support/conformance.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';
import { runCli } from '../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-across-'));
mkdirSync(join(dir, 'providers'));
let ec2: FakeEc2;
let echo = '';
const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
for (const f of readdirSync(join(REPO_ROOT, 'schema/cli'))) ajv.addSchema(JSON.parse(readFileSync(join(REPO_ROOT, 'schema/cli', f), 'utf8')) as object);

const cnvm = (args: string[]) => runCli(args, { env: { CNVM_EC2_ENDPOINT: ec2.endpoint, CNVM_PUBLIC_IP_URL: echo, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret' } });
const common = (state = 'state'): string[] => ['--region', 'eu-west-1', '--config-dir', join(dir, 'providers'), '--state-dir', join(dir, state)];
/** A libvirt that cannot be reached: its daemon socket is a path that does not exist. */
const deadLibvirt = ['--connect', `qemu+unix:///system?socket=${join(dir, 'no-such-socket')}`];
function valid(schema: string, doc: unknown): void {
  const validate = ajv.getSchema(`https://cnvm.dev/schema/cli/${schema}.schema.json`);
  expect(validate?.(doc) ? [] : validate?.errors).toEqual([]);
}

beforeAll(async () => {
  ec2 = await startFakeEc2('eu-west-1');
  echo = await usePublicIpEcho();
  for (const name of ['pmm-a', 'pmm-b']) {
    const r = await cnvm(['provision', '--provider', 'aws', ...common(), '--name', name, '--image', [...ec2.images.keys()][0] as string, '--skip-health-check']);
    expect(r.code, r.stderr).toBe(0);
  }
  const gone = await cnvm(['destroy', '--provider', 'aws', ...common(), '--name', 'pmm-b']);
  expect(gone.code, gone.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await ec2.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cnvm list / status --all across providers', () => {
  it('list: the reachable provider is shown, the other is named with why and sets the exit code', async () => {
    const r = await cnvm(['list', '--provider', 'aws,libvirt', ...common(), ...deadLibvirt, '--json']);
    expect(r.code).toBe(4);
    const doc = JSON.parse(r.stdout) as { providers: { name: string; ok: boolean; error?: { kind: string } }[]; vms: { provider: string; name: string; state: string }[] };
    valid('list', doc);
    expect(doc.providers.map((p) => [p.name, p.ok, p.error?.kind])).toEqual([['aws', true, undefined], ['libvirt', false, 'provider']]);
    expect(doc.vms.map((v) => [v.provider, v.name, v.state])).toEqual([['aws', 'pmm-a', 'running'], ['aws', 'pmm-b', 'no VM']]);
    expect(r.stderr).toMatch(/^cnvm: libvirt: /m);
    const text = await cnvm(['list', '--provider', 'aws,libvirt', ...common(), ...deadLibvirt]);
    expect(text.stdout).toMatch(/^PROVIDER +NAME +GEN/);
    expect(text.stdout).toMatch(/^aws +pmm-a +1 /m);
  });

  it('status --all: one line per VM from the VMs themselves, also from a new state directory', async () => {
    const r = await cnvm(['status', '--all', '--provider', 'aws', ...common('state-new'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { vms: { name: string; status: string; generation: number | null; url: string | null; dataVolume: string | null }[] };
    valid('status', doc);
    expect(doc.vms.map((v) => [v.name, v.status, v.generation])).toEqual([['pmm-a', 'ready', 1], ['pmm-b', expect.stringMatching(/^(destroyed|unknown)$/), null]]);
    expect(doc.vms[0]?.url).toMatch(/^https:\/\//);
    expect(doc.vms[0]?.dataVolume).toBe('pmm-a-data');
    const text = await cnvm(['status', '--all', '--provider', 'aws', ...common()]);
    expect(text.stdout).toMatch(/^aws +pmm-a +ready +1 /m);
    expect(text.stdout).toMatch(/^aws +pmm-b +destroyed /m);
  });

  it('bad input is refused before any provider is asked', async () => {
    for (const bad of [['list', '--provider', 'aws,nope'], ['list', '--provider', 'aws,,gcp'], ['status', '--all', '--name', 'x', '--provider', 'aws'], ['list', '--config-dir', join(dir, 'providers')]]) {
      const before = ec2.log.length;
      const r = await cnvm([...bad, '--state-dir', join(dir, 'state')]);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(ec2.log.length).toBe(before);
    }
  });
});
