// `cnvm list | ssh | console | logs`: seeing one's VMs and reaching them. Each finds the VM the way status does
// (cnvm's record, else the copy the VM carries), so no location flag is repeated on the machine that provisioned it.
import type { Provider, VmInfo } from '../provider/types.js';
import { parseArgs } from './args.js';
import { CnvmError } from '../errors.js';
import { UsageError } from './errors.js';
import { commandHelp } from './help.js';
import { CONSOLE_FLAGS, LIST_FLAGS, LOGS_FLAGS, SSH_FLAGS } from './lifecycle-flags.js';
import { jsonOut } from './output.js';
import { checkedVmName } from './checked-flags.js';
import { pathUnder } from '../util/safe-path.js';
import { providerFor, settingsFrom, storeFrom, type Flags } from './provider-commands.js';
import { ignitionLines, journalCommand, sshArgv, type SshOptions } from './ssh-command.js';

const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

/** The URL PMM answers on, from the address the provider reports (an address, or a forwarded host:port). */
export const pmmUrl = (address: string | undefined): string | undefined => (address ? `https://${address}/` : undefined);

async function providerOf(flags: Flags, name?: string) {
  const providerName = str(flags, 'provider');
  if (!providerName) throw new UsageError('--provider is required');
  const resolved = await settingsFrom(flags, providerName, name);
  const store = await storeFrom(flags);
  const { provider } = await providerFor(providerName, resolved, store, name);
  return { provider, store };
}

/** NAME as the first argument (cnvm ssh pmm1) or --name; what follows `--` is the remote command. */
function vmName(flags: Flags, positionals: string[], command: string): { name: string; rest: string[] } {
  const byFlag = str(flags, 'name');
  if (byFlag) return { name: checkedVmName(byFlag), rest: positionals };
  const [name, ...rest] = positionals;
  if (!name) throw new UsageError(`Usage: cnvm ${command} NAME --provider P (see cnvm help ${command})`);
  return { name: checkedVmName(name, 'NAME'), rest };
}

/** The VM holding NAME's data volume now (its current generation). */
async function currentVm(provider: Provider, store: Parameters<typeof import('../lifecycle/status.js').status>[1], name: string): Promise<VmInfo> {
  const { status } = await import('../lifecycle/status.js');
  const s = await status(provider, store, name);
  if (!s.vm) throw new CnvmError('not-found', `${name} has no VM now (${s.record.status}); cnvm provision --name ${name} creates it again on its data volume`);
  return s.vm;
}

export interface ListRow {
  name: string;
  generation: number | null;
  vm: string | null;
  state: string;
  image: string | null;
  address: string | null;
  url: string | null;
  dataVolume: string | null;
  dataVolumeId: string | null;
}

/** One row per cnvm VM: its generations' VMs, and a data volume left without a VM (destroyed, volume kept). */
export function listRows(vms: VmInfo[], volumes: { id: string; name: string; attachedTo?: string }[]): ListRow[] {
  const rows: ListRow[] = [];
  const used = new Set<string>();
  for (const vm of vms) {
    const owner = vm.owner?.name ?? vm.name;
    const volume = volumes.find((v) => vm.volumes.some((a) => a.volumeId === v.id)) ?? volumes.find((v) => v.name === `${owner}-data` && !v.attachedTo);
    if (volume && vm.volumes.some((a) => a.volumeId === volume.id)) used.add(volume.id);
    const address = vm.addresses[0] ?? null;
    rows.push({
      name: owner,
      generation: vm.owner?.generation ?? null,
      vm: vm.name,
      state: vm.state,
      image: vm.image || null,
      address,
      url: pmmUrl(address ?? undefined) ?? null,
      dataVolume: volume && vm.volumes.some((a) => a.volumeId === volume.id) ? volume.name : null,
      dataVolumeId: volume && vm.volumes.some((a) => a.volumeId === volume.id) ? volume.id : null,
    });
  }
  for (const v of volumes) {
    if (used.has(v.id) || v.attachedTo) continue;
    rows.push({ name: v.name.replace(/-data$/, ''), generation: null, vm: null, state: 'no VM', image: null, address: null, url: null, dataVolume: v.name, dataVolumeId: v.id });
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name) || (a.generation ?? 0) - (b.generation ?? 0));
}

export function formatTable(rows: ListRow[]): string {
  const header = ['NAME', 'GEN', 'VM', 'STATE', 'IMAGE', 'URL', 'DATA VOLUME'];
  const cells = rows.map((r) => [r.name, r.generation === null ? '-' : String(r.generation), r.vm ?? '-', r.state, r.image ?? '-', r.url ?? '-', r.dataVolume ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  return [header, ...cells].map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] as number))).join('  ')).join('\n');
}

export async function runList(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, LIST_FLAGS);
  if (flags.help) return void process.stdout.write(commandHelp('list')), 0;
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const { acrossProviders, reportFailures } = await import('./across.js');
  const { answers, rows } = await acrossProviders(flags, async (provider) => {
    const { vms, volumes } = await provider.list();
    return listRows(vms, volumes);
  });
  const named = answers.map((a) => a.name);
  if (flags.json) jsonOut('list', { ...(named.length === 1 ? { provider: named[0] } : {}), providers: answers, vms: rows });
  else if (rows.length === 0) process.stdout.write(`no cnvm VMs on ${named.join(', ')} here\n`);
  else if (named.length === 1) process.stdout.write(`${formatTable(rows)}\n`);
  else {
    // Several providers: the same table with the provider first.
    const [head = '', ...lines] = formatTable(rows).split('\n');
    const width = Math.max('PROVIDER'.length, ...rows.map((r) => r.provider.length));
    process.stdout.write(`${'PROVIDER'.padEnd(width)}  ${head}\n${lines.map((l, i) => `${(rows[i]?.provider ?? '').padEnd(width)}  ${l}`).join('\n')}\n`);
  }
  return reportFailures(answers);
}

function sshOptions(flags: Flags): SshOptions {
  const identity = str(flags, 'identity');
  return { ...(identity ? { identity } : {}), options: (flags['ssh-option'] as string[] | undefined) ?? [] };
}

async function sshTarget(flags: Flags, name: string) {
  const { provider, store } = await providerOf(flags, name);
  const vm = await currentVm(provider, store, name);
  return { vm, target: { vmName: vm.name, address: vm.addresses[0] ?? '', knownHostsFile: pathUnder(store.dir, 'known_hosts', `${provider.name}-${vm.name}`) } };
}

/** Runs ssh with the terminal handed over; its exit status is the command's (the remote command's, or 255). */
async function runInteractive(argv: string[], knownHostsFile: string): Promise<number> {
  const { mkdirSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  mkdirSync(dirname(knownHostsFile), { recursive: true, mode: 0o700 });
  const { execa } = await import('execa');
  const [file, ...args] = argv as [string, ...string[]];
  // Ctrl-C reaches ssh through the shared terminal; cnvm waits for it to exit rather than dying first.
  const ignore = (): void => undefined;
  process.on('SIGINT', ignore);
  const r = await execa(file, args, { stdio: 'inherit', reject: false }).finally(() => process.off('SIGINT', ignore));
  if (r.failed && r.exitCode === undefined) throw new CnvmError('io', `cannot run ${file}: ${r.shortMessage}`);
  return r.exitCode ?? 255;
}

export async function runSsh(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, SSH_FLAGS);
  if (flags.help) return void process.stdout.write(commandHelp('ssh')), 0;
  const { name, rest } = vmName(flags, positionals, 'ssh');
  const { vm, target } = await sshTarget(flags, name);
  const command = sshArgv(target, { ...sshOptions(flags), command: rest });
  if (flags['dry-run']) {
    if (flags.json) jsonOut('ssh', { dryRun: true, name, vm: vm.name, argv: command });
    else process.stdout.write(`${command.join(' ')}\n`);
    return 0;
  }
  return runInteractive(command, target.knownHostsFile);
}

export async function runConsole(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, CONSOLE_FLAGS);
  if (flags.help) return void process.stdout.write(commandHelp('console')), 0;
  const { name, rest } = vmName(flags, positionals, 'console');
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const { provider, store } = await providerOf(flags, name);
  const vm = await currentVm(provider, store, name);
  if (!provider.consoleOutput) throw new CnvmError('provider', `${provider.name} gives no console output`);
  const output = (await provider.consoleOutput(vm.name)) ?? '';
  const tail = lastLines(flags);
  const text = tail === undefined ? output : output.split('\n').slice(-tail - 1).join('\n');
  if (flags.json) jsonOut('console', { name, vm: vm.name, output: text });
  else process.stdout.write(text.endsWith('\n') || !text ? text : `${text}\n`);
  if (!output && !flags.json) process.stderr.write(`cnvm: ${vm.name} has printed nothing on its serial console yet\n`);
  return 0;
}

function lastLines(flags: Flags): number | undefined {
  const v = str(flags, 'lines');
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--lines must be a whole number ≥ 1, got ${JSON.stringify(v)}`);
  return Number(v);
}

export async function runLogs(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, LOGS_FLAGS);
  if (flags.help) return void process.stdout.write(commandHelp('logs')), 0;
  const { name, rest } = vmName(flags, positionals, 'logs');
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const lines = lastLines(flags);
  const json = flags.json === true;
  if (flags.ignition) {
    if (flags.follow || str(flags, 'unit')) throw new UsageError('--ignition reads the first boot from the console: no --unit or --follow');
    const { provider, store } = await providerOf(flags, name);
    const vm = await currentVm(provider, store, name);
    if (!provider.consoleOutput) throw new CnvmError('provider', `${provider.name} gives no console output to read Ignition's result from`);
    const found = ignitionLines((await provider.consoleOutput(vm.name)) ?? '');
    const shown = lines === undefined ? found : found.slice(-lines);
    if (json) jsonOut('logs', { name, vm: vm.name, source: 'ignition', lines: shown });
    else if (shown.length) process.stdout.write(`${shown.join('\n')}\n`);
    else process.stderr.write(`cnvm: no Ignition lines in ${vm.name}'s console output (yet)\n`);
    return 0;
  }
  if (flags.follow && json) throw new UsageError('--follow streams the journal; it cannot be one JSON document');
  const unit = str(flags, 'unit') ?? 'pmm-server';
  const { vm, target } = await sshTarget(flags, name);
  const command = sshArgv(target, { ...sshOptions(flags), command: journalCommand(unit, { ...(lines ? { lines } : {}), follow: flags.follow === true }) });
  if (flags['dry-run']) {
    if (json) jsonOut('logs', { dryRun: true, name, vm: vm.name, argv: command });
    else process.stdout.write(`${command.join(' ')}\n`);
    return 0;
  }
  if (!json) return runInteractive(command, target.knownHostsFile);
  const { mkdirSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  mkdirSync(dirname(target.knownHostsFile), { recursive: true, mode: 0o700 });
  const { execa } = await import('execa');
  const [file, ...args] = command as [string, ...string[]];
  const r = await execa(file, args, { stdin: 'ignore', stdout: 'pipe', stderr: 'inherit', reject: false });
  if (r.exitCode !== 0) throw new CnvmError('provider', `ssh to ${vm.name} failed (exit ${r.exitCode ?? r.shortMessage})`);
  jsonOut('logs', { name, vm: vm.name, source: 'journal', unit, lines: String(r.stdout).split('\n').filter(Boolean) });
  return 0;
}

