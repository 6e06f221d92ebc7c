// `cnvm provision | upgrade | status | destroy | config show`: flags → settings → the VM's desired state, then the
// lifecycle functions; this layer only parses, prints and asks. Every input is checked before the first side
// effect; --dry-run prints the plan the real run would execute.
import type { PlanStep } from '../lifecycle/plan.js';
import type { StateStore } from '../lifecycle/store.js';
import type { SettingValues } from '../provider/registry.js';
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { desiredFrom, fromFlag, readPasswordFile } from './inputs.js';
import { CONFIG_FLAGS, DESTROY_FLAGS, FLAG_SETTINGS, NUMERIC_SETTINGS, PROVISION_FLAGS, STATUS_FLAGS, UPGRADE_FLAGS } from './lifecycle-flags.js';
import { jsonOut } from './output.js';

export { DESTROY_FLAGS, PROVISION_FLAGS, STATUS_FLAGS, UPGRADE_FLAGS } from './lifecycle-flags.js';

type Flags = Record<string, string | boolean | string[] | undefined>;
const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

function required(flags: Flags, name: string): string {
  const v = str(flags, name);
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

/** The layered settings (profile → stage → host file → flags) for this command line. */
export async function settingsFrom(flags: Flags, provider: string, name?: string) {
  const { providerModule } = await import('../provider/registry.js');
  providerModule(provider); // an unknown --provider is a usage error before any file is read
  const { resolveSettings } = await import('../config/layers.js');
  const values: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  for (const [flag, path] of Object.entries(FLAG_SETTINGS)) {
    const v = flags[flag];
    if (v === undefined || v === false) continue;
    const parts = path.split('.');
    let into = values;
    for (const part of parts.slice(0, -1)) into = (into[part] ??= {}) as Record<string, unknown>;
    const numeric = NUMERIC_SETTINGS.has(path);
    if (numeric && !/^\d+$/.test(String(v))) throw new UsageError(`--${flag} must be a whole number, got ${JSON.stringify(v)}`);
    into[parts[parts.length - 1] as string] = numeric ? Number(v) : v;
    origins[path] = `--${flag}`;
  }
  const stage = str(flags, 'stage');
  const configDir = str(flags, 'config-dir');
  return resolveSettings({ provider, ...(name ? { name } : {}), ...(stage ? { stage } : {}), ...(configDir ? { configDir } : {}), flags: { values, origins } });
}

type Resolved = Awaited<ReturnType<typeof settingsFrom>>;

async function storeFrom(flags: Flags): Promise<StateStore> {
  const [{ StateStore }, { defaultStateDir }] = await Promise.all([import('../lifecycle/store.js'), import('../lifecycle/journal.js')]);
  return new StateStore(str(flags, 'state-dir') ?? defaultStateDir());
}

/**
 * The provider, placed where the VM lives: from the record when this machine has one (so status, upgrade and
 * destroy need no --storage-dir/--zone repeated), else from the settings. A location flag that contradicts the
 * record is refused: the VM and its volume are where the record says.
 */
async function providerFor(providerName: string, resolved: Resolved, store: StateStore, name: string | undefined) {
  const [{ providerModule }, { createProvider }] = await Promise.all([import('../provider/registry.js'), import('../provider/index.js')]);
  const mod = providerModule(providerName);
  const record = name ? store.readRecord(providerName, name) : undefined;
  const settings: SettingValues = {};
  for (const decl of mod.settings) {
    const v = resolved.settings[decl.key];
    const recorded = record?.desired.placement[decl.key];
    if (record && decl.location && recorded !== undefined && fromFlag(resolved, decl.key) && JSON.stringify(v) !== JSON.stringify(recorded)) {
      throw new UsageError(`--${decl.flag} ${String(v)}: ${name} lives at ${decl.key} ${String(recorded)} (cnvm's record ${store.recordPath(providerName, name as string)}); a VM cannot be moved`);
    }
    const value = record && !decl.transient && !fromFlag(resolved, decl.key) && recorded !== undefined ? recorded : v;
    if (value !== undefined) settings[decl.key] = value as string | number | string[];
  }
  return { provider: await createProvider(providerName, settings), module: mod, record };
}

function printPlan(title: string, plan: { steps: PlanStep[]; keeps: string[]; notes?: string[]; changes?: { what: string }[]; warnings?: string[] }, changeLines: string[], json: boolean, command: string): void {
  if (json) {
    const { steps, keeps, notes, warnings } = plan;
    jsonOut(command, { dryRun: true, changes: plan.changes ?? [], steps, keeps, notes: notes ?? [], warnings: warnings ?? [] });
    return;
  }
  process.stdout.write(`${title} (dry run: nothing is changed)\n`);
  if (changeLines.length) process.stdout.write(`changes against cnvm's record:\n${changeLines.map((l) => `  ${l}`).join('\n')}\n`);
  plan.steps.forEach((s, i) => {
    process.stdout.write(`${i + 1}. ${s.step}\n`);
    for (const a of s.actions) {
      const what = !Array.isArray(a.detail) ? `${a.action} ${JSON.stringify(a.detail)}` : a.action.startsWith(a.detail[0] ?? '\0') ? a.detail.join(' ') : `${a.action} ${a.detail.join(' ')}`;
      process.stdout.write(`   ${what}\n      → ${a.effect}\n`);
    }
  });
  for (const k of plan.keeps) process.stdout.write(`kept: ${k}\n`);
  for (const n of plan.notes ?? []) process.stdout.write(`${n}\n`);
  for (const w of plan.warnings ?? []) process.stdout.write(`warning: ${w}\n`);
}

const usage = (command: string, flags: FlagSpec[]): string => `Usage: cnvm ${command} --provider P --name NAME [flags]\n\n${flagHelp(flags)}\n`;
const logger = (json: boolean) => (line: string): void => void (json ? undefined : process.stderr.write(`${line}\n`));

export async function runProvision(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, PROVISION_FLAGS);
  if (flags.help) return void process.stdout.write(usage('provision', PROVISION_FLAGS)), 0;
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const name = required(flags, 'name');
  const providerName = required(flags, 'provider');
  const json = flags.json === true;
  const log = logger(json);
  const { validateVmName } = await import('../lifecycle/names.js');
  validateVmName(name);
  if (str(flags, 'image') && flags.stream) throw new UsageError('give --image or --stream, not both');
  const choices = ['admin-password-file', 'keep-password', 'allow-default-password'].filter((f) => flags[f] !== undefined);
  if (choices.length > 1) throw new UsageError(`give one of --${choices.join(', --')}`);
  const resolved = await settingsFrom(flags, providerName, name);
  const inputs = await desiredFrom(resolved, providerName);
  const passwordFile = str(flags, 'admin-password-file');
  const password = passwordFile
    ? { kind: 'file' as const, value: readPasswordFile(passwordFile, log) }
    : flags['keep-password']
      ? { kind: 'keep' as const }
      : flags['allow-default-password']
        ? { kind: 'default' as const }
        : undefined;
  const store = await storeFrom(flags);
  const { provider, module: mod, record } = await providerFor(providerName, resolved, store, name);
  const { planProvision, provision } = await import('../lifecycle/provision.js');
  const healthTimeout = typeof resolved.settings.health_timeout === 'number' ? resolved.settings.health_timeout : undefined;
  const stream = typeof resolved.settings.stream === 'string' ? resolved.settings.stream : 'stable';
  // The image: given, recorded, or the newest of the stream (downloaded before anything else happens; a dry run
  // shows a placeholder and downloads nothing).
  let image = inputs.defaults.image ?? record?.desired.image;
  if (!image) image = flags['dry-run'] ? { id: mod.imagePlaceholder(stream) } : await mod.resolveImage(stream, resolved.settings as SettingValues, log);
  const input = {
    name,
    defaults: { ...inputs.defaults, image },
    overrides: inputs.overrides,
    ...(password ? { password } : {}),
    upgradeCommand: `cnvm upgrade --provider ${providerName}`,
    skipHealthCheck: flags['skip-health-check'] === true,
    ...(healthTimeout ? { healthTimeoutSec: healthTimeout } : {}),
  };
  if (flags['dry-run']) {
    const { formatChange } = await import('../lifecycle/desired.js');
    const plan = await planProvision(provider, store, input);
    printPlan(`provision ${name} on ${provider.name}${plan.isNew ? '' : ' (continuing: cnvm has a record of it)'}`, plan, plan.changes.map(formatChange), json, 'provision');
    return 0;
  }
  const result = await provision(provider, store, input, (e) => log(`${e.step}: ${e.status}${e.detail ? ` (${e.detail})` : ''}`));
  for (const w of result.warnings) log(`warning: ${w}`);
  if (json) {
    jsonOut('provision', {
      vm: result.vm,
      volume: result.volume,
      generation: result.generation,
      url: result.url ?? null,
      address: result.address ?? null,
      health: result.health,
      storedConfig: result.storedConfig,
      secretRemoved: result.secretRemoved,
      adminPassword: result.generatedAdminPassword ?? null,
      notes: result.notes,
      warnings: result.warnings,
    });
  } else {
    for (const n of result.notes) log(`note: ${n}`);
    process.stdout.write(`${result.vm.name}: ${result.vm.state}; data volume ${result.volume.id} (${result.volume.sizeGiB} GiB, device ${result.volume.deviceName})\n`);
    process.stdout.write(`PMM: ${result.url ?? `(${result.urlMissing ?? 'no address yet'})`}\n`);
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

export async function runUpgrade(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, UPGRADE_FLAGS);
  if (flags.help) return void process.stdout.write(usage('upgrade', UPGRADE_FLAGS)), 0;
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const name = required(flags, 'name');
  const providerName = required(flags, 'provider');
  const json = flags.json === true;
  const log = logger(json);
  if (str(flags, 'image') && flags.stream) throw new UsageError('give --image or --stream, not both');
  const resolved = await settingsFrom(flags, providerName, name);
  const inputs = await desiredFrom(resolved, providerName);
  const timeout = typeof resolved.settings.health_timeout === 'number' ? resolved.settings.health_timeout : undefined;
  const store = await storeFrom(flags);
  const { provider, module: mod } = await providerFor(providerName, resolved, store, name);
  const { planUpgrade, upgrade } = await import('../lifecycle/upgrade.js');
  const { Journal } = await import('../lifecycle/journal.js');
  const pending = Journal.for(store.dir, provider.name, name).read();
  const resuming = pending?.phase === 'forward' || pending?.phase === 'rollback';
  // Only --image/--stream on this command line pick the new image; a profile's `image` is the provisioning default.
  const stream = fromFlag(resolved, 'stream') && typeof resolved.settings.stream === 'string' ? resolved.settings.stream : 'stable';
  const flagImage = fromFlag(resolved, 'image') ? inputs.overrides.image : undefined;
  if (flags['dry-run']) {
    const { formatChange } = await import('../lifecycle/desired.js');
    const image = flagImage ?? { id: mod.imagePlaceholder(stream) };
    const plan = await planUpgrade(provider, store, { name, overrides: { ...inputs.overrides, image }, keepOld: flags['keep-old'] === true });
    printPlan(`upgrade ${name} on ${provider.name}`, plan, plan.changes.map(formatChange), json, 'upgrade');
    return 0;
  }
  if (!flags.yes && !(await confirm(resuming ? `Continue the interrupted upgrade of ${name}?` : `Upgrade ${name}? PMM is down from the old VM's stop until the new one is ready.`))) {
    throw new UsageError('not confirmed: pass --yes to upgrade without a terminal');
  }
  // Everything slow happens before the old VM stops: the image is resolved and downloaded first.
  const image = resuming && pending ? pending.image : (flagImage ?? (await mod.resolveImage(stream, resolved.settings as SettingValues, log)));
  const events: unknown[] = [];
  const result = await upgrade(
    provider,
    store,
    {
      name,
      overrides: { ...inputs.overrides, image },
      skipHealthCheck: flags['skip-health-check'] === true,
      keepOld: flags['keep-old'] === true,
      resumeOnly: flags.resume === true,
      ...(timeout ? { healthTimeoutSec: timeout } : {}),
    },
    (e) => (json ? events.push(e) : log(`[${(e.at / 1000).toFixed(1)}s] ${e.step}: ${e.status}${e.detail ? ` (${e.detail})` : ''}`)),
  );
  if (json) jsonOut('upgrade', { ...result, events });
  else {
    const { formatChange } = await import('../lifecycle/desired.js');
    for (const c of result.changes) log(`changed: ${formatChange(c)}`);
    process.stdout.write(`${name}: upgraded ${result.oldVm} → ${result.newVm} (${result.vm.state}); downtime ${(result.downtimeMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`PMM: ${result.url ?? `(${result.urlMissing ?? 'no address yet'})`}\n`);
  }
  return 0;
}

export async function runStatus(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, STATUS_FLAGS);
  if (flags.help) return void process.stdout.write(usage('status', STATUS_FLAGS)), 0;
  const name = required(flags, 'name');
  const providerName = required(flags, 'provider');
  const resolved = await settingsFrom(flags, providerName, name);
  const store = await storeFrom(flags);
  const { provider } = await providerFor(providerName, resolved, store, name);
  const { status } = await import('../lifecycle/status.js');
  const s = await status(provider, store, name);
  if (flags.json) {
    jsonOut('status', { name, status: s.record.status, generation: s.generation ?? null, vm: s.vm ?? null, volume: s.volume ?? null, others: s.others, desired: s.record.desired, url: s.url ?? null, address: s.record.address ?? null, addressing: s.addressing });
  } else {
    process.stdout.write(s.vm ? `${name}: ${s.vm.state} (${s.vm.name}, generation ${s.generation ?? '?'}), image ${s.vm.image}\n` : `${name}: no VM (${s.record.status})\n`);
    process.stdout.write(`PMM: ${s.url ?? `(${s.urlMissing ?? 'no address yet'})`}\n`);
    if (s.others.length > 0) process.stdout.write(`other generations: ${s.others.join(', ')}\n`);
    process.stdout.write(s.volume ? `data volume ${s.volume.name}: ${s.volume.id}, ${s.volume.sizeGiB} GiB, ${s.volume.attachedTo ? `attached to ${s.volume.attachedTo}` : 'not attached'}\n` : 'no data volume\n');
  }
  return 0;
}

export async function runDestroy(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, DESTROY_FLAGS);
  if (flags.help) return void process.stdout.write(usage('destroy', DESTROY_FLAGS)), 0;
  const name = required(flags, 'name');
  const providerName = required(flags, 'provider');
  const deleteData = flags['delete-data'] === true;
  if (deleteData && flags.yes !== true && flags['dry-run'] !== true) {
    throw new UsageError('--delete-data deletes the data volume and every byte of PMM data on it; add --yes to confirm');
  }
  const resolved = await settingsFrom(flags, providerName, name);
  const store = await storeFrom(flags);
  const { provider } = await providerFor(providerName, resolved, store, name);
  const { destroy, planDestroy } = await import('../lifecycle/destroy.js');
  if (flags['dry-run']) {
    printPlan(`destroy ${name} on ${provider.name}`, await planDestroy(provider, store, { name, deleteData }), [], flags.json === true, 'destroy');
    return 0;
  }
  const result = await destroy(provider, store, { name, deleteData });
  if (flags.json) jsonOut('destroy', result);
  else {
    process.stdout.write(result.vmRemoved ? `${name}: removed ${result.removed.join(', ')}\n` : `${name}: no VM\n`);
    if (result.volumeKept) process.stdout.write(`kept data volume ${result.volumeKept} and cnvm's record (destroy --delete-data --yes removes them)\n`);
    if (result.volumeDeleted) process.stdout.write('data volume deleted\n');
    if (result.addressKept) process.stdout.write(`kept address ${result.addressKept} (reserved; a provision on the kept volume gets it back)\n`);
    if (result.addressReleased) process.stdout.write(`address ${result.addressReleased} released\n`);
  }
  return 0;
}

export async function runConfig(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'show') throw new UsageError(`Usage: cnvm config show --provider P [--name N] [--stage S]\n\n${flagHelp(CONFIG_FLAGS)}`);
  const { flags } = parseArgs(rest, CONFIG_FLAGS);
  if (flags.help) return void process.stdout.write(`Usage: cnvm config show --provider P [--name N] [--stage S]\n\n${flagHelp(CONFIG_FLAGS)}\n`), 0;
  const resolved = await settingsFrom(flags, required(flags, 'provider'), str(flags, 'name'));
  const { formatResolved } = await import('../config/layers.js');
  if (flags.json) jsonOut('config show', resolved);
  else process.stdout.write(`# layers: ${['defaults', ...resolved.layers].join(' → ')}\n${formatResolved(resolved)}`);
  return 0;
}
