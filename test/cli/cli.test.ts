// The built `cnvm` executable, end to end: flags, exit codes, messages, atomic output. Needs `npm run build`.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, afterAll } from 'vitest';
import { normalize } from '../support/compare.js';
import { CLI_BIN as BIN, runCliSync } from '../support/run-cli.js';
import { conformanceDir, REPO_ROOT } from '../support/conformance.js';

const FIX = join(REPO_ROOT, 'test/fixtures/cli');
const scratch = mkdtempSync(join(tmpdir(), 'cnvm-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function cnvm(args: string[], input?: string) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the tests`);
  return runCliSync(args, input === undefined ? {} : { input });
}

describe('cnvm generate', () => {
  const vector = join(conformanceDir(), 'butane-docs/055-upgrading-fcos.bu');
  const expected = JSON.parse(readFileSync(vector.replace(/\.bu$/, '.ign'), 'utf8')) as unknown;

  it('translates a file like butane --strict --pretty --files-dir', () => {
    const r = cnvm(['generate', '--strict', '--pretty', '--files-dir', join(conformanceDir(), 'files'), vector]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\{\n {2}"ignition"/);
    expect(r.stdout.endsWith('}\n')).toBe(true);
    expect(normalize(JSON.parse(r.stdout))).toEqual(normalize(expected));
  });

  it('reads standard input and writes compact JSON by default', () => {
    const r = cnvm(['generate'], 'variant: fcos\nversion: 1.4.0\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"ignition":{"version":"3.3.0"}}\n');
  });

  it('short flags work as in butane (-s -p -d -o)', () => {
    const out = join(scratch, 'short.ign');
    const r = cnvm(['generate', '-s', '-p', '-d', join(conformanceDir(), 'files'), '-o', out, vector]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(normalize(JSON.parse(readFileSync(out, 'utf8')))).toEqual(normalize(expected));
  });

  it('reports Ignition errors at the Butane line and column, naming the file', () => {
    const r = cnvm(['generate', join(FIX, 'duplicate-file.bu')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(FIX, 'duplicate-file.bu')}: error at $.storage.files.1, line 8 col 7: duplicate entry defined`);
    expect(r.stdout).toBe('');
  });

  it('reports relative paths at the path value', () => {
    const r = cnvm(['generate', join(FIX, 'relative-path.bu')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error at \$\.storage\.files\.0\.path, line 5 col 13: path not absolute/);
  });

  it('prints warnings and succeeds without --strict; fails with it', () => {
    const loose = cnvm(['generate', join(FIX, 'unused-key.bu')]);
    expect(loose.code).toBe(0);
    expect(loose.stderr).toMatch(/warning at \$\.passwd\.users\.0\.ssh_authorized_key, line 6 col 7: unused key ssh_authorized_key/);
    expect(JSON.parse(loose.stdout)).toEqual({ ignition: { version: '3.3.0' }, passwd: { users: [{ name: 'core' }] } });
    const strict = cnvm(['generate', '--strict', join(FIX, 'unused-key.bu')]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('Config produced warnings and --strict was specified');
    expect(strict.stdout).toBe('');
  });

  it('gives the line of malformed YAML', () => {
    const r = cnvm(['generate', join(FIX, 'bad-yaml.bu')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad-yaml\.bu: error at line [56] col \d+: /);
  });

  it('rejects an unknown version clearly', () => {
    const r = cnvm(['generate', join(FIX, 'unknown-version.bu')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No translator exists for variant fcos with version 9\.9\.0/);
  });

  it('refuses local paths that escape --files-dir', () => {
    const r = cnvm(['generate', '-d', join(conformanceDir(), 'files'), join(FIX, 'escape.bu')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error at \$\.storage\.files\.0\.contents\.local, line 7 col 16: local file path traverses outside the files directory/);
  });

  it('never leaves a partial or stale output file behind on failure', () => {
    const out = join(scratch, 'keep.ign');
    writeFileSync(out, 'previous');
    const r = cnvm(['generate', '-o', out, join(FIX, 'duplicate-file.bu')]);
    expect(r.code).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('previous');
    rmSync(out);
  });

  it('loads a TypeScript config module without a compile step', () => {
    const r = cnvm(['generate', '--strict', join(FIX, 'config.ts')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout) as { storage: { files: { path: string; mode: number }[] } };
    expect(config.storage.files[0]).toMatchObject({ path: '/etc/motd', mode: 420 });
  });

  it('--json gives machine output', () => {
    const r = cnvm(['generate', '--json', join(FIX, 'duplicate-file.bu')]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; entries: { kind: string; path: unknown[]; position: unknown }[] };
    // the envelope every command shares (docs/json-output.md), with the error object of a failure
    expect(out).toMatchObject({ schema: 'cnvm/v1', schemaVersion: '1.1', command: 'generate', ok: false, error: { kind: 'invalid-config', exitCode: 1 } });
    expect(out.entries[0]).toMatchObject({ kind: 'error', path: ['storage', 'files', 1], position: { line: 8, column: 7 } });
  });

  it('rejects unknown flags with exit code 2', () => {
    const r = cnvm(['generate', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown flag --bogus');
  });
});

describe('cnvm help and version', () => {
  it('`help COMMAND` is that command\'s help, listing only its flags; -V and --version print the version', () => {
    const status = cnvm(['help', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\nUsage: cnvm status /);
    expect(status.stdout).not.toMatch(/--memory|--admin-password-file|--dry-run/);
    // grouped, with examples
    expect(status.stdout).toMatch(/\nWhich VM:\n {6}--provider VALUE/);
    expect(status.stdout).toMatch(/\nExamples:\n {2}cnvm status --provider libvirt --name pmm1\n/);
    const destroy = cnvm(['destroy', '--help']);
    expect(destroy.stdout).toMatch(/--delete-data/);
    expect(destroy.stdout).not.toMatch(/--memory|--image/);
    expect(destroy.stdout).toBe(cnvm(['help', 'destroy']).stdout);
    const upgrade = cnvm(['help', 'upgrade']).stdout;
    expect(upgrade).toMatch(/\nHow the upgrade runs:\n[\s\S]*--skip-health-check/);
    expect(upgrade).not.toMatch(/--admin-password-file|--delete-data/);
    expect(cnvm(['help', 'config']).stdout).toMatch(/\nUsage: cnvm config show/);
    for (const command of ['list', 'ssh', 'console', 'logs']) expect(cnvm(['help', command]).stdout).toMatch(new RegExp(`\\nUsage: cnvm ${command} `));
    expect(cnvm(['help']).stdout).toMatch(/\n {2}list \[--provider P,…\]/);
    for (const flag of ['-V', '--version']) expect(cnvm([flag]).stdout).toMatch(/^cnvm \d+\.\d+\.\d+\n$/);
  });
});

describe('cnvm validate', () => {
  it('accepts a valid config', () => {
    const out = join(scratch, 'ok.ign');
    writeFileSync(out, '{"ignition":{"version":"3.4.0"}}');
    const r = cnvm(['validate', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('reports every problem with its JSON path, line and column', () => {
    const r = cnvm(['validate', join(FIX, 'invalid.ign')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error at \$\.storage\.files\.0\.path, line 5 col \d+: path not absolute/);
    expect(r.stderr).toMatch(/error at \$\.storage\.files\.2.*duplicate entry defined/);
  });
});
