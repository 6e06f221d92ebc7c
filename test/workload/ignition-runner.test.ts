// The Ignition runner itself, on a small hand-written 3.3 config (no translator involved): what Ignition 2.14 writes
// for files, modes, owners, ssh keys, units, drop-ins, enable/disable presets and masks. If this fails, the PMM
// test's failures are about the runner, not the recipe.
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ignitionValidate, runIgnition, type IgnitionRun } from '../support/ignition-runner.js';

const fixture = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'workload', 'tiny-3.3.ign'), 'utf8');

describe('the real Ignition on a hand-written 3.3 config', () => {
  let run: IgnitionRun;
  beforeAll(() => {
    run = runIgnition(fixture);
  });
  afterAll(() => run?.cleanup());
  const at = (p: string): string => join(run.root, p);

  it('is accepted by ignition-validate, and a broken one is not', () => {
    expect(ignitionValidate(fixture)).toEqual({ ok: true, output: '' });
    const broken = JSON.parse(fixture) as { storage: { files: { path: string }[] } };
    broken.storage.files[0]!.path = 'relative/path';
    const result = ignitionValidate(JSON.stringify(broken));
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/path not absolute/);
  });

  it('writes files with their modes and owners, and ssh keys', () => {
    expect(readFileSync(at('etc/cnvm/secret'), 'utf8')).toBe('hunter22');
    expect(statSync(at('etc/cnvm/secret')).mode & 0o7777).toBe(0o600);
    expect(statSync(at('etc/cnvm')).mode & 0o7777).toBe(0o700);
    expect(readFileSync(at('etc/motd.d/fixture'), 'utf8')).toBe('hello\n');
    expect(statSync(at('etc/motd.d/fixture')).mode & 0o7777).toBe(0o644);
    expect(readFileSync(at('home/core/.ssh/authorized_keys.d/ignition'), 'utf8')).toMatch(/^ssh-ed25519 \S+ fixture$/m);
  });

  it('writes units and drop-ins, and records enable/disable in the preset; masks are links to /dev/null', () => {
    expect(readFileSync(at('etc/systemd/system/hello.service'), 'utf8')).toMatch(/ExecStart=\/usr\/bin\/true/);
    expect(readFileSync(at('etc/systemd/system/sshd.service.d/10-fixture.conf'), 'utf8')).toMatch(/FIXTURE=1/);
    const preset = readFileSync(at('etc/systemd/system-preset/20-ignition.preset'), 'utf8');
    expect(preset).toMatch(/^enable hello\.service$/m);
    expect(preset).toMatch(/^disable zincati\.service$/m);
    expect(lstatSync(at('etc/systemd/system/hidden.service')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(at('etc/systemd/system/hidden.service'))).toBe('/dev/null');
  });
});
