// The flags of provision / upgrade / status / destroy / config show. Provider flags come from the provider
// registry; each command lists only the flags it uses.
import { allProviderSettings, PROVIDER_MODULES, providerNames } from '../provider/registry.js';
import type { FlagSpec } from './args.js';

const providerFlags = (filter: (s: ReturnType<typeof allProviderSettings>[number]) => boolean = () => true): FlagSpec[] => {
  const seen = new Set<string>();
  return allProviderSettings()
    .filter(filter)
    .filter((s) => !seen.has(s.flag) && seen.add(s.flag))
    .map((s) => ({ name: s.flag, value: true, ...(s.type === 'strings' ? { multiple: true } : {}), help: s.help, group: 'Provider settings (from the provider modules)' }));
};

/** What --image names, per provider (from the registry). */
const IMAGE_KINDS = PROVIDER_MODULES.map((m) => `${m.name}: ${m.imageHelp}`).join('; ');

const WHICH = 'Which VM';
const PROFILES = 'Profiles and state';
const OUTPUT = 'Output';
const PROVIDER: FlagSpec = { name: 'provider', value: true, help: providerNames().join(', '), group: WHICH };
const STATE: FlagSpec[] = [
  { name: 'stage', value: true, help: 'also read providers/stages/STAGE.yaml', group: PROFILES },
  { name: 'config-dir', value: true, help: 'where profiles live (default ./providers)', group: PROFILES },
  { name: 'state-dir', value: true, help: "where cnvm keeps VM records, secrets, locks and journals (default ~/.local/state/cnvm)", group: PROFILES },
];
const BASE: FlagSpec[] = [PROVIDER, { name: 'name', value: true, help: 'the VM name (its data volume is NAME-data)', group: WHICH }, ...STATE];
const TAIL: FlagSpec[] = [
  { name: 'json', help: 'machine-readable output (see docs/json-output.md)', group: OUTPUT },
  { name: 'help', short: 'h', help: 'show this help', group: OUTPUT },
];
const DRY_RUN: FlagSpec = { name: 'dry-run', help: 'print the plan (with what changes against the record); change nothing', group: OUTPUT };

/** What the VM is: the settings a record holds. */
const VM = 'The VM';
const VM_SETTINGS: FlagSpec[] = [
  { name: 'pmm-tag', value: true, help: 'percona/pmm-server image tag (default 3; upgrade keeps the recorded one)', group: VM },
  { name: 'memory', value: true, help: 'memory in MiB (default 4096)', group: VM },
  { name: 'cpus', value: true, help: 'virtual CPUs (default 2)', group: VM },
  { name: 'ssh-key', value: true, multiple: true, help: "public key FILE for the 'core' user (repeatable; replaces the recorded keys)", group: VM },
];
const PASSWORD = 'PMM admin password';
const IMAGE_RELEASE: FlagSpec = { name: 'image-release', value: true, help: "what --image is, for the version-skew check: an FCOS build (42.20250901.3.0) or ignition-X.Y.Z", group: VM };
const UPGRADE = 'How the upgrade runs';
const FLEET = 'Many VMs (fleet upgrade)';

export const PROVISION_FLAGS: FlagSpec[] = [
  ...BASE,
  { name: 'image', value: true, help: `the OS image to boot (${IMAGE_KINDS}); default: the newest of --stream`, group: VM },
  { name: 'stream', value: true, help: 'Fedora CoreOS stream: stable (default), testing, next', group: VM },
  IMAGE_RELEASE,
  { name: 'data-size', value: true, help: 'data volume size for a new volume, whole GiB (default 20G)', group: VM },
  ...VM_SETTINGS,
  { name: 'admin-password-file', value: true, help: 'PMM admin password from FILE (0600; default: random, shown once)', group: PASSWORD },
  { name: 'keep-password', help: 'a reused data volume of which cnvm has no record: its PMM keeps the password it has', group: PASSWORD },
  { name: 'allow-default-password', help: 'run PMM with its default admin/admin (not recommended)', group: PASSWORD },
  { name: 'skip-health-check', help: "don't wait for PMM's /v1/server/readyz (the password then stays in the VM's stored config and cnvm's copy until a gated run)", group: PASSWORD },
  { name: 'health-timeout', value: true, help: 'seconds to wait for PMM to be ready after the first boot (default 900)', group: PASSWORD },
  ...providerFlags(),
  DRY_RUN,
  ...TAIL,
];

export const UPGRADE_FLAGS: FlagSpec[] = [
  ...BASE,
  { name: 'image', value: true, help: `the new OS image (${IMAGE_KINDS})`, group: VM },
  { name: 'stream', value: true, help: 'FCOS stream to take the newest image from (default stable)', group: VM },
  IMAGE_RELEASE,
  ...VM_SETTINGS,
  ...providerFlags((s) => !s.location || ['connect', 'storage_dir', 'region', 'project', 'zone'].includes(s.key)),
  { name: 'skip-health-check', help: "don't wait for PMM's /v1/server/readyz before deleting the old VM", group: UPGRADE },
  { name: 'health-timeout', value: true, help: 'seconds to wait for PMM to be ready before rolling back (default 900)', group: UPGRADE },
  { name: 'keep-old', help: 'keep the old VM (stopped) after a successful upgrade', group: UPGRADE },
  { name: 'resume', help: 'only continue an interrupted upgrade (a plain re-run also continues one)', group: UPGRADE },
  { name: 'yes', help: 'proceed without asking (required when not on a terminal)', group: UPGRADE },
  { name: 'all', help: 'upgrade every VM cnvm owns on --provider (a fleet; see --batch, --max-failures)', group: FLEET },
  { name: 'select', value: true, help: 'a fleet of the VMs whose names match GLOB (* and ?)', group: FLEET },
  { name: 'batch', value: true, help: 'fleet: VMs upgraded at a time (default 1)', group: FLEET },
  { name: 'max-failures', value: true, help: 'fleet: start no new batch once this many VMs failed their gate (default 1)', group: FLEET },
  DRY_RUN,
  ...TAIL,
];

/** status and destroy find the VM from its record; location flags only matter when this machine has none. */
const LOCATE: FlagSpec[] = providerFlags((s) => s.location === true || s.transient === true);

export const STATUS_FLAGS: FlagSpec[] = [
  ...BASE,
  { name: 'all', help: 'every cnvm VM on the providers named (--provider a,b; default: each provider with a profile)', group: WHICH },
  ...LOCATE,
  ...TAIL,
];

export const DESTROY_FLAGS: FlagSpec[] = [
  ...BASE,
  ...LOCATE,
  { name: 'delete-data', help: 'also DELETE the data volume and all PMM data on it (needs --yes)', group: 'Data' },
  { name: 'yes', help: 'confirm --delete-data', group: 'Data' },
  DRY_RUN,
  ...TAIL,
];

/** Flags that are also settings: flag name → settings path. */
export const FLAG_SETTINGS: Record<string, string> = {
  image: 'image',
  stream: 'stream',
  'data-size': 'data_size',
  memory: 'memory',
  cpus: 'cpus',
  'pmm-tag': 'pmm.tag',
  'ssh-key': 'ssh_keys',
  'health-timeout': 'health_timeout',
  ...Object.fromEntries(allProviderSettings().map((s) => [s.flag, s.key])),
};

export const NUMERIC_SETTINGS = new Set(['memory', 'cpus', 'health_timeout', ...allProviderSettings().filter((s) => s.type === 'int').map((s) => s.key)]);

export const CONFIG_FLAGS: FlagSpec[] = [
  { name: 'provider', value: true, help: 'the provider profile to start from (providers/PROVIDER.yaml)', group: WHICH },
  { name: 'name', value: true, help: 'the VM name (adds providers/hosts/NAME.yaml)', group: WHICH },
  { name: 'stage', value: true, help: 'also read providers/stages/STAGE.yaml', group: PROFILES },
  { name: 'config-dir', value: true, help: 'where profiles live (default ./providers)', group: PROFILES },
  ...PROVISION_FLAGS.filter((f) => f.name in FLAG_SETTINGS).map((f) => ({ ...f, group: `Settings (as flags they override the profiles)${f.group?.startsWith('Provider') ? ': provider' : ''}` })),
  ...TAIL,
];

/** list: every cnvm VM of a provider's scope (the profile's placement: connection, region, project and zone). */
export const LIST_FLAGS: FlagSpec[] = [PROVIDER, ...STATE, ...LOCATE, ...TAIL];

const ACCESS = 'How to connect';
const NAME_FLAG: FlagSpec = { name: 'name', value: true, help: 'the VM name (or give it as the first argument)', group: WHICH };
const SSH_ACCESS: FlagSpec[] = [
  { name: 'identity', short: 'i', value: true, help: 'private key FILE for ssh (default: your ssh configuration and agent)', group: ACCESS },
  { name: 'ssh-option', value: true, multiple: true, help: "an ssh -o option, e.g. ProxyJump=bastion (repeatable)", group: ACCESS },
];
const SHOW_ARGV: FlagSpec = { name: 'dry-run', help: 'print the ssh command line; run nothing', group: OUTPUT };
const LINES: FlagSpec = { name: 'lines', short: 'n', value: true, help: 'only the last N lines', group: OUTPUT };

export const SSH_FLAGS: FlagSpec[] = [PROVIDER, NAME_FLAG, ...STATE, ...LOCATE, ...SSH_ACCESS, SHOW_ARGV, ...TAIL];
export const CONSOLE_FLAGS: FlagSpec[] = [PROVIDER, NAME_FLAG, ...STATE, ...LOCATE, LINES, ...TAIL];
export const LOGS_FLAGS: FlagSpec[] = [
  PROVIDER,
  NAME_FLAG,
  ...STATE,
  ...LOCATE,
  { name: 'unit', short: 'u', value: true, help: 'the systemd unit whose journal to show (default pmm-server)', group: 'What to show' },
  { name: 'ignition', help: "Ignition's first-boot result, from the serial console output (no ssh needed)", group: 'What to show' },
  { name: 'follow', short: 'f', help: 'keep printing new journal lines', group: 'What to show' },
  { name: 'lines', short: 'n', value: true, help: 'the last N lines (journal default 200)', group: 'What to show' },
  ...SSH_ACCESS,
  SHOW_ARGV,
  ...TAIL,
];
