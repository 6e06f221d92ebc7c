// Every command's --json output, produced by the built CLI (against the stateful fake EC2 API through the real EC2
// client, and a recording `ssh` on PATH), validates against its committed schema in schema/cli/. The schemas are
// strict (unknown top-level fields fail), so a field added without documenting it fails here. Needs `npm run build`.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { REPO_ROOT } from '../support/conformance.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';
import { usePublicIpEcho } from '../support/aws-harness.js';

const SCHEMAS = join(REPO_ROOT, 'schema/cli');
const dir = mkdtempSync(join(tmpdir(), 'cnvm-schemas-'));
const configDir = join(dir, 'providers');
const binDir = join(dir, 'bin');
mkdirSync(configDir);
mkdirSync(binDir);
writeFileSync(join(binDir, 'ssh'), '#!/bin/sh\necho "Dec 02 host pmm-server[1]: ready"\n');
chmodSync(join(binDir, 'ssh'), 0o755);
const scope = ['--provider', 'aws', '--region', 'eu-west-1', '--config-dir', configDir, '--state-dir', join(dir, 'state')];
const vm = [...scope, '--name', 'sch1'];
let fake: FakeEc2;

// strictRequired off: the envelope's `then: {required: [error]}` names a property defined beside it, not in it.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
for (const f of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')) as object);
const schemaFor = (command: string) => `https://cnvm.dev/schema/cli/${command.replace(' ', '-')}.schema.json`;

function cnvm(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { CNVM_EC2_ENDPOINT: fake.endpoint, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret', PATH: `${binDir}:${process.env.PATH ?? ''}` };
  return runCli(args, { env, input: input ?? '' });
}

/** Runs a --json command; checks the one document on stdout against the command's schema; returns it. */
async function checked(command: string, args: string[], expectCode = 0, input?: string): Promise<Record<string, unknown>> {
  const r = await cnvm([...args, '--json'], input);
  expect(r.code, r.stderr).toBe(expectCode);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  const validate = ajv.getSchema(schemaFor(command));
  if (!validate) throw new Error(`no schema for ${command}`);
  expect(validate(doc) ? [] : validate.errors, `${command} ${JSON.stringify(doc).slice(0, 400)}`).toEqual([]);
  expect(doc).toMatchObject({ schema: 'cnvm/v1', schemaVersion: '1.1', command, ok: expectCode === 0 });
  if (expectCode !== 0) {
    expect(doc.error).toMatchObject({ exitCode: expectCode });
    expect(ajv.getSchema(schemaFor('error'))?.(doc)).toBe(true);
  }
  return doc;
}

beforeAll(async () => {
  // No --allow-from: cnvm opens 443 and 22 to what the (loopback) echo service says this machine's address is.
  await usePublicIpEcho();
  fake = await startFakeEc2('eu-west-1');
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the committed schemas', () => {
  it('compile, and there is one per command plus the envelope, the shared shapes and errors', () => {
    const names = readdirSync(SCHEMAS).sort();
    expect(names).toEqual(['common', 'config-show', 'console', 'destroy', 'envelope', 'error', 'generate', 'list', 'logs', 'pmm-releases', 'pmm-token', 'provision', 'ssh', 'status', 'upgrade', 'validate'].map((n) => `${n}.schema.json`));
  });

  it('are not vacuous: a missing schemaVersion, an unknown field, or ok:false without error fail', () => {
    const status = ajv.getSchema(schemaFor('status'));
    const good = { schema: 'cnvm/v1', schemaVersion: '1.1', command: 'status', ok: true, name: 'x', status: 'ready', generation: 1, vm: null, volume: null, others: [], desired: {}, address: null, addressing: 'fake' };
    expect(status?.(good)).toBe(true);
    const { schemaVersion: _, ...noVersion } = good;
    expect(status?.(noVersion)).toBe(false);
    expect(status?.({ ...good, surprise: 1 })).toBe(false);
    expect(status?.({ ...good, url: 'http://x/' })).toBe(false);
    expect(status?.({ schema: 'cnvm/v1', schemaVersion: '1.1', command: 'status', ok: false })).toBe(false);
    expect(status?.({ schema: 'cnvm/v1', schemaVersion: '1.1', command: 'status', ok: false, error: { kind: 'not-found', message: 'm', exitCode: 5 } })).toBe(true);
  });
});

describe('real output validates', () => {
  it('generate and validate, passing and failing', async () => {
    const ok = await checked('generate', ['generate'], 0, 'variant: fcos\nversion: 1.4.0\n');
    expect(ok.config).toEqual({ ignition: { version: '3.3.0' } });
    const bad = await checked('generate', ['generate'], 1, 'variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: relative\n');
    expect(bad.error).toMatchObject({ kind: 'invalid-config' });
    const file = join(dir, 'x.ign');
    writeFileSync(file, '{"ignition":{"version":"3.3.0"}}');
    await checked('validate', ['validate', file]);
    writeFileSync(file, '{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"rel"}]}}');
    await checked('validate', ['validate', file], 1);
  });

  it('provision (dry run, applied), status, list, console, logs, ssh, upgrade (dry run, applied), config show, destroy', async () => {
    const plan = await checked('provision', ['provision', '--skip-health-check', ...vm, '--image', 'ami-0aaaaaaaaaaaaaaaa', '--dry-run']);
    expect(plan.dryRun).toBe(true);
    const p = await checked('provision', ['provision', '--skip-health-check', ...vm, '--image', 'ami-0aaaaaaaaaaaaaaaa']);
    expect(p.url).toMatch(/^https:\/\/[\d.]+\/$/);
    expect(typeof p.adminPassword).toBe('string');
    const s = await checked('status', ['status', ...vm]);
    expect(s.url).toBe(p.url);
    const l = await checked('list', ['list', ...scope]);
    expect((l.vms as { url: string }[])[0]?.url).toBe(p.url);
    await checked('console', ['console', 'sch1', ...scope]);
    await checked('logs', ['logs', 'sch1', ...scope, '--ignition']);
    await checked('logs', ['logs', 'sch1', ...scope]);
    await checked('logs', ['logs', 'sch1', ...scope, '--dry-run']);
    await checked('ssh', ['ssh', 'sch1', ...scope, '--dry-run']);
    const up = await checked('upgrade', ['upgrade', ...vm, '--image', 'ami-0bbbbbbbbbbbbbbbb', '--dry-run']);
    expect(up.dryRun).toBe(true);
    const u = await checked('upgrade', ['upgrade', ...vm, '--image', 'ami-0bbbbbbbbbbbbbbbb', '--skip-health-check', '--yes']);
    expect(u.url).toMatch(/^https:\/\//);
    await checked('config show', ['config', 'show', '--provider', 'aws', '--region', 'eu-west-1', '--config-dir', configDir, '--name', 'sch1']);
    await checked('destroy', ['destroy', ...vm, '--dry-run']);
    const d = await checked('destroy', ['destroy', ...vm]);
    expect(d.volumeKept).toMatch(/^vol-/);
    const gone = await checked('status', ['status', ...vm]);
    expect(gone.url).toBeUndefined();
    expect(gone.vm).toBeNull();
  }, 300_000);

  it('failures: every command gives the envelope with an error object and its exit code', async () => {
    await checked('status', ['status', ...scope, '--name', 'nope'], 5);
    await checked('upgrade', ['upgrade', ...scope, '--name', 'nope', '--image', 'ami-0bbbbbbbbbbbbbbbb', '--yes'], 5);
    await checked('destroy', ['destroy', ...scope, '--name', 'nope'], 5);
    await checked('provision', ['provision', '--skip-health-check', ...scope, '--name', 'Bad_Name'], 2);
    await checked('list', ['list', '--provider', 'azure'], 2);
    await checked('console', ['console', 'nope', ...scope], 5);
    await checked('logs', ['logs', 'nope', ...scope], 5);
    await checked('ssh', ['ssh', 'nope', ...scope, '--dry-run'], 5);
    await checked('config show', ['config', 'show', '--provider', 'aws', '--bogus'], 2);
    await checked('generate', ['generate', join(dir, 'missing.bu')], 3);
    await checked('validate', ['validate', join(dir, 'missing.ign')], 3);
  }, 300_000);
});
