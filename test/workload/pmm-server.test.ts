import { describe, expect, it } from 'vitest';
import { fcos, compose } from '../../src/builders/index.js';
import { translate } from '../../src/translate/index.js';
import { decodeDataUrl } from '../support/compare.js';
import { validatePmmEnv } from '../../src/workload/pmm-env.js';
import { pmmAdminPasswordFile, pmmServer as recipe, randomPassword, PMM_PASSWORD_FILE } from '../../src/workload/pmm-server.js';
// The library's pmmServer: the recipe, with the data disk also nameable the way its provider attaches it.
import { pmmServer } from '../../src/pmm-recipe.js';

type Unit = { name: string; contents?: string; enabled?: boolean };
type Ign = { storage: { files: { path: string; mode?: number; contents?: { source?: string; compression?: string } }[]; disks?: unknown[]; filesystems?: unknown[] }; systemd: { units: Unit[] } };

const text = (contents?: { source?: string; compression?: string }): string =>
  decodeDataUrl(contents?.source ?? '', contents?.compression)?.toString('utf8') ?? '';

async function render(fragment: Parameters<typeof fcos>[0]): Promise<Ign> {
  const result = await translate(fcos(fragment, '1.4.0'), { strict: true });
  expect(result.entries).toEqual([]);
  return result.config as unknown as Ign;
}

describe('pmmServer()', () => {
  it('keeps the data disk: no wipe, fixed labels, partition number given, mounted before PMM', async () => {
    const { fragment } = pmmServer({ dataDisk: { provider: 'libvirt', serial: 'pmm-data' }, adminPassword: 'later' });
    const ign = await render(fragment);
    // The recipe itself takes the path the provider supplies, with the same result.
    expect(await render(recipe({ dataDevice: '/dev/disk/by-id/virtio-pmm-data', adminPassword: 'later' }).fragment)).toEqual(ign);
    expect(ign.storage.disks).toEqual([
      // No startMiB: Ignition keeps an existing partition's start; size 0 + resize lets a grown volume's partition grow.
      { device: '/dev/disk/by-id/virtio-pmm-data', wipeTable: false, partitions: [{ number: 1, label: 'pmm-data', sizeMiB: 0, resize: true }] },
    ]);
    expect(ign.storage.filesystems).toEqual([
      { device: '/dev/disk/by-id/virtio-pmm-data-part1', format: 'xfs', label: 'pmm-data', path: '/var/lib/pmm', wipeFilesystem: false },
    ]);
    const names = ign.systemd.units.map((u) => u.name);
    expect(names).toContain('var-lib-pmm.mount');
    const server = ign.systemd.units.find((u) => u.name === 'pmm-server.service');
    expect(server?.contents).toMatch(/RequiresMountsFor=\/var\/lib\/pmm\/srv/);
    const prepare = ign.systemd.units.find((u) => u.name === 'pmm-data-prepare.service');
    expect(prepare?.contents).toMatch(/Requires=var-lib-pmm\.mount/);
    expect(prepare?.contents).toMatch(/chown -R 1000:0 \/var\/lib\/pmm\/srv/);
    expect(prepare?.contents).toMatch(/ConditionPathExists=!\/var\/lib\/pmm\/\.cnvm-prepared/);
    expect(prepare?.contents).not.toMatch(/chcon/);
    expect(prepare?.contents).toMatch(/^Requires=pmm-data-label\.service$/m);
    // SELinux labelling only where SELinux is on, once, before the stamp is written.
    const label = ign.systemd.units.find((u) => u.name === 'pmm-data-label.service');
    expect(label?.contents).toMatch(/^ConditionSecurity=selinux$/m);
    expect(label?.contents).toMatch(/^ConditionPathExists=!\/var\/lib\/pmm\/\.cnvm-prepared$/m);
    expect(label?.contents).toMatch(/^Before=pmm-data-prepare\.service pmm-server\.service$/m);
    expect(label?.contents).toMatch(/chcon -R -t container_file_t \/var\/lib\/pmm\/srv/);
    expect(label?.contents).toMatch(/Requires=var-lib-pmm\.mount/);
    const grow = ign.systemd.units.find((u) => u.name === 'pmm-data-grow.service');
    expect(grow?.contents).toMatch(/ExecStart=\/usr\/sbin\/xfs_growfs \/var\/lib\/pmm/);
    expect(grow?.contents).toMatch(/After=var-lib-pmm\.mount/);
    expect(JSON.stringify(ign)).not.toMatch(/by-diskseq|\/dev\/sd[a-z]|\/dev\/vd[a-z]/);
  });

  it('runs podman with --replace, journald logging, 443→8443, a restart policy and a start timeout; no relabel per start', async () => {
    const { fragment } = pmmServer({ tag: '3.4.1', adminPassword: 'later' });
    const server = (await render(fragment)).systemd.units.find((u) => u.name === 'pmm-server.service');
    const text = (server?.contents ?? '').replace(/ \\\n\s+/g, ' ');
    expect(text).toMatch(/ExecStart=\/usr\/bin\/podman run .* --rm --replace --name pmm-server /);
    expect(text).toMatch(/--log-driver=journald/);
    expect(text).toMatch(/--publish 443:8443/);
    expect(text).not.toMatch(/--publish 80:8080/);
    expect(text).toMatch(/PMM_IMAGE=docker\.io\/percona\/pmm-server:3\.4\.1/);
    expect(text).toMatch(/Restart=on-failure/);
    expect(text).toMatch(/TimeoutStartSec=900/);
    expect(text).toMatch(/ExecStop=\/usr\/bin\/podman stop/);
    expect(text).toMatch(/--sdnotify=conmon/);
    expect(text).toMatch(/Type=notify/);
    // Pulled only when missing: a restart never moves the floating tag 3 to a newer release.
    expect(text).toMatch(/podman image exists \$\{PMM_IMAGE\} \|\| exec podman pull/);
    expect(text).toMatch(/--env-file \/var\/lib\/pmm\/pmm-server\.env/);
    expect(text).toMatch(/--volume \/var\/lib\/pmm\/srv:\/srv/);
    expect(text).toMatch(/\/v1\/server\/readyz/);
    expect(text).not.toMatch(/:Z\b|:z\b|relabel=/);
    expect(server?.enabled).toBe(true);
  });

  it('publishes port 80 only when asked', async () => {
    const { fragment } = pmmServer({ publishHttp: true, adminPassword: 'later' });
    const text = (await render(fragment)).systemd.units.find((u) => u.name === 'pmm-server.service')?.contents ?? '';
    expect(text).toMatch(/--publish 80:8080/);
  });

  it('never puts the admin password in a unit; only in a 0600 file the oneshot unit reads on stdin', async () => {
    const secret = 'Correct-Horse-Battery-9';
    const { fragment, adminPassword } = pmmServer({ adminPassword: secret });
    expect(adminPassword).toEqual({ value: secret, generated: false });
    const ign = await render(fragment);
    for (const u of ign.systemd.units) expect(u.contents ?? '').not.toContain(secret);
    // Nowhere else either: outside the password file's data URL, the config never names it.
    const others = { ...ign, storage: { ...ign.storage, files: ign.storage.files.filter((f) => f.path !== PMM_PASSWORD_FILE) } };
    expect(JSON.stringify(others)).not.toContain(secret);
    expect(JSON.stringify(others)).not.toContain(encodeURIComponent(secret));
    expect(JSON.stringify(others)).not.toContain(Buffer.from(secret).toString('base64'));
    const file = ign.storage.files.find((f) => f.path === PMM_PASSWORD_FILE);
    expect(file?.mode).toBe(0o600);
    expect(text(file?.contents)).toBe(secret);
    const setter = ign.systemd.units.find((u) => u.name === 'pmm-admin-password.service')?.contents ?? '';
    expect(setter).toMatch(/podman exec -i pmm-server grafana cli --config=\/etc\/grafana\/grafana\.ini --homepath \/usr\/share\/grafana admin reset-admin-password --password-from-stdin < \/etc\/cnvm\/pmm-admin-password/);
    expect(setter).toMatch(/shred --remove \/etc\/cnvm\/pmm-admin-password/);
    expect(setter).toMatch(/ConditionPathExists=\/etc\/cnvm\/pmm-admin-password/);
  });

  it('generates a random password when none is given, and none at all with "later"', () => {
    const a = pmmServer().adminPassword;
    const b = pmmServer().adminPassword;
    expect(a?.generated).toBe(true);
    expect(a?.value).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(a?.value).not.toBe(b?.value);
    expect(pmmServer({ adminPassword: 'later' }).adminPassword).toBeUndefined();
    expect(randomPassword(40)).toHaveLength(40);
    expect(() => pmmAdminPasswordFile('short')).toThrow(/at least 8/);
  });

  it('validates its options with clear messages', () => {
    expect(() => pmmServer({ tag: 'latest; rm -rf /' })).toThrow(/invalid image tag "latest; rm -rf \/"/);
    expect(() => pmmServer({ tag: '2.44.0' })).toThrow(/image tag "2.44.0" is PMM 2; this recipe runs PMM 3/);
    expect(() => pmmServer({ tag: '-3' })).toThrow(/invalid image tag/);
    expect(pmmServer({ tag: '3.4.1', adminPassword: 'later' }).warnings).toEqual([]);
    expect(() => pmmServer({ image: 'Docker.io/Percona' })).toThrow(/invalid image name/);
    expect(() => pmmServer({ parts: { dataDisk: true } })).toThrow(/no dataDisk/);
    expect(() => pmmServer({ dataDisk: { provider: 'libvirt', serial: 'x'.repeat(21) } })).toThrow(/serial "x{21}" must be 1–20 characters/);
    expect(() => pmmServer({ dataDisk: { provider: 'libvirt', serial: 'pmm-data' }, dataDevice: '/dev/disk/by-id/virtio-pmm-data' })).toThrow(/dataDisk or dataDevice, not both/);
    expect(() => recipe({ dataDevice: '/dev/sdb' })).toThrow(/"\/dev\/sdb" is not a stable device path/);
    expect(() => recipe({ dataDevice: '/dev/disk/by-diskseq/2' })).toThrow(/not a stable device path/);
    expect(() => pmmServer({ startTimeoutSec: 5 })).toThrow(/startTimeoutSec/);
    expect(() => pmmServer({ zincati: { mode: 'periodic', days: ['Sat'], startTime: '25:00', lengthMinutes: 60 } })).toThrow(/HH:MM/);
    expect(() => pmmServer({ sshAuthorizedKeys: ['not a key'] })).toThrow(/not an ssh public key/);
    expect(() => pmmServer({ sshAuthorizedKeys: ['ssh-ed25519 AAAA\nssh-rsa BBBB'] })).toThrow(/not an ssh public key on one line/);
  });

  it('warns about unknown or PMM 2 settings', () => {
    expect(validatePmmEnv({ PMM_ENABLE_UPDATES: 'false', PMM_DATA_RETENTION: '720h', GF_SMTP_ENABLED: 'true', PMM_POSTGRES_ADDR: 'db:5432', PMM_ENABLE_NOMAD: '1' })).toEqual([]);
    expect(validatePmmEnv({ PMM_ENABLE_UPDATE: 'false' })).toEqual(["unknown PMM setting PMM_ENABLE_UPDATE (not in PMM 3's documented environment variables)"]);
    expect(validatePmmEnv({ DISABLE_UPDATES: 'true' })).toEqual(['DISABLE_UPDATES is not a PMM 3 setting (PMM would ignore it); use PMM_ENABLE_UPDATES=false']);
    expect(validatePmmEnv({ PMM_ENABLE_RBAC: 'true' })[0]).toMatch(/use PMM_ENABLE_ACCESS_CONTROL/);
    const { warnings } = pmmServer({ env: { PMM_FOO: '1', PMM_PUBLIC_ADDRESS: 'pmm.example.com' }, adminPassword: 'later' });
    expect(warnings).toEqual(["unknown PMM setting PMM_FOO (not in PMM 3's documented environment variables)"]);
    expect(pmmServer({ tag: 'latest', adminPassword: 'later' }).warnings[0]).toMatch(/"latest" is not a stable PMM 3 channel/);
  });

  it('refuses values PMM itself would refuse to start with', () => {
    expect(() => validatePmmEnv({ PMM_DEBUG: 'yes please' })).toThrow(/PMM_DEBUG=yes please: PMM expects a boolean/);
    expect(() => validatePmmEnv({ PMM_DATA_RETENTION: '30d' })).toThrow(/PMM_DATA_RETENTION=30d: .*720h/);
    expect(() => validatePmmEnv({ PMM_DATA_RETENTION: '36h' })).toThrow(/whole days/);
    expect(() => validatePmmEnv({ PMM_METRICS_RESOLUTION_LR: '1.5s' })).toThrow(/whole seconds/);
    expect(validatePmmEnv({ PMM_METRICS_RESOLUTION_LR: '1m', PMM_DATA_RETENTION: '2160h', PMM_ENABLE_TELEMETRY: 'FALSE' })).toEqual([]);
    expect(() => validatePmmEnv({ 'BAD-NAME': 'x' })).toThrow(/invalid environment variable name/);
    expect(() => validatePmmEnv({ PMM_PUBLIC_ADDRESS: 'a\nb' })).toThrow(/one line/);
    expect(() => pmmServer({ env: { PMM_ENABLE_UPDATES: 'no' } })).toThrow(expect.objectContaining({ name: 'PmmOptionsError' }));
  });

  it('has an enable flag per part, and composes with other modules', async () => {
    const only = pmmServer({ parts: { container: false, adminPassword: false, zincati: true } });
    const ign = await render(compose(only.fragment, { storage: { files: [{ path: '/etc/motd', contents: { inline: 'hi' } }] } }));
    expect(ign.storage.files.map((f) => f.path)).toEqual(['/etc/zincati/config.d/90-cnvm-updates.toml', '/etc/motd']);
    expect(ign.systemd).toBeUndefined();
  });

  it('configures Zincati: off by default, or a periodic window', async () => {
    const off = await render(pmmServer({ adminPassword: 'later', parts: { container: false } }).fragment);
    const file = off.storage.files.find((f) => f.path.startsWith('/etc/zincati'));
    expect(text(file?.contents)).toMatch(/enabled = false/);
    const window = await render(
      pmmServer({ adminPassword: 'later', parts: { container: false }, zincati: { mode: 'periodic', days: ['Sat', 'Sun'], startTime: '02:30', lengthMinutes: 60 } }).fragment,
    );
    const toml = text(window.storage.files.find((f) => f.path.startsWith('/etc/zincati'))?.contents);
    expect(toml).toMatch(/strategy = "periodic"/);
    expect(toml).toMatch(/days = \[ "Sat", "Sun" \]/);
  });
});
