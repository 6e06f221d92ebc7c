// PMM 3 server on Fedora CoreOS, as a Butane fragment that composes with other modules. Parts (each can be turned
// off): the podman unit, the persistent data disk, the first-boot admin password, Zincati's update policy, and the
// `core` user's ssh keys. Design choices are explained in docs/pmm-server.md.
import { randomBytes } from 'node:crypto';
import { compose, directory, file, inline, unit, type Fragment } from '../builders/index.js';
import { dataDiskDevice, type DataDisk } from './data-disk.js';
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
  /** Image tag: `3` (default), `3.4.1`, … */
  tag?: string;
  image?: string;
  /** The data disk as the provider attaches it; omitted (or `parts.dataDisk: false`) keeps data on the boot disk. */
  dataDisk?: DataDisk;
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
  /** Turn parts off to compose them differently. All default to true (dataDisk: when `dataDisk` is given). */
  parts?: Partial<Record<'container' | 'dataDisk' | 'adminPassword' | 'zincati' | 'sshKeys', boolean>>;
}

export interface PmmServer {
  fragment: Fragment;
  /** Problems that are not fatal (unknown PMM_* variables, …). */
  warnings: string[];
  /** Present when the admin-password part is on: show `generated` passwords to the user once. */
  adminPassword?: { value: string; generated: boolean };
}

export class PmmOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PmmOptionsError';
  }
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

export function pmmServer(options: PmmServerOptions = {}): PmmServer {
  const parts = { container: true, dataDisk: options.dataDisk !== undefined, adminPassword: true, zincati: true, sshKeys: true, ...options.parts };
  const tag = options.tag ?? PMM_DEFAULT_TAG;
  const image = options.image ?? PMM_IMAGE;
  if (!TAG.test(tag)) throw new PmmOptionsError(`invalid image tag ${JSON.stringify(tag)}`);
  if (!IMAGE.test(image)) throw new PmmOptionsError(`invalid image name ${JSON.stringify(image)}`);
  if (parts.dataDisk && !options.dataDisk) throw new PmmOptionsError('parts.dataDisk is on but no dataDisk was given');
  const env = options.env ?? {};
  const warnings = validatePmmEnv(env);
  const timeout = options.startTimeoutSec ?? 900;
  if (!Number.isInteger(timeout) || timeout < 60) throw new PmmOptionsError('startTimeoutSec must be an integer of at least 60');

  const fragments: Fragment[] = [];
  let adminPassword: PmmServer['adminPassword'];

  if (parts.dataDisk && options.dataDisk) fragments.push(dataDiskFragment(options.dataDisk));
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
    fragments.push({ passwd: { users: [{ name: 'core', ssh_authorized_keys: options.sshAuthorizedKeys }] } });
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

/**
 * The data disk: one partition and an XFS filesystem with fixed labels. Ignition reuses them when they exist
 * (`wipe_table`/`wipe_filesystem` false, partition number given), so a disk from an earlier VM keeps every byte.
 */
function dataDiskFragment(disk: DataDisk): Fragment {
  const device = dataDiskDevice(disk);
  return {
    storage: {
      disks: [{ device, wipe_table: false, partitions: [{ number: 1, label: PMM_DATA_LABEL, size_mib: 0, start_mib: 0 }] }],
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
  const mountUnit = `${PMM_DATA_MOUNT.slice(1).replace(/\//g, '-')}.mount`;
  const publish = ['--publish 443:8443', ...(s.publishHttp ? ['--publish 80:8080'] : [])];
  const prepare = unit('pmm-data-prepare.service', {
    enabled: true,
    contents: [
      '[Unit]',
      'Description=Prepare the PMM data directory once (owner 1000:0, SELinux container label)',
      ...(s.onDataDisk ? [`Requires=${mountUnit}`, `After=${mountUnit}`] : []),
      `RequiresMountsFor=${PMM_DATA_MOUNT}`,
      // Labelling is done once, not by podman's :Z on every start, which rewalks the whole tree.
      `ConditionPathExists=!${PMM_DATA_MOUNT}/.cnvm-prepared`,
      'Before=pmm-server.service',
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      `ExecStart=/usr/bin/mkdir -p ${PMM_SRV_DIR}`,
      `ExecStart=/usr/bin/chown -R 1000:0 ${PMM_SRV_DIR}`,
      `ExecStart=/usr/bin/chcon -R -t container_file_t ${PMM_SRV_DIR}`,
      `ExecStart=/usr/bin/touch ${PMM_DATA_MOUNT}/.cnvm-prepared`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  });
  const server = unit('pmm-server.service', {
    enabled: true,
    contents: [
      '[Unit]',
      `Description=Percona Monitoring and Management server (${s.image}:${s.tag})`,
      'Wants=network-online.target',
      'After=network-online.target pmm-data-prepare.service',
      'Requires=pmm-data-prepare.service',
      `RequiresMountsFor=${PMM_SRV_DIR}`,
      '',
      '[Service]',
      `Environment=PMM_IMAGE=${s.image}:${s.tag}`,
      `ExecStartPre=/usr/bin/cp --no-clobber --preserve=mode ${PMM_ENV_DEFAULTS} ${PMM_ENV_FILE}`,
      // The image pull on first start can take many minutes on a slow link.
      `TimeoutStartSec=${s.timeout}`,
      'ExecStartPre=/usr/bin/podman pull --quiet ${PMM_IMAGE}',
      [
        'ExecStart=/usr/bin/podman run --rm --replace --name pmm-server',
        '--log-driver=journald',
        ...publish,
        `--env-file ${PMM_ENV_FILE}`,
        `--volume ${PMM_SRV_DIR}:/srv`,
        '--health-cmd "curl -skf https://127.0.0.1:8443' + PMM_HEALTH_PATH + '" --health-interval 30s',
        '${PMM_IMAGE}',
      ].join(' \\\n    '),
      'ExecStop=/usr/bin/podman stop --time 30 pmm-server',
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
    systemd: { units: [prepare, server] },
  };
}

/**
 * The admin password reaches the VM inside the Ignition config as a 0600 root-only file. A oneshot unit waits
 * until PMM answers its readiness check, pipes the file into Grafana's CLI inside the container on stdin (never an
 * argument, so never in `ps` or the journal), then deletes it; ConditionPathExists makes it a no-op afterwards.
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
      `ExecStartPre=/usr/bin/bash -c 'until curl -skf https://127.0.0.1:443${PMM_HEALTH_PATH} >/dev/null; do sleep 5; done'`,
      `ExecStart=/usr/bin/bash -c 'podman exec -i pmm-server grafana cli --homepath /usr/share/grafana --config /etc/grafana/grafana.ini admin reset-admin-password --password-from-stdin < ${PMM_PASSWORD_FILE} >/dev/null'`,
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

function zincatiFragment(policy: ZincatiPolicy): Fragment {
  const toml =
    policy.mode === 'disabled'
      ? '# cnvm replaces the VM to upgrade the OS (cnvm upgrade); Zincati must not reboot it underneath.\n[updates]\nenabled = false\n'
      : [
          '# OS updates only inside this window, so they never race an image upgrade by replacement.',
          '[updates]',
          'strategy = "periodic"',
          '',
          '[[updates.periodic.window]]',
          `days = [ ${policy.days.map((d) => JSON.stringify(d)).join(', ')} ]`,
          `start_time = "${policy.startTime}"`,
          `length_minutes = ${policy.lengthMinutes}`,
          '',
        ].join('\n');
  if (policy.mode === 'periodic') {
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(policy.startTime)) throw new PmmOptionsError('zincati.startTime must be HH:MM (UTC)');
    if (policy.days.length === 0) throw new PmmOptionsError('zincati.days must name at least one day');
    if (!Number.isInteger(policy.lengthMinutes) || policy.lengthMinutes < 1) throw new PmmOptionsError('zincati.lengthMinutes must be a positive integer');
  }
  return { storage: { files: [file('/etc/zincati/config.d/90-cnvm-updates.toml', { mode: 0o644, contents: inline(toml) })] } };
}
