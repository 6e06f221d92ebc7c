// `cnvm provision | status | destroy`: flag parsing and printing around the lifecycle functions.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { PlanStep } from '../lifecycle/provision.js';
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { IoError, UsageError } from './errors.js';

const COMMON: FlagSpec[] = [
  { name: 'provider', value: true, help: 'libvirt, gcp or aws' },
  { name: 'name', value: true, help: 'the VM name (its data volume is NAME-data)' },
  { name: 'connect', value: true, help: 'libvirt URI (default qemu:///system; qemu:///session, qemu+ssh://host/system)' },
  { name: 'storage-dir', value: true, help: 'libvirt: where cnvm keeps volumes and VM files (default /var/lib/cnvm/libvirt)' },
  { name: 'network', value: true, help: "libvirt network for new VMs (default 'default'; 'none' for no NIC)" },
  { name: 'project', value: true, help: 'gcp: project id' },
  { name: 'zone', value: true, help: 'gcp: zone, e.g. europe-west1-b' },
  { name: 'machine-type', value: true, help: 'gcp machine type (default e2-standard-4) / aws instance type (default t3.large)' },
  { name: 'region', value: true, help: 'aws: region (default: AWS_REGION)' },
  { name: 'aws-profile', value: true, help: 'aws: named profile from ~/.aws/config' },
  { name: 'subnet', value: true, help: 'aws subnet id / gcp subnetwork' },
  { name: 'security-group', value: true, help: 'aws: security group id' },
  { name: 'allow-from', value: true, multiple: true, help: 'gcp/aws: let this CIDR reach 443 (aws: and 22) through a rule/group cnvm creates once (repeatable)' },
  { name: 'shutdown-timeout', value: true, help: 'seconds to wait for a clean guest power-off before forcing it (default 60)' },
  { name: 'stage', value: true, help: 'also read providers/stages/STAGE.yaml' },
  { name: 'config-dir', value: true, help: 'where profiles live (default ./providers)' },
  { name: 'json', help: 'machine-readable output' },
  { name: 'help', short: 'h', help: 'show this help' },
];

export const PROVISION_FLAGS: FlagSpec[] = [
  ...COMMON,
  { name: 'image', value: true, help: 'local qcow2 to boot (skips the stream download)' },
  { name: 'stream', value: true, help: 'FCOS stream: stable (default), testing, next' },
  { name: 'data-size', value: true, help: 'data volume size for a new volume (default 20G)' },
  { name: 'ssh-key', value: true, multiple: true, help: "public key FILE for the 'core' user (repeatable)" },
  { name: 'admin-password-file', value: true, help: 'PMM admin password from FILE (default: random, shown once, for a new volume)' },
  { name: 'pmm-tag', value: true, help: 'percona/pmm-server image tag (default 3)' },
  { name: 'memory', value: true, help: 'memory in MiB (default 4096)' },
  { name: 'cpus', value: true, help: 'virtual CPUs (default 2)' },
  { name: 'dry-run', help: 'print the plan; change nothing' },
];

export const STATUS_FLAGS: FlagSpec[] = COMMON;

export const UPGRADE_FLAGS: FlagSpec[] = [
  ...COMMON,
  { name: 'image', value: true, help: 'local qcow2 of the new OS image' },
  { name: 'stream', value: true, help: 'FCOS stream to take the newest image from (default stable)' },
  { name: 'skip-health-check', help: "don't wait for PMM's /v1/server/readyz before deleting the old VM" },
  { name: 'health-timeout', value: true, help: 'seconds to wait for PMM to be ready before rolling back (default 900)' },
  { name: 'keep-old', help: 'keep the old VM (stopped) after a successful upgrade' },
  { name: 'resume', help: 'only continue an interrupted upgrade (a plain re-run also continues one)' },
  { name: 'state-dir', value: true, help: 'where upgrade journals live (default ~/.local/state/cnvm)' },
  { name: 'ssh-key', value: true, multiple: true, help: "public key FILE for the 'core' user of the new VM (repeatable)" },
  { name: 'yes', help: 'proceed without asking (required when not on a terminal)' },
  { name: 'dry-run', help: 'print the plan; change nothing' },
];

export const DESTROY_FLAGS: FlagSpec[] = [
  ...COMMON,
  { name: 'delete-data', help: 'also DELETE the data volume and all PMM data on it (needs --yes)' },
  { name: 'yes', help: 'confirm --delete-data' },
  { name: 'dry-run', help: 'print the plan; change nothing' },
];

type Flags = Record<string, string | boolean | string[] | undefined>;
const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

function required(flags: Flags, name: string): string {
  const v = str(flags, name);
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

/** Flags that are also settings: flag name → settings path. */
const FLAG_SETTINGS: Record<string, string> = {
  connect: 'connect',
  'storage-dir': 'storage_dir',
  network: 'network',
  image: 'image',
  stream: 'stream',
  'data-size': 'data_size',
  memory: 'memory',
  cpus: 'cpus',
  'pmm-tag': 'pmm.tag',
  'ssh-key': 'ssh_keys',
  'health-timeout': 'health_timeout',
  'shutdown-timeout': 'shutdown_timeout',
  project: 'project',
  zone: 'zone',
  'machine-type': 'machine_type',
  region: 'region',
  'aws-profile': 'aws_profile',
  subnet: 'subnet',
  'security-group': 'security_group',
  'allow-from': 'allow_from',
};

/** The layered settings (profile → stage → host file → flags) for this command line. */
export async function settingsFrom(flags: Flags, provider: string, name?: string) {
  const { resolveSettings } = await import('../config/layers.js');
  const values: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  for (const [flag, path] of Object.entries(FLAG_SETTINGS)) {
    const v = flags[flag];
    if (v === undefined || v === false) continue;
    const parts = path.split('.');
    let into = values;
    for (const part of parts.slice(0, -1)) into = (into[part] ??= {}) as Record<string, unknown>;
    const numeric = ['memory', 'cpus', 'health_timeout', 'shutdown_timeout'].includes(path);
    if (numeric && !/^\d+$/.test(String(v))) throw new UsageError(`--${flag} must be a whole number`);
    into[parts[parts.length - 1] as string] = numeric ? Number(v) : v;
    origins[path] = `--${flag}`;
  }
  const stage = str(flags, 'stage');
  const configDir = str(flags, 'config-dir');
  return resolveSettings({ provider, ...(name ? { name } : {}), ...(stage ? { stage } : {}), ...(configDir ? { configDir } : {}), flags: { values, origins } });
}

type Resolved = Awaited<ReturnType<typeof settingsFrom>>;
const setting = (r: Resolved, key: string): string | undefined => (typeof r.settings[key] === 'string' ? (r.settings[key] as string) : undefined);
const intSetting = (r: Resolved, key: string): number | undefined => (typeof r.settings[key] === 'number' ? (r.settings[key] as number) : undefined);

async function providerFrom(flags: Flags, resolved?: Resolved) {
  const { createProvider } = await import('../provider/index.js');
  const r = resolved ?? (await settingsFrom(flags, required(flags, 'provider'), str(flags, 'name')));
  const connect = setting(r, 'connect');
  const storageDir = setting(r, 'storage_dir');
  const network = setting(r, 'network');
  const shutdownTimeoutSec = intSetting(r, 'shutdown_timeout');
  const cloud = Object.fromEntries(
    [
      ['project', setting(r, 'project')],
      ['zone', setting(r, 'zone')],
      ['subnet', setting(r, 'subnet')],
      ['machineType', setting(r, 'machine_type')],
      ['region', setting(r, 'region')],
      ['profile', setting(r, 'aws_profile')],
      ['keyName', setting(r, 'key_name')],
    ].filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
  const securityGroup = setting(r, 'security_group');
  const allowFrom = Array.isArray(r.settings.allow_from) ? (r.settings.allow_from as string[]) : [];
  return createProvider(required(flags, 'provider'), {
    ...cloud,
    ...(securityGroup ? { securityGroups: securityGroup.split(',') } : {}),
    ...(allowFrom.length ? { allowFrom } : {}),
    ...(connect ? { connect } : {}),
    ...(storageDir ? { storageDir } : {}),
    ...(network ? { network } : {}),
    ...(shutdownTimeoutSec !== undefined ? { shutdownTimeoutSec } : {}),
  });
}

/** ssh_keys entries are public keys, or files holding them (relative to the working directory). */
function sshKeysOf(entries: unknown): string[] {
  const list = Array.isArray(entries) ? (entries as string[]) : [];
  return list.flatMap((entry) =>
    /^(ssh-|ecdsa-|sk-)/.test(entry)
      ? [entry]
      : readText(entry.replace(/^~(?=\/)/, homedir()), 'ssh key').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')),
  );
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new IoError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

function printPlan(title: string, plan: { steps: PlanStep[]; keeps: string[] }, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ dryRun: true, ...plan }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${title} (dry run: nothing is changed)\n`);
  plan.steps.forEach((s, i) => {
    process.stdout.write(`${i + 1}. ${s.step}\n`);
    for (const a of s.actions) {
      const what = !Array.isArray(a.detail) ? `${a.action} ${JSON.stringify(a.detail)}` : a.action.startsWith(a.detail[0] ?? '\0') ? a.detail.join(' ') : `${a.action} ${a.detail.join(' ')}`;
      process.stdout.write(`   ${what}\n      → ${a.effect}\n`);
    }
  });
  for (const k of plan.keeps) process.stdout.write(`kept: ${k}\n`);
}

const usage = (command: string, flags: FlagSpec[]): string => `Usage: cnvm ${command} --provider P --name NAME [flags]\n\n${flagHelp(flags)}\n`;

export async function runProvision(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, PROVISION_FLAGS);
  if (flags.help) return void process.stdout.write(usage('provision', PROVISION_FLAGS)), 0;
  const name = required(flags, 'name');
  const json = flags.json === true;
  const resolved = await settingsFrom(flags, required(flags, 'provider'), name);
  const { parseSize } = await import('../lifecycle/names.js');
  let dataSizeGiB: number;
  try {
    dataSizeGiB = parseSize(setting(resolved, 'data_size') ?? '20G');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const keys = sshKeysOf(resolved.settings.ssh_keys);
  const passwordFile = str(flags, 'admin-password-file');
  const adminPassword = passwordFile ? readText(passwordFile, 'password file').replace(/\r?\n$/, '') : undefined;
  if (str(flags, 'image') && flags.stream) throw new UsageError('give --image or --stream, not both');
  const pmmSettings = (resolved.settings.pmm ?? {}) as { tag?: string; publish_http?: boolean; env?: Record<string, unknown> };
  const pmm = {
    ...(pmmSettings.tag ? { tag: pmmSettings.tag } : {}),
    ...(pmmSettings.publish_http !== undefined ? { publishHttp: pmmSettings.publish_http } : {}),
    ...(pmmSettings.env ? { env: Object.fromEntries(Object.entries(pmmSettings.env).map(([k, v]) => [k, String(v)])) } : {}),
  };
  const memoryMiB = intSetting(resolved, 'memory');
  const cpus = intSetting(resolved, 'cpus');
  const provider = await providerFrom(flags, resolved);
  const { planProvision, provision } = await import('../lifecycle/provision.js');
  const image = setting(resolved, 'image');
  const request = {
    name,
    image: { id: image ?? `<FCOS ${setting(resolved, 'stream') ?? 'stable'} qcow2, downloaded and verified>` },
    dataSizeGiB,
    sshAuthorizedKeys: keys,
    ...(adminPassword !== undefined ? { adminPassword } : {}),
    pmm,
    ...(memoryMiB ? { memoryMiB } : {}),
    ...(cpus ? { cpus } : {}),
  };
  if (flags['dry-run']) {
    printPlan(`provision ${name} on ${provider.name}`, planProvision(provider, request), json);
    return 0;
  }
  const log = (line: string): void => void (json ? undefined : process.stderr.write(`${line}\n`));
  if (!image) request.image = await resolveImage({ stream: setting(resolved, 'stream') ?? 'stable', provider: provider.name, ...(setting(resolved, 'region') ? { region: setting(resolved, 'region') as string } : {}) }, log);
  const result = await provision(provider, request, (e) => log(`${e.step}: ${e.status}${e.detail ? ` (${e.detail})` : ''}`));
  for (const w of result.warnings) log(`warning: ${w}`);
  if (json) {
    process.stdout.write(`${JSON.stringify({ vm: result.vm, volume: result.volume, adminPassword: result.generatedAdminPassword ?? null, warnings: result.warnings }, null, 2)}\n`);
  } else {
    process.stdout.write(`${result.vm.name}: ${result.vm.state}; data volume ${result.volume.id} (${result.volume.sizeGiB} GiB, device ${result.volume.deviceName})\n`);
    if (result.vm.addresses.length > 0) process.stdout.write(`address: https://${result.vm.addresses[0]}/\n`);
    if (result.generatedAdminPassword) process.stdout.write(`PMM admin password (shown once, store it now): ${result.generatedAdminPassword}\n`);
  }
  return 0;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function resolveImage(source: { image?: string; stream: string; provider?: string; region?: string }, log: (line: string) => void): Promise<{ id: string; version?: string }> {
  if (source.image) return { id: source.image };
  if (source.provider === 'aws') {
    const { fetchStream, awsImage } = await import('../image/stream.js');
    const region = source.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? '';
    const image = awsImage(await fetchStream(source.stream), source.stream, region);
    log(`image: ${image.ami} (${image.release}, ${region})`);
    return { id: image.ami, version: image.release };
  }
  if (source.provider === 'gcp') {
    const { fetchStream, gcpImage } = await import('../image/stream.js');
    const image = gcpImage(await fetchStream(source.stream), source.stream);
    log(`image: ${image.project}/${image.name}`);
    return { id: `projects/${image.project}/global/images/${image.name}`, version: image.release };
  }
  const { ensureQemuImage } = await import('../image/qemu-image.js');
  let last = 0;
  const image = await ensureQemuImage({
    stream: source.stream,
    onProgress: (p) => {
      if (p.phase !== 'download') return log(`image: ${p.phase}…`);
      const pct = p.total ? Math.floor((100 * p.bytes) / p.total) : undefined;
      if (pct !== undefined && pct >= last + 10) log(`image: downloaded ${(last = pct)}%`);
    },
  });
  log(`image: ${image.path}${image.downloaded ? '' : ' (cached)'}`);
  return { id: image.path, version: image.release };
}

export async function runUpgrade(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, UPGRADE_FLAGS);
  if (flags.help) return void process.stdout.write(usage('upgrade', UPGRADE_FLAGS)), 0;
  const name = required(flags, 'name');
  const json = flags.json === true;
  if (str(flags, 'image') && flags.stream) throw new UsageError('give --image or --stream, not both');
  const resolved = await settingsFrom(flags, required(flags, 'provider'), name);
  const timeout = intSetting(resolved, 'health_timeout');
  const provider = await providerFrom(flags, resolved);
  const { planUpgrade, upgrade } = await import('../lifecycle/upgrade.js');
  const { Journal, defaultStateDir } = await import('../lifecycle/journal.js');
  const stateDir = str(flags, 'state-dir') ?? defaultStateDir();
  const pending = Journal.for(stateDir, provider.name, name).read();
  const resuming = pending?.phase === 'forward' || pending?.phase === 'rollback';
  const log = (line: string): void => void (json ? undefined : process.stderr.write(`${line}\n`));
  if (flags['dry-run']) {
    const image = { id: str(flags, 'image') ?? `<FCOS ${setting(resolved, 'stream') ?? 'stable'} image>` };
    printPlan(`upgrade ${name} on ${provider.name}`, await planUpgrade(provider, { name, image, keepOld: flags['keep-old'] === true }), json);
    return 0;
  }
  if (!flags.yes && !(await confirm(resuming ? `Continue the interrupted upgrade of ${name}?` : `Upgrade ${name}? PMM is down from the old VM's stop until the new one is ready.`))) {
    throw new UsageError('not confirmed: pass --yes to upgrade without a terminal');
  }
  // Everything slow happens before the old VM stops: the image is resolved and downloaded first.
  // An --image/--stream on the command line picks the new image; a profile's `image` is the provisioning default.
  const cliImage = str(flags, 'image');
  const image = resuming && pending ? pending.image : await resolveImage({ ...(cliImage ? { image: cliImage } : {}), stream: setting(resolved, 'stream') ?? 'stable', provider: provider.name, ...(setting(resolved, 'region') ? { region: setting(resolved, 'region') as string } : {}) }, log);
  const keys = sshKeysOf(resolved.settings.ssh_keys);
  const events: unknown[] = [];
  const result = await upgrade(
    provider,
    {
      name,
      image,
      stateDir,
      skipHealthCheck: flags['skip-health-check'] === true,
      keepOld: flags['keep-old'] === true,
      resumeOnly: flags.resume === true,
      sshAuthorizedKeys: keys,
      ...(timeout ? { healthTimeoutSec: timeout } : {}),
    },
    (e) => (json ? events.push(e) : log(`[${(e.at / 1000).toFixed(1)}s] ${e.step}: ${e.status}${e.detail ? ` (${e.detail})` : ''}`)),
  );
  if (json) process.stdout.write(`${JSON.stringify({ ...result, events }, null, 2)}\n`);
  else process.stdout.write(`${name}: upgraded ${result.oldVm} → ${result.newVm} (${result.vm.state}); downtime ${(result.downtimeMs / 1000).toFixed(1)} s\n`);
  return 0;
}

export async function runStatus(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, STATUS_FLAGS);
  if (flags.help) return void process.stdout.write(usage('status', STATUS_FLAGS)), 0;
  const name = required(flags, 'name');
  const provider = await providerFrom(flags);
  const { status } = await import('../lifecycle/status.js');
  const s = await status(provider, name);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ name, vm: s.vm ?? null, volume: s.volume ?? null }, null, 2)}\n`);
  } else {
    process.stdout.write(s.vm ? `${name}: ${s.vm.state}, image ${s.vm.image}${s.vm.addresses.length ? `, addresses ${s.vm.addresses.join(' ')}` : ''}\n` : `${name}: no VM\n`);
    if (s.others.length > 0) process.stdout.write(`other generations: ${s.others.join(', ')}\n`);
    process.stdout.write(s.volume ? `data volume ${s.volume.name}: ${s.volume.id}, ${s.volume.sizeGiB} GiB, ${s.volume.attachedTo ? `attached to ${s.volume.attachedTo}` : 'not attached'}\n` : 'no data volume\n');
  }
  return s.vm || s.volume ? 0 : 1;
}

export async function runDestroy(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, DESTROY_FLAGS);
  if (flags.help) return void process.stdout.write(usage('destroy', DESTROY_FLAGS)), 0;
  const name = required(flags, 'name');
  const deleteData = flags['delete-data'] === true;
  if (deleteData && flags.yes !== true && flags['dry-run'] !== true) {
    throw new UsageError('--delete-data deletes the data volume and every byte of PMM data on it; add --yes to confirm');
  }
  const provider = await providerFrom(flags);
  const { destroy, planDestroy } = await import('../lifecycle/destroy.js');
  if (flags['dry-run']) {
    printPlan(`destroy ${name} on ${provider.name}`, await planDestroy(provider, { name, deleteData }), flags.json === true);
    return 0;
  }
  const result = await destroy(provider, { name, deleteData });
  if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stdout.write(result.vmRemoved ? `${name}: removed\n` : `${name}: no VM\n`);
    if (result.volumeKept) process.stdout.write(`kept data volume ${result.volumeKept} (destroy --delete-data --yes removes it)\n`);
    if (result.volumeDeleted) process.stdout.write('data volume deleted\n');
  }
  return 0;
}

export const CONFIG_FLAGS: FlagSpec[] = [
  { name: 'provider', value: true, help: 'the provider profile to start from (providers/PROVIDER.yaml)' },
  { name: 'name', value: true, help: 'the VM name (adds providers/hosts/NAME.yaml)' },
  { name: 'stage', value: true, help: 'also read providers/stages/STAGE.yaml' },
  { name: 'config-dir', value: true, help: 'where profiles live (default ./providers)' },
  ...PROVISION_FLAGS.filter((f) => Object.keys(FLAG_SETTINGS).includes(f.name) && !['connect', 'storage-dir', 'network'].includes(f.name)),
  ...COMMON.filter((f) => ['connect', 'storage-dir', 'network', 'json'].includes(f.name)),
  { name: 'help', short: 'h', help: 'show this help' },
];

export async function runConfig(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'show') throw new UsageError(`Usage: cnvm config show --provider P [--name N] [--stage S]\n\n${flagHelp(CONFIG_FLAGS)}`);
  const { flags } = parseArgs(rest, CONFIG_FLAGS);
  if (flags.help) return void process.stdout.write(`Usage: cnvm config show --provider P [--name N] [--stage S]\n\n${flagHelp(CONFIG_FLAGS)}\n`), 0;
  const resolved = await settingsFrom(flags, required(flags, 'provider'), str(flags, 'name'));
  const { formatResolved } = await import('../config/layers.js');
  if (flags.json) process.stdout.write(`${JSON.stringify(resolved, null, 2)}\n`);
  else process.stdout.write(`# layers: ${['defaults', ...resolved.layers].join(' → ')}\n${formatResolved(resolved)}`);
  return 0;
}
