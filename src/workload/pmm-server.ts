// PMM 3 server on Fedora CoreOS, as a Butane fragment that composes with other modules. Parts (each can be turned
// off): the podman unit, the persistent data disk, the first-boot admin password, Zincati's update policy, and the
// `core` user's ssh keys. Design choices are explained in docs/pmm-server.md.
import { randomBytes } from 'node:crypto';
import { compose, directory, file, inline, unit, type Fragment } from '../builders/index.js';
import { PmmOptionsError } from './errors.js';
import { renderEnvFile, validatePmmEnv } from './pmm-env.js';

export const PMM_IMAGE = 'docker.io/percona/pmm-server';
export const PMM_DEFAULT_TAG = '3';
/** Where the data filesystem is mounted on the host. */
export const PMM_DATA_MOUNT = '/var/lib/pmm';
/** The part of it the container sees as /srv, owned by PMM's uid 1000, gid 0. */
export const PMM_SRV_DIR = `${PMM_DATA_MOUNT}/srv`;
/** Settings an operator may edit; on the data disk, so they survive re-provisioning and upgrades. */
export const PMM_ENV_FILE = `${PMM_DATA_MOUNT}/pmm-server.env`;
/** The settings cnvm was given, copied to PMM_ENV_FILE on first start. */
export const PMM_ENV_DEFAULTS = '/etc/cnvm/pmm-server.env.defaults';
/** The one-time admin password, readable by root only, removed once applied. */
export const PMM_PASSWORD_FILE = '/etc/cnvm/pmm-admin-password';
export const PMM_DATA_LABEL = 'pmm-data';
export const PMM_HEALTH_PATH = '/v1/server/readyz';

export type ZincatiPolicy =
  | { mode: 'disabled' }
  | { mode: 'periodic'; days: ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun')[]; startTime: string; lengthMinutes: number };

export interface PmmServerOptions {
  /** Image tag: `3` (default, newest 3.x at first pull), `3.4.1`, … PMM 2 tags are refused. */
  tag?: string;
  image?: string;
  /**
   * The data disk's stable path in the guest, as its provider names it (`/dev/disk/by-id/…`: the provider module's
   * disk naming supplies it); omitted (or `parts.dataDisk: false`) keeps data on the boot disk.
   */
  dataDevice?: string;
  /** Also publish plain HTTP (host 80 → container 8080). HTTPS 443 → 8443 is always published. */
  publishHttp?: boolean;
  /** PMM_* / GF_* settings written to the env file on first boot (an operator's later edits are kept). */
  env?: Record<string, string>;
  /**
   * The admin password set at first boot: a value, `'generate'` (default: random, returned once in the result),
   * or `'later'`: only the unit that applies it, with the secret file added at provision time by
   * `pmmAdminPasswordFile()` (so committed configs carry no secret).
   */
  adminPassword?: string | 'generate' | 'later';
  /** ssh public keys for the `core` user. */
  sshAuthorizedKeys?: string[];
  /** Zincati (OS auto-update) policy; default: disabled, because cnvm upgrades by replacing the VM. */
  zincati?: ZincatiPolicy;
  /** Seconds systemd waits for the container to start (the first start pulls ~1 GB). */
  startTimeoutSec?: number;
  /** Turn parts off to compose them differently. All default to true (dataDisk: when `dataDevice` is given). */
  parts?: Partial<Record<'container' | 'dataDisk' | 'adminPassword' | 'zincati' | 'sshKeys', boolean>>;
}

export interface PmmServer {
  fragment: Fragment;
  /** Problems that are not fatal (unknown PMM_* variables, …). */
  warnings: string[];
  /** Present when the admin-password part is on: show `generated` passwords to the user once. */
  adminPassword?: { value: string; generated: boolean };
}

export { PmmOptionsError };

/** Docker's tag grammar. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
/** One ssh public key line, as the recipe accepts it for the `core` user (the CLI checks key files with it too). */
/** A name udev keeps for a disk whatever the probe order (never /dev/sdX, /dev/vdX or /dev/disk/by-diskseq/N). */
const STABLE_DEVICE = /^\/dev\/disk\/by-(id|path)\/[A-Za-z0-9_.:+@-]+$/;
export const SSH_KEY = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n\r]*)?$/;

export function pmmServer(options: PmmServerOptions = {}): PmmServer {
  const parts = { container: true, dataDisk: options.dataDevice !== undefined, adminPassword: true, zincati: true, sshKeys: true, ...options.parts };
  const tag = options.tag ?? PMM_DEFAULT_TAG;
  const image = options.image ?? PMM_IMAGE;
  const warnings: string[] = [];
  if (!TAG.test(tag)) throw new PmmOptionsError(`invalid image tag ${JSON.stringify(tag)}: up to 128 of [A-Za-z0-9_.-], not starting with . or -`);
  // PMM 2 images run as root and listen on 443: this recipe's ownership, ports and password command would not fit.
  if (/^v?[12](\.|$)/.test(tag)) throw new PmmOptionsError(`image tag ${JSON.stringify(tag)} is PMM ${tag.replace(/^v/, '')[0]}; this recipe runs PMM 3 (tag 3 or 3.x.y)`);
  if (tag === 'latest') warnings.push('image tag "latest" is not a stable PMM 3 channel; use 3 (newest 3.x) or a 3.x.y release');
  if (!IMAGE.test(image)) throw new PmmOptionsError(`invalid image name ${JSON.stringify(image)}`);
  if (parts.dataDisk && !options.dataDevice) throw new PmmOptionsError('parts.dataDisk is on but no dataDisk/dataDevice was given');
  if (options.dataDevice !== undefined && !STABLE_DEVICE.test(options.dataDevice)) {
    throw new PmmOptionsError(`dataDevice ${JSON.stringify(options.dataDevice)} is not a stable device path (/dev/disk/by-id/… or /dev/disk/by-path/…): /dev/sdX and by-diskseq change with probe and attach order`);
  }
  const env = options.env ?? {};
  warnings.push(...validatePmmEnv(env));
  const timeout = options.startTimeoutSec ?? 900;
  if (!Number.isInteger(timeout) || timeout < 60) throw new PmmOptionsError('startTimeoutSec must be an integer of at least 60');
  for (const key of options.sshAuthorizedKeys ?? []) {
    if (!SSH_KEY.test(key.trim())) throw new PmmOptionsError(`not an ssh public key on one line: ${JSON.stringify(key.slice(0, 40))}…`);
  }

  const fragments: Fragment[] = [];
  let adminPassword: PmmServer['adminPassword'];

  if (parts.dataDisk && options.dataDevice) fragments.push(dataDiskFragment(options.dataDevice));
  if (parts.container || parts.adminPassword) fragments.push(cnvmDirFragment());
  if (parts.container) fragments.push(containerFragment({ image, tag, publishHttp: options.publishHttp === true, env, timeout, onDataDisk: parts.dataDisk }));
  if (parts.adminPassword) {
    const wanted = options.adminPassword ?? 'generate';
    fragments.push(adminPasswordUnitFragment());
    if (wanted !== 'later') {
      adminPassword = wanted === 'generate' ? { value: randomPassword(), generated: true } : { value: wanted, generated: false };
      fragments.push(pmmAdminPasswordFile(adminPassword.value));
    }
  }
  if (parts.zincati) fragments.push(zincatiFragment(options.zincati ?? { mode: 'disabled' }));
  if (parts.sshKeys && options.sshAuthorizedKeys && options.sshAuthorizedKeys.length > 0) {
    fragments.push({ passwd: { users: [{ name: 'core', ssh_authorized_keys: options.sshAuthorizedKeys.map((k) => k.trim()) }] } });
  }
  return { fragment: compose(...fragments), warnings, ...(adminPassword ? { adminPassword } : {}) };
}

/** 24 characters from a 62-letter alphabet (≈ 143 bits), no characters that need quoting anywhere. */
export function randomPassword(length = 24): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += alphabet[byte % 62];
    }
  }
  return out;
}

/** The systemd mount unit Butane generates for PMM_DATA_MOUNT. */
export const PMM_MOUNT_UNIT = `${PMM_DATA_MOUNT.slice(1).replace(/\//g, '-')}.mount`;

/**
 * The data disk: partition 1 and an XFS filesystem, both labelled `pmm-data`. Ignition creates them on a blank disk
 * and reuses them on a disk that has them: `wipe_table`/`wipe_filesystem` false; the partition's start is left out
 * (Ignition then keeps an existing partition's start) and `resize: true` with size 0 lets a grown volume's partition
 * grow instead of failing the match. pmm-data-grow.service then grows the filesystem (xfs_growfs; a no-op when it
 * already fills the partition).
 */
function dataDiskFragment(device: string): Fragment {
  const grow = unit('pmm-data-grow.service', {
    enabled: true,
    contents: [
      '[Unit]',
      'Description=Grow the PMM data filesystem to its partition (after the volume was enlarged)',
      `Requires=${PMM_MOUNT_UNIT}`,
      `After=${PMM_MOUNT_UNIT}`,
      'Before=pmm-server.service',
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      `ExecStart=/usr/sbin/xfs_growfs ${PMM_DATA_MOUNT}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  });
  return {
    storage: {
      disks: [{ device, wipe_table: false, partitions: [{ number: 1, label: PMM_DATA_LABEL, size_mib: 0, resize: true }] }],
      filesystems: [
        {
          device: `${device}-part1`,
          format: 'xfs',
          label: PMM_DATA_LABEL,
          wipe_filesystem: false,
          path: PMM_DATA_MOUNT,
          with_mount_unit: true,
        },
      ],
    },
    systemd: { units: [grow] },
  };
}

interface ContainerSettings {
  image: string;
  tag: string;
  publishHttp: boolean;
  env: Record<string, string>;
  timeout: number;
  onDataDisk: boolean;
}

function containerFragment(s: ContainerSettings): Fragment {
  const publish = ['--publish 443:8443', ...(s.publishHttp ? ['--publish 80:8080'] : [])];
  const onDisk = s.onDataDisk ? [`Requires=${PMM_MOUNT_UNIT}`, `After=${PMM_MOUNT_UNIT}`] : [];
  // Labelling is done once, not by podman's :Z on every start, which rewalks the whole tree. Only where SELinux is
  // on (ConditionSecurity): elsewhere chcon fails on unlabelled files and would take the PMM units down with it.
  // Ordered before the prepare unit, whose stamp also guards this one, so a disk is labelled once.
  const label = unit('pmm-data-label.service', {
    enabled: true,
    contents: [
      '[Unit]',
      'Description=Label the PMM data directory for containers once (SELinux container_file_t)',
      'ConditionSecurity=selinux',
      ...onDisk,
      `RequiresMountsFor=${PMM_DATA_MOUNT}`,
      `ConditionPathExists=!${PMM_DATA_MOUNT}/.cnvm-prepared`,
      'Before=pmm-data-prepare.service pmm-server.service',
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      `ExecStart=/usr/bin/mkdir -p ${PMM_SRV_DIR}`,
      `ExecStart=/usr/bin/chcon -R -t container_file_t ${PMM_SRV_DIR}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  });
  const prepare = unit('pmm-data-prepare.service', {
    enabled: true,
    contents: [
      '[Unit]',
      'Description=Prepare the PMM data directory once (owner 1000:0)',
      ...onDisk,
      `RequiresMountsFor=${PMM_DATA_MOUNT}`,
      // A failed labelling fails this unit too, so the stamp is not written and both run again on the next boot.
      'Requires=pmm-data-label.service',
      'After=pmm-data-label.service',
      `ConditionPathExists=!${PMM_DATA_MOUNT}/.cnvm-prepared`,
      'Before=pmm-server.service',
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      `ExecStart=/usr/bin/mkdir -p ${PMM_SRV_DIR}`,
      `ExecStart=/usr/bin/chown -R 1000:0 ${PMM_SRV_DIR}`,
      `ExecStart=/usr/bin/touch ${PMM_DATA_MOUNT}/.cnvm-prepared`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  });
  // The shape `podman generate systemd --new` produces: podman run -d with --sdnotify=conmon, so systemd tracks
  // conmon as the main process and the unit is "started" once the container runs (TimeoutStartSec covers a pull).
  const server = unit('pmm-server.service', {
    enabled: true,
    contents: [
      '[Unit]',
      `Description=Percona Monitoring and Management server (${s.image}:${s.tag})`,
      'Wants=network-online.target',
      'After=network-online.target pmm-data-label.service pmm-data-prepare.service',
      'Requires=pmm-data-label.service pmm-data-prepare.service',
      `RequiresMountsFor=${PMM_SRV_DIR}`,
      '',
      '[Service]',
      `Environment=PMM_IMAGE=${s.image}:${s.tag}`,
      'Environment=PODMAN_SYSTEMD_UNIT=%n',
      `ExecStartPre=/usr/bin/cp --no-clobber --preserve=mode ${PMM_ENV_DEFAULTS} ${PMM_ENV_FILE}`,
      // Pulled once per VM: a restart never silently moves a floating tag (3) to a newer release. Upgrading is
      // explicit: `podman pull` + restart, or a new VM (docs/pmm-server.md).
      "ExecStartPre=/bin/sh -c 'podman image exists ${PMM_IMAGE} || exec podman pull --quiet ${PMM_IMAGE}'",
      // The first start pulls about 1 GB.
      `TimeoutStartSec=${s.timeout}`,
      'TimeoutStopSec=70',
      [
        'ExecStart=/usr/bin/podman run --cidfile=%t/%n.ctr-id --cgroups=no-conmon --sdnotify=conmon --detach',
        '--rm --replace --name pmm-server',
        '--log-driver=journald',
        ...publish,
        `--env-file ${PMM_ENV_FILE}`,
        `--volume ${PMM_SRV_DIR}:/srv`,
        // The image's own HEALTHCHECK, every 30 s instead of every 3 s (each run is a transient systemd unit).
        `--health-cmd "curl -sf http://127.0.0.1:8080${PMM_HEALTH_PATH}" --health-interval 30s --health-start-period 60s`,
        '${PMM_IMAGE}',
      ].join(' \\\n    '),
      'ExecStop=/usr/bin/podman stop --ignore --time 60 --cidfile=%t/%n.ctr-id',
      'ExecStopPost=/usr/bin/podman rm --force --ignore --cidfile=%t/%n.ctr-id',
      'Type=notify',
      'NotifyAccess=all',
      'Restart=on-failure',
      'RestartSec=20',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  });
  return {
    storage: {
      // The defaults live on the boot disk; pmm-server.service copies them to the data disk only when no env file
      // is there yet, so an operator's edits survive re-provisioning. Ignition never writes to the data disk.
      files: [file(PMM_ENV_DEFAULTS, { mode: 0o600, contents: inline(renderEnvFile(s.env)) })],
    },
    systemd: { units: [label, prepare, server] },
  };
}

/**
 * The admin password reaches the VM inside the Ignition config as a 0600 root-only file. A oneshot unit waits until
 * PMM answers its readiness check, then does what PMM 3's `change-admin-password` script does (`grafana cli
 * --config=/etc/grafana/grafana.ini --homepath /usr/share/grafana admin reset-admin-password "$1"`) but with
 * `--password-from-stdin` (Grafana ≥ 9.1 reads the first line of stdin), feeding the file through `podman exec -i`:
 * the secret is never an argument (host or container `ps`), never in a unit, never in the journal. The file is then
 * shredded; ConditionPathExists makes the unit a no-op on every later boot. If it fails, the file stays and the unit
 * runs again on the next boot (or `systemctl restart pmm-admin-password`).
 */
function adminPasswordUnitFragment(): Fragment {
  const setter = unit('pmm-admin-password.service', {
    enabled: true,
    contents: [
      '[Unit]',
      'Description=Set the PMM admin password once, from a root-only file',
      `ConditionPathExists=${PMM_PASSWORD_FILE}`,
      'Requires=pmm-server.service',
      'After=pmm-server.service',
      '',
      '[Service]',
      'Type=oneshot',
      'TimeoutStartSec=1800',
      `ExecStartPre=/bin/sh -c 'until podman exec pmm-server curl -sf http://127.0.0.1:8080${PMM_HEALTH_PATH} >/dev/null 2>&1; do sleep 5; done'`,
      `ExecStart=/bin/sh -c 'podman exec -i pmm-server grafana cli --config=/etc/grafana/grafana.ini --homepath /usr/share/grafana admin reset-admin-password --password-from-stdin < ${PMM_PASSWORD_FILE} >/dev/null'`,
      `ExecStartPost=/usr/bin/shred --remove ${PMM_PASSWORD_FILE}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  });
  return { systemd: { units: [setter] } };
}

/** The secret itself, as a root-only file for pmm-admin-password.service; compose it in at provision time. */
export function pmmAdminPasswordFile(password: string): Fragment {
  if (password.length < 8 || /[\n\r\0]/.test(password)) throw new PmmOptionsError('the admin password must be at least 8 characters, on one line');
  return {
    storage: {
      files: [file(PMM_PASSWORD_FILE, { mode: 0o600, user: { id: 0 }, group: { id: 0 }, contents: inline(password) })],
    },
  };
}

/** /etc/cnvm holds the settings and the one-time password: root only. */
function cnvmDirFragment(): Fragment {
  return { storage: { directories: [directory('/etc/cnvm', { mode: 0o700 })] } };
}

export const ZINCATI_CONFIG = '/etc/zincati/config.d/90-cnvm-updates.toml';

function zincatiFragment(policy: ZincatiPolicy): Fragment {
  if (policy.mode === 'periodic') {
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(policy.startTime)) throw new PmmOptionsError('zincati.startTime must be HH:MM (UTC)');
    if (policy.days.length === 0) throw new PmmOptionsError('zincati.days must name at least one day');
    if (!Number.isInteger(policy.lengthMinutes) || policy.lengthMinutes < 1) throw new PmmOptionsError('zincati.lengthMinutes must be a positive integer');
  }
  const toml =
    policy.mode === 'disabled'
      ? '# cnvm replaces the VM to upgrade the OS (cnvm upgrade); Zincati must not reboot it underneath.\n[updates]\nenabled = false\n'
      : [
          '# OS updates only inside this window (UTC), so they never race an image upgrade by replacement.',
          '[updates]',
          'strategy = "periodic"',
          '',
          '[[updates.periodic.window]]',
          `days = [ ${policy.days.map((d) => JSON.stringify(d)).join(', ')} ]`,
          `start_time = "${policy.startTime}"`,
          `length_minutes = ${policy.lengthMinutes}`,
          '',
        ].join('\n');
  return { storage: { files: [file(ZINCATI_CONFIG, { mode: 0o644, contents: inline(toml) })] } };
}
