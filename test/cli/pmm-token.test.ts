// `cnvm pmm token` through the built CLI against the loopback PMM stand-in: the --json documents validate against
// schema/cli/pmm-token.schema.json and never carry the token; --show prints it once; the token and the admin
// password appear in no output and no local file but the store; bad flags and failures exit with the documented
// codes (README's table), one error envelope with --json, no stack trace. Needs `npm run build` (globalSetup).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/conformance.js';
import { runCli, type CliRun } from '../support/run-cli.js';
import { startFakePmm, type FakePmm } from '../support/fake-pmm.js';

const SCHEMAS = join(REPO_ROOT, 'schema/cli');
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
for (const f of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')) as object);
const validate = ajv.getSchema('https://cnvm.dev/schema/cli/pmm-token.schema.json');

let pmm: FakePmm;
let dir: string;
let passwordFile: string;
const scope = (): string[] => ['--url', pmm.url, '--admin-password-file', passwordFile, '--state-dir', join(dir, 'state')];

function cnvm(args: string[]): Promise<CliRun> {
  return runCli(args);
}

/** A --json run: one document on stdout, valid against the schema, with the exit code expected. */
async function json(args: string[], code = 0): Promise<Record<string, unknown>> {
  const r = await cnvm([...args, '--json']);
  expect(r.code, r.stderr).toBe(code);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  expect(validate?.(doc) ? [] : validate?.errors, JSON.stringify(doc).slice(0, 400)).toEqual([]);
  expect(doc).toMatchObject({ command: 'pmm token', ok: code === 0 });
  if (code !== 0) expect(doc.error).toMatchObject({ exitCode: code });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return doc;
}

const allKeys = (): string[] => [...pmm.accounts.values()].flatMap((a) => a.tokens.map((t) => t.key));
const localText = (): string =>
  readdirSync(join(dir, 'state'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');

beforeAll(async () => {
  pmm = await startFakePmm({ password: 'pw-of-the-admin-9' });
});
afterAll(async () => {
  await pmm.close();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnvm-pmm-token-cli-'));
  passwordFile = join(dir, 'admin-password');
  writeFileSync(passwordFile, `${pmm.password}\n`, { mode: 0o600 });
  pmm.accounts.clear();
  pmm.faults.length = 0;
  return () => rmSync(dir, { recursive: true, force: true });
});

describe('cnvm pmm token', () => {
  it('create, list, rotate --show, revoke: JSON per the schema, the token only in the store and the one --show', async () => {
    const out = join(dir, 'ci-token');
    const created = await json(['pmm', 'token', 'create', 'ci', '--role', 'editor', '--store', `file:${out}`, ...scope()]);
    expect(created).toMatchObject({ action: 'create', url: pmm.url, serviceAccount: { name: 'ci', role: 'Editor', created: true }, store: { spec: `file:${out}` }, certificate: { pinned: 'first-use' } });
    const [key1] = allKeys();
    expect(readFileSync(out, 'utf8')).toBe(key1);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(created)).not.toContain(key1);

    const list = await json(['pmm', 'token', 'list', ...scope()]);
    expect(list).toMatchObject({ action: 'list', accounts: [{ name: 'ci', tokens: [{ managedByCnvm: true }] }], certificate: { pinned: 'pinned' } });

    // rotate remembers the store; --show prints the new token once, on stdout, and nothing else there.
    const rotated = await cnvm(['pmm', 'token', 'rotate', 'ci', '--show', ...scope()]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const key2 = allKeys()[0] as string;
    expect(allKeys()).toEqual([key2]);
    expect(key2).not.toBe(key1);
    expect(rotated.stdout).toBe(`${key2}\n`);
    expect(rotated.stderr).toMatch(/rotated token cnvm-ci-/);
    expect(rotated.stderr).toMatch(/revoked old token/);
    expect(rotated.stderr).not.toContain(key2);
    expect(readFileSync(out, 'utf8')).toBe(key2);

    const revoked = await json(['pmm', 'token', 'revoke', 'ci', ...scope()]);
    expect(revoked).toMatchObject({ action: 'revoke', serviceAccount: { name: 'ci', deleted: true }, secret: { deleted: false } });
    expect(pmm.accounts.size).toBe(0);
    // No token and no admin password in any local file cnvm keeps.
    for (const k of [key1, key2, pmm.password]) expect(localText()).not.toContain(k);
  });

  it('--json with --show never prints the token', async () => {
    const doc = await json(['pmm', 'token', 'create', 'ci', '--show', ...scope()]);
    expect(JSON.stringify(doc)).not.toContain(allKeys()[0]);
  });

  it('failures exit with their codes: wrong password 2, PMM unreachable 4, a name taken 8, an unknown account 5', async () => {
    writeFileSync(join(dir, 'wrong'), 'not-the-password\n', { mode: 0o600 });
    const wrong = await json(['pmm', 'token', 'create', 'ci', '--show', '--url', pmm.url, '--admin-password-file', join(dir, 'wrong'), '--state-dir', join(dir, 'state')], 2);
    expect(String((wrong.error as { message: string }).message)).toMatch(/rejected the admin password/);
    expect(JSON.stringify(wrong)).not.toContain('not-the-password');
    expect(pmm.accounts.size).toBe(0);

    const down = await json(['pmm', 'token', 'list', '--url', 'https://127.0.0.1:9', '--admin-password-file', passwordFile, '--state-dir', join(dir, 'state')], 4);
    expect(String((down.error as { message: string }).message)).toMatch(/127\.0\.0\.1:9.*does not answer/);

    await json(['pmm', 'token', 'create', 'ci', '--store', `file:${join(dir, 't')}`, ...scope()]);
    const taken = await json(['pmm', 'token', 'create', 'ci', '--store', `file:${join(dir, 't')}`, ...scope()], 8);
    expect(String((taken.error as { message: string }).message)).toMatch(/cnvm pmm token rotate ci/);
    await json(['pmm', 'token', 'rotate', 'nobody', '--show', ...scope()], 5);
  });

  it("PMM's answer lost after it created the token: exit 4, the token revoked again, said so", async () => {
    pmm.faults.push({ method: 'POST', path: /\/tokens$/, kind: 'lose-reply' });
    const doc = await json(['pmm', 'token', 'create', 'ci', '--store', `file:${join(dir, 't')}`, ...scope()], 4);
    expect(String((doc.error as { message: string }).message)).toMatch(/answer was lost .*cnvm revoked it again; nothing was stored/);
    expect(pmm.accounts.size).toBe(0);
  });

  it('bad flags are usage errors (exit 2), checked before PMM is asked anything', async () => {
    const before = pmm.requests.length;
    const cases: [string[], RegExp][] = [
      [['pmm', 'token', 'mint', 'ci'], /unknown command 'pmm token mint'/],
      [['pmm', 'token', 'create', ...scope()], /needs one NAME/],
      [['pmm', 'token', 'create', 'bad name!', '--show', ...scope()], /token name "bad name!"/],
      [['pmm', 'token', 'create', 'ci', '--role', 'root', '--show', ...scope()], /--role root: give viewer, editor or admin/],
      [['pmm', 'token', 'create', 'ci', '--store', 'vault-ish:x', ...scope()], /--store vault-ish:x: give KIND:TARGET/],
      [['pmm', 'token', 'create', 'ci', ...scope()], /give --store STORE \(or --show/],
      [['pmm', 'token', 'create', 'ci', '--show', '--expires-in', '0', ...scope()], /--expires-in 0/],
      [['pmm', 'token', 'list', '--show', ...scope()], /--show is for create and rotate/],
      [['pmm', 'token', 'rotate', 'ci', '--role', 'admin', '--show', ...scope()], /--role is for create/],
      [['pmm', 'token', 'list', '--url', 'http://127.0.0.1:1', '--admin-password-file', passwordFile], /over https only/],
      [['pmm', 'token', 'list', '--url', pmm.url], /--url needs --admin-password-file/],
      [['pmm', 'token', 'list', '--vm', 'pmm1'], /--vm needs --provider/],
      [['pmm', 'token', 'list'], /give --vm VM --provider P/],
      [['pmm', 'token', 'list', '--url', pmm.url, '--admin-password-file', join(dir, 'missing')], /--admin-password-file .*missing: no such file/],
    ];
    for (const [args, message] of cases) {
      const r = await cnvm([...args, '--json']);
      const code = /no such file/.test(String(message)) ? 3 : 2;
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const doc = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(validate?.(doc), JSON.stringify(validate?.errors)).toBe(true);
    }
    expect(pmm.requests.length).toBe(before);
    expect(pmm.accounts.size).toBe(0);
  });

  it('--help lists the subcommands, and cnvm pmm --help names token beside releases', async () => {
    const h = await cnvm(['pmm', 'token', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/cnvm pmm token create NAME/);
    const p = await cnvm(['pmm', '--help']);
    expect(p.stdout).toMatch(/releases/);
    expect(p.stdout).toMatch(/token create\|rotate\|list\|revoke/);
  });
});
