// `cnvm pmm token … --vm NAME --provider aws` through the built CLI (test/support/run-cli.ts): the VM is found the
// way `cnvm status` finds it, through the real EC2 client against the project's EC2 fake (CNVM_EC2_ENDPOINT), and
// its PMM URL is the instance's address (it was provisioned with `--address ephemeral`, which its record keeps;
// the fake hands out a loopback address, where the PMM/Grafana stand-in listens on 443). The token goes to AWS Secrets Manager on moto (the real SDK client,
// AWS_ENDPOINT_URL_SECRETS_MANAGER). It is checked to be only in the secret and in the one `--show` answer: never in
// the CLI's other output, its arguments, the state directory (records, journal, pins), or the VM's tags and user data.
// Needs `npm run build` (globalSetup).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAwsProvider } from '../../src/provider/aws/adapter.js';
import { REGION, usePublicIpEcho } from '../support/aws-harness.js';
import { REPO_ROOT } from '../support/conformance.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';
import { startFakePmm, type FakePmm } from '../support/fake-pmm.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';
import { startMoto, TEST_CREDENTIALS, type MotoServer } from '../support/moto.js';
import { runCli } from '../support/run-cli.js';

const SCHEMAS = join(REPO_ROOT, 'schema/cli');
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
for (const f of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')) as object);
const validate = ajv.getSchema('https://cnvm.dev/schema/cli/pmm-token.schema.json');

// A loopback address of this run's own (127.0.0.0/8 is all loopback on Linux), so port 443 is free there.
const VM_IP = `127.${100 + (process.pid % 100)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
const ADMIN_PASSWORD = 'admin-pw-of-pmm-7';

let moto: MotoServer;
let ec2: FakeEc2;
let pmm: FakePmm;
let store: ReturnType<typeof tempStore>;
let dir: string;
let env: NodeJS.ProcessEnv;
const argsSeen: string[][] = [];

beforeAll(async () => {
  moto = await startMoto();
  ec2 = await startFakeEc2(REGION, { ephemeralIp: () => VM_IP });
  pmm = await startFakePmm({ password: ADMIN_PASSWORD, host: VM_IP, port: 443 });
  await usePublicIpEcho();
  store = tempStore();
  dir = mkdtempSync(join(tmpdir(), 'cnvm-token-vm-'));
  env = {
    CNVM_EC2_ENDPOINT: ec2.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  // The VM, provisioned as `cnvm provision --address ephemeral` would (in this process, into the CLI's state dir).
  const provider = createAwsProvider({ region: REGION, address: 'ephemeral', clientConfig: { endpoint: ec2.endpoint, credentials: TEST_CREDENTIALS }, waitDelaySec: 0.01, waitMaxSec: 30 });
  await provisionVm(provider, store, 'pmm1', { id: 'ami-0aaaaaaaaaaaaaaaa', version: 'A' }, { defaults: { placement: { region: REGION, address: 'ephemeral' } } });
}, 120_000);

afterAll(async () => {
  await Promise.all([pmm?.close(), ec2?.close(), moto?.close()]);
  store?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function cnvm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const full = [...args, '--vm', 'pmm1', '--provider', 'aws', '--region', REGION, '--admin-password-file', join(dir, 'pw'), '--state-dir', store.dir];
  argsSeen.push(full);
  return runCli(full, { env });
}

const secretOf = async (name: string): Promise<string | undefined> => {
  const sm = new SecretsManagerClient({ region: REGION, endpoint: moto.endpoint, credentials: TEST_CREDENTIALS });
  try {
    return (await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  } finally {
    sm.destroy();
  }
};
const keys = (): string[] => [...pmm.accounts.values()].flatMap((a) => a.tokens.map((t) => t.key));
/** Every file cnvm keeps locally (records, secrets dir, journals, certificate pins). */
const localText = (): string =>
  readdirSync(store.dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
/** What the VM carries provider-side: its tags (the record) and its user data. */
const vmSide = (): string => JSON.stringify([...ec2.instances.values()].map((i) => ({ tags: i.tags, userData: i.userData })));

it('create / rotate --show / revoke with --vm: the token reaches PMM and Secrets Manager, and is shown only once', async () => {
  writeFileSync(join(dir, 'pw'), `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
  const created = await cnvm(['pmm', 'token', 'create', 'ci', '--role', 'viewer', '--store', 'aws-secretsmanager:pmm/ci', '--json']);
  expect(created.code, created.stderr).toBe(0);
  const doc = JSON.parse(created.stdout) as Record<string, unknown>;
  expect(validate?.(doc) ? [] : validate?.errors).toEqual([]);
  // The VM's PMM, as cnvm status shows its URL: the instance's address on 443.
  expect(doc).toMatchObject({ command: 'pmm token', ok: true, action: 'create', url: `https://${VM_IP}/`, serviceAccount: { name: 'ci', role: 'Viewer', created: true }, certificate: { pinned: 'first-use' } });
  const [first, ...others] = keys();
  expect(others).toEqual([]);
  expect(JSON.parse((await secretOf('pmm/ci')) ?? '{}')).toEqual({ pmmservertoken: first });

  const rotated = await cnvm(['pmm', 'token', 'rotate', 'ci', '--store', 'aws-secretsmanager:pmm/ci', '--show']);
  expect(rotated.code, rotated.stderr).toBe(0);
  const [second, ...more] = keys();
  expect(more, 'the old token is revoked once the new one is stored').toEqual([]);
  expect(second).not.toBe(first);
  expect(JSON.parse((await secretOf('pmm/ci')) ?? '{}')).toEqual({ pmmservertoken: second });
  // The shown-once answer: the new token, once, on stdout; the old one nowhere.
  expect(rotated.stdout.split(second as string).length - 1).toBe(1);
  expect(rotated.stderr).not.toContain(second);

  const revoked = await cnvm(['pmm', 'token', 'revoke', 'ci', '--json']);
  expect(revoked.code, revoked.stderr).toBe(0);
  expect(keys()).toEqual([]);
  expect(JSON.parse((await secretOf('pmm/ci')) ?? '{}'), 'the secret stays without --delete-secret').toEqual({ pmmservertoken: second });

  // Nowhere else: the CLI's other output, its arguments, the local state, the VM's tags and user data.
  for (const token of [first, second] as string[]) {
    expect(`${created.stdout}${created.stderr}${rotated.stderr}${revoked.stdout}${revoked.stderr}`).not.toContain(token);
    expect(JSON.stringify(argsSeen)).not.toContain(token);
    expect(localText()).not.toContain(token);
    expect(vmSide()).not.toContain(token);
  }
  // Nor the admin password, which came from the file.
  expect(`${created.stdout}${created.stderr}${rotated.stdout}${rotated.stderr}${revoked.stdout}${revoked.stderr}`).not.toContain(ADMIN_PASSWORD);
  expect(JSON.stringify(argsSeen)).not.toContain(ADMIN_PASSWORD);
}, 180_000);

it('a stopped VM has no PMM URL: exit 4, nothing created or stored', async () => {
  const inst = [...ec2.instances.values()].find((i) => i.state === 'running');
  expect(inst).toBeDefined();
  Object.assign(inst as object, { state: 'stopped', publicIp: undefined });
  const before = pmm.accounts.size;
  const r = await cnvm(['pmm', 'token', 'create', 'ci2', '--store', 'aws-secretsmanager:pmm/ci2', '--json']);
  expect(r.code, r.stderr).toBe(4);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { exitCode: 4 } });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(pmm.accounts.size).toBe(before);
  await expect(secretOf('pmm/ci2')).rejects.toThrow(/ResourceNotFound|can't find/i);
}, 120_000);
