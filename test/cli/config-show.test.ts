// `cnvm config show` through the built CLI: secret-looking settings are shown as set, never their values, in text
// and in --json. No provider is contacted. Needs dist/ (built by globalSetup).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliSync } from '../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-cfgshow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'pg-secret-value-4711';
mkdirSync(join(dir, 'hosts'), { recursive: true });
writeFileSync(join(dir, 'hosts', 'pmm1.yaml'), `pmm:\n  env:\n    PMM_POSTGRES_PASSWORD: ${SECRET}\n    PMM_DATA_RETENTION: 720h\n`);

function show(extra: string[] = []) {
  const r = runCliSync(['config', 'show', '--provider', 'libvirt', '--name', 'pmm1', '--config-dir', dir, ...extra]);
  return { ...r, status: r.code };
}

describe('cnvm config show', () => {
  it('prints <hidden> for a password, with where it came from', () => {
    const r = show();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).toMatch(/^ {4}PMM_POSTGRES_PASSWORD: "<hidden>" +# .*hosts\/pmm1\.yaml:3:28$/m);
    expect(r.stdout).toMatch(/^ {4}PMM_DATA_RETENTION: "720h"/m);
  });

  it('masks it in --json too', () => {
    const r = show(['--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).toContain('"PMM_POSTGRES_PASSWORD": "<hidden>"');
  });
});
