// The PMM config applied by the real Ignition (Debian's 2.14: fetch-offline, then files into a fake root), with
// the provision-time password file and an ssh key composed in, as `cnvm provision` does. Asserts what landed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, fcos } from '../../src/builders/index.js';
import { formatIgnition, translate } from '../../src/translate/index.js';
import { pmmAdminPasswordFile, pmmServer } from '../../src/workload/pmm-server.js';
import { ignitionValidate, runIgnition, type IgnitionRun } from '../support/ignition-runner.js';

const SECRET = 'Tr0ub4dor-and-3-more';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEKEYFORTESTSONLYxxxxxxxxxxxxxxxxxxxx test@cnvm';
const UNITS = ['pmm-server.service', 'pmm-data-label.service', 'pmm-data-prepare.service', 'pmm-data-grow.service', 'pmm-admin-password.service', 'var-lib-pmm.mount'];

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}

describe('PMM server config under the real Ignition', () => {
  let run: IgnitionRun;
  let rendered: string;

  beforeAll(async () => {
    const pmm = pmmServer({ dataDevice: '/dev/disk/by-id/virtio-pmm-data', adminPassword: 'later', sshAuthorizedKeys: [KEY], env: { PMM_ENABLE_UPDATES: 'false' } });
    const { config, entries } = await translate(fcos(compose(pmm.fragment, pmmAdminPasswordFile(SECRET)), '1.4.0'), { strict: true });
    expect(entries).toEqual([]);
    rendered = formatIgnition(config);
    run = runIgnition(rendered);
  });
  afterAll(() => run?.cleanup());

  const at = (path: string): string => join(run.root, path);
  const mode = (path: string): number => statSync(at(path)).mode & 0o7777;

  it('is Ignition spec 3.3.0, which ignition-validate accepts', () => {
    expect((JSON.parse(rendered) as { ignition: { version: string } }).ignition.version).toBe('3.3.0');
    expect(ignitionValidate(rendered)).toEqual({ ok: true, output: '' });
  });

  it('writes and enables the PMM units, the mount unit and the first-boot password unit', () => {
    const preset = readFileSync(at('etc/systemd/system-preset/20-ignition.preset'), 'utf8');
    for (const unit of UNITS) {
      expect(readFileSync(at(`etc/systemd/system/${unit}`), 'utf8').length, unit).toBeGreaterThan(0);
      expect(preset).toMatch(new RegExp(`^enable ${unit.replace(/\./g, '\\.')}$`, 'm'));
    }
    const mount = readFileSync(at('etc/systemd/system/var-lib-pmm.mount'), 'utf8');
    expect(mount).toMatch(/^Where=\/var\/lib\/pmm$/m);
    expect(mount).toMatch(/^What=\/dev\/disk\/by-id\/virtio-pmm-data-part1$/m);
    expect(mount).toMatch(/^Type=xfs$/m);
    const server = readFileSync(at('etc/systemd/system/pmm-server.service'), 'utf8').replace(/ \\\n\s+/g, ' ');
    expect(server).toMatch(/^ExecStart=\/usr\/bin\/podman run .* --rm --replace --name pmm-server .*--log-driver=journald --publish 443:8443 /m);
    expect(server).toMatch(/^RequiresMountsFor=\/var\/lib\/pmm\/srv$/m);
    const password = readFileSync(at('etc/systemd/system/pmm-admin-password.service'), 'utf8');
    expect(password).toMatch(/^ConditionPathExists=\/etc\/cnvm\/pmm-admin-password$/m);
  });

  it('delivers the password as a root-only 0600 file, and nowhere else', () => {
    expect(readFileSync(at('etc/cnvm/pmm-admin-password'), 'utf8')).toBe(SECRET);
    expect(mode('etc/cnvm/pmm-admin-password')).toBe(0o600);
    expect(statSync(at('etc/cnvm/pmm-admin-password')).uid).toBe(0);
    expect(statSync(at('etc/cnvm/pmm-admin-password')).gid).toBe(0);
    expect(mode('etc/cnvm')).toBe(0o700);
    const holders = walk(run.root).filter((f) => readFileSync(f, 'utf8').includes(SECRET));
    expect(holders.map((f) => relative(run.root, f))).toEqual(['etc/cnvm/pmm-admin-password']);
    expect(run.log).not.toContain(SECRET);
  });

  it('writes the settings defaults and the Zincati policy with their modes', () => {
    expect(readFileSync(at('etc/cnvm/pmm-server.env.defaults'), 'utf8')).toMatch(/^PMM_ENABLE_UPDATES=false$/m);
    expect(mode('etc/cnvm/pmm-server.env.defaults')).toBe(0o600);
    expect(readFileSync(at('etc/zincati/config.d/90-cnvm-updates.toml'), 'utf8')).toMatch(/^\[updates\]\nenabled = false$/m);
    expect(mode('etc/zincati/config.d/90-cnvm-updates.toml')).toBe(0o644);
  });

  it("installs core's ssh key", () => {
    const keys = readFileSync(at('home/core/.ssh/authorized_keys.d/ignition'), 'utf8');
    expect(keys.trim()).toBe(KEY);
  });
});
