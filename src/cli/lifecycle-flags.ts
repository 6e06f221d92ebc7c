// The flags of provision / upgrade / status / destroy / config show. Provider flags come from the provider
// registry; each command lists only the flags it uses.
import { allProviderSettings, providerNames } from '../provider/registry.js';
import type { FlagSpec } from './args.js';

const providerFlags = (filter: (s: ReturnType<typeof allProviderSettings>[number]) => boolean = () => true): FlagSpec[] => {
  const seen = new Set<string>();
  return allProviderSettings()
    .filter(filter)
    .filter((s) => !seen.has(s.flag) && seen.add(s.flag))
    .map((s) => ({ name: s.flag, value: true, ...(s.type === 'strings' ? { multiple: true } : {}), help: s.help }));
};

const BASE: FlagSpec[] = [
  { name: 'provider', value: true, help: providerNames().join(', ') },
  { name: 'name', value: true, help: 'the VM name (its data volume is NAME-data)' },
  { name: 'stage', value: true, help: 'also read providers/stages/STAGE.yaml' },
  { name: 'config-dir', value: true, help: 'where profiles live (default ./providers)' },
  { name: 'state-dir', value: true, help: "where cnvm keeps VM records, secrets, locks and journals (default ~/.local/state/cnvm)" },
];
const TAIL: FlagSpec[] = [
  { name: 'json', help: 'machine-readable output (see docs/json-output.md)' },
  { name: 'help', short: 'h', help: 'show this help' },
];
const DRY_RUN: FlagSpec = { name: 'dry-run', help: 'print the plan (with what changes against the record); change nothing' };

/** What the VM is: the settings a record holds. */
const VM_SETTINGS: FlagSpec[] = [
  { name: 'pmm-tag', value: true, help: 'percona/pmm-server image tag (default 3; upgrade keeps the recorded one)' },
  { name: 'memory', value: true, help: 'memory in MiB (default 4096)' },
  { name: 'cpus', value: true, help: 'virtual CPUs (default 2)' },
  { name: 'ssh-key', value: true, multiple: true, help: "public key FILE for the 'core' user (repeatable; replaces the recorded keys)" },
];

export const PROVISION_FLAGS: FlagSpec[] = [
  ...BASE,
  { name: 'image', value: true, help: 'the OS image to boot (libvirt: a local qcow2; aws: an AMI id; gcp: an image link); default: the newest of --stream' },
  { name: 'stream', value: true, help: 'Fedora CoreOS stream: stable (default), testing, next' },
  { name: 'data-size', value: true, help: 'data volume size for a new volume, whole GiB (default 20G)' },
  ...VM_SETTINGS,
  { name: 'admin-password-file', value: true, help: 'PMM admin password from FILE (0600; default: random, shown once)' },
  { name: 'keep-password', help: 'a reused data volume of which cnvm has no record: its PMM keeps the password it has' },
  { name: 'allow-default-password', help: 'run PMM with its default admin/admin (not recommended)' },
  { name: 'skip-health-check', help: "don't wait for PMM's /v1/server/readyz (the password then stays in the VM's stored config and cnvm's copy until a gated run)" },
  { name: 'health-timeout', value: true, help: 'seconds to wait for PMM to be ready after the first boot (default 900)' },
  ...providerFlags(),
  DRY_RUN,
  ...TAIL,
];

export const UPGRADE_FLAGS: FlagSpec[] = [
  ...BASE,
  { name: 'image', value: true, help: 'the new OS image (libvirt: a local qcow2; aws: an AMI id; gcp: an image link)' },
  { name: 'stream', value: true, help: 'FCOS stream to take the newest image from (default stable)' },
  ...VM_SETTINGS,
  ...providerFlags((s) => !s.location || ['connect', 'storage_dir', 'region', 'project', 'zone'].includes(s.key)),
  { name: 'skip-health-check', help: "don't wait for PMM's /v1/server/readyz before deleting the old VM" },
  { name: 'health-timeout', value: true, help: 'seconds to wait for PMM to be ready before rolling back (default 900)' },
  { name: 'keep-old', help: 'keep the old VM (stopped) after a successful upgrade' },
  { name: 'resume', help: 'only continue an interrupted upgrade (a plain re-run also continues one)' },
  { name: 'yes', help: 'proceed without asking (required when not on a terminal)' },
  DRY_RUN,
  ...TAIL,
];

/** status and destroy find the VM from its record; location flags only matter when this machine has none. */
const LOCATE: FlagSpec[] = providerFlags((s) => s.location === true || s.transient === true);

export const STATUS_FLAGS: FlagSpec[] = [...BASE, ...LOCATE, ...TAIL];

export const DESTROY_FLAGS: FlagSpec[] = [
  ...BASE,
  ...LOCATE,
  { name: 'delete-data', help: 'also DELETE the data volume and all PMM data on it (needs --yes)' },
  { name: 'yes', help: 'confirm --delete-data' },
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
  { name: 'provider', value: true, help: 'the provider profile to start from (providers/PROVIDER.yaml)' },
  { name: 'name', value: true, help: 'the VM name (adds providers/hosts/NAME.yaml)' },
  { name: 'stage', value: true, help: 'also read providers/stages/STAGE.yaml' },
  { name: 'config-dir', value: true, help: 'where profiles live (default ./providers)' },
  ...PROVISION_FLAGS.filter((f) => f.name in FLAG_SETTINGS),
  ...TAIL,
];
