// `cnvm upgrade --all | --select` through the built CLI on the project's EC2 fake: the dry run lists the batches and
// changes nothing; a selected fleet is upgraded K at a time and the rest is left as it was; the JSON (one result per
// VM) validates against schema/cli/upgrade.schema.json. Gate failures and resume are covered in-process
// (test/lifecycle/fleet.test.ts): the fake's VMs have no PMM to answer the gate.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/conformance.js';
import { runCli, type CliRun } from '../support/run-cli.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';
import { usePublicIpEcho } from '../support/aws-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-fleet-'));
mkdirSync(join(dir, 'providers', 'stages'), { recursive: true });
writeFileSync(join(dir, 'providers', 'stages', 'prod.yaml'), 'cpus: 2\n');
let ec2: FakeEc2;
let echo = '';
const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
for (const f of readdirSync(join(REPO_ROOT, 'schema/cli'))) ajv.addSchema(JSON.parse(readFileSync(join(REPO_ROOT, 'schema/cli', f), 'utf8')) as object);

function cnvm(args: string[]): Promise<CliRun> {
  return runCli(args, { env: { CNVM_EC2_ENDPOINT: ec2.endpoint, CNVM_PUBLIC_IP_URL: echo, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret' } });
}
const where = (): string[] => ['--provider', 'aws', '--region', 'eu-west-1', '--config-dir', join(dir, 'providers'), '--state-dir', join(dir, 'state')];
const images = (): string[] => [...ec2.images.keys()];
function valid(doc: unknown): void {
  const validate = ajv.getSchema('https://cnvm.dev/schema/cli/upgrade.schema.json');
  expect(validate?.(doc) ? [] : validate?.errors).toEqual([]);
}

beforeAll(async () => {
  ec2 = await startFakeEc2('eu-west-1');
  echo = await usePublicIpEcho();
  for (const name of ['pmm-eu', 'pmm-us', 'pmm-ap', 'other']) {
    // Two of them are placed with --stage prod: the stage travels with each VM's record (its EC2 tags).
    const stage = name === 'pmm-eu' || name === 'pmm-us' ? ['--stage', 'prod'] : [];
    const r = await cnvm(['provision', ...where(), ...stage, '--name', name, '--image', images()[0] as string, '--skip-health-check']);
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);
afterAll(async () => {
  await ec2.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cnvm upgrade --all / --select (fake EC2)', () => {
  it('the dry run lists every VM in batches and changes nothing', async () => {
    const before = ec2.log.length;
    const r = await cnvm(['upgrade', ...where(), '--all', '--batch', '3', '--image', images()[1] as string, '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { fleet: { batches: string[][] } };
    valid(doc);
    expect(doc.fleet.batches).toEqual([['other', 'pmm-ap', 'pmm-eu'], ['pmm-us']]);
    expect(ec2.log.slice(before).filter((a) => !/^Describe/.test(a))).toEqual([]);
    const text = await cnvm(['upgrade', ...where(), '--select', 'pmm-*', '--batch', '2', '--image', images()[1] as string, '--dry-run']);
    expect(text.stdout).toMatch(/fleet upgrade of pmm-\* on aws: 3 VMs, 2 at a time/);
    expect(text.stdout).toMatch(/batch 1: pmm-ap, pmm-eu\n {2}batch 2: pmm-us/);
  });

  it('--stage narrows the fleet to the VMs placed with that stage, found from the VMs themselves', async () => {
    // A fresh state directory: nothing local says which VM is in which stage.
    const elsewhere = where().map((a) => (a === join(dir, 'state') ? join(dir, 'state-other') : a));
    const r = await cnvm(['upgrade', ...elsewhere, '--all', '--stage', 'prod', '--image', images()[1] as string, '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { fleet: { selector: string; batches: string[][] } };
    valid(doc);
    expect(doc.fleet.batches).toEqual([['pmm-eu'], ['pmm-us']]);
    const narrowed = await cnvm(['upgrade', ...elsewhere, '--select', '*-us', '--stage', 'prod', '--image', images()[1] as string, '--dry-run']);
    expect(narrowed.stdout).toMatch(/fleet upgrade of \*-us in stage prod on aws: 1 VM, 1 at a time/);
  });

  it('bad fleet flags are usage errors before anything happens', async () => {
    for (const bad of [['--all', '--name', 'x'], ['--all', '--select', 'p*'], ['--select', 'a/b'], ['--all', '--batch', '0'], ['--all', '--max-failures', 'x']]) {
      const r = await cnvm(['upgrade', ...where(), ...bad, '--image', images()[1] as string, '--yes']);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('a selected fleet is upgraded two at a time; the VM outside the selection is untouched', async () => {
    const r = await cnvm(['upgrade', ...where(), '--select', 'pmm-*', '--batch', '2', '--image', images()[1] as string, '--yes', '--skip-health-check', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; fleet: { members: { name: string; status: string; batch: number; newVm?: string }[] } };
    valid(doc);
    expect(doc.fleet.members.map((m) => [m.name, m.status, m.batch])).toEqual([['pmm-ap', 'upgraded', 1], ['pmm-eu', 'upgraded', 1], ['pmm-us', 'upgraded', 2]]);
    for (const name of ['pmm-ap', 'pmm-eu', 'pmm-us']) {
      const s = JSON.parse((await cnvm(['status', ...where(), '--name', name, '--json'])).stdout) as { generation: number };
      expect(s.generation).toBe(2);
    }
    const other = JSON.parse((await cnvm(['status', ...where(), '--name', 'other', '--json'])).stdout) as { generation: number; vm: { image: string } };
    expect(other.generation).toBe(1);
    expect(other.vm.image).toBe(images()[0]);
    // Nothing left to resume: the fleet's journal went with its success.
    const resume = await cnvm(['upgrade', ...where(), '--select', 'pmm-*', '--resume', '--yes', '--skip-health-check']);
    expect(resume.code).toBe(5);
    expect(resume.stderr).toMatch(/no unfinished fleet upgrade of pmm-\* on aws/);
  });
});
