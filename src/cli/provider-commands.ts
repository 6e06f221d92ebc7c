// `cnvm provision | status | destroy`: flag parsing and printing around the lifecycle functions.
import { readFileSync } from 'node:fs';
import type { PlanStep } from '../lifecycle/provision.js';
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { IoError, UsageError } from './errors.js';

const COMMON: FlagSpec[] = [
  { name: 'provider', value: true, help: 'libvirt (aws and gcp: coming)' },
  { name: 'name', value: true, help: 'the VM name (its data volume is NAME-data)' },
  { name: 'connect', value: true, help: 'libvirt URI (default qemu:///system; qemu:///session, qemu+ssh://host/system)' },
  { name: 'storage-dir', value: true, help: 'libvirt: where cnvm keeps volumes and VM files (default /var/lib/cnvm/libvirt)' },
  { name: 'network', value: true, help: "libvirt network for new VMs (default 'default'; 'none' for no NIC)" },
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

async function providerFrom(flags: Flags) {
  const { createProvider } = await import('../provider/index.js');
  const connect = str(flags, 'connect');
  const storageDir = str(flags, 'storage-dir');
  const network = str(flags, 'network');
  return createProvider(required(flags, 'provider'), { ...(connect ? { connect } : {}), ...(storageDir ? { storageDir } : {}), ...(network ? { network } : {}) });
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
  const { parseSize } = await import('../lifecycle/names.js');
  let dataSizeGiB: number;
  try {
    dataSizeGiB = parseSize(str(flags, 'data-size') ?? '20G');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const keys = ((flags['ssh-key'] as string[] | undefined) ?? []).flatMap((f) =>
    readText(f, 'ssh key').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')),
  );
  const passwordFile = str(flags, 'admin-password-file');
  const adminPassword = passwordFile ? readText(passwordFile, 'password file').replace(/\r?\n$/, '') : undefined;
  const imagePath = str(flags, 'image');
  const stream = str(flags, 'stream') ?? 'stable';
  if (imagePath && flags.stream) throw new UsageError('give --image or --stream, not both');
  const tag = str(flags, 'pmm-tag');
  const int = (flag: string): number | undefined => {
    const v = str(flags, flag);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${flag} must be a whole number`);
    return Number(v);
  };
  const memoryMiB = int('memory');
  const cpus = int('cpus');
  const provider = await providerFrom(flags);
  const { planProvision, provision } = await import('../lifecycle/provision.js');
  const request = {
    name,
    image: { id: imagePath ?? `<FCOS ${stream} qcow2, downloaded and verified>` },
    dataSizeGiB,
    sshAuthorizedKeys: keys,
    ...(adminPassword !== undefined ? { adminPassword } : {}),
    ...(tag ? { pmm: { tag } } : {}),
    ...(memoryMiB ? { memoryMiB } : {}),
    ...(cpus ? { cpus } : {}),
  };
  if (flags['dry-run']) {
    printPlan(`provision ${name} on ${provider.name}`, planProvision(provider, request), json);
    return 0;
  }
  const log = (line: string): void => void (json ? undefined : process.stderr.write(`${line}\n`));
  if (!imagePath) {
    const { ensureQemuImage } = await import('../image/qemu-image.js');
    let last = 0;
    const image = await ensureQemuImage({
      stream,
      onProgress: (p) => {
        if (p.phase !== 'download') return log(`image: ${p.phase}…`);
        const pct = p.total ? Math.floor((100 * p.bytes) / p.total) : undefined;
        if (pct !== undefined && pct >= last + 10) log(`image: downloaded ${(last = pct)}%`);
      },
    });
    request.image = { id: image.path, version: image.release } as typeof request.image;
    log(`image: ${image.path}${image.downloaded ? '' : ' (cached)'}`);
  }
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
