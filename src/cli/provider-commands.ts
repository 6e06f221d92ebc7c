// `cnvm provision | upgrade | status | destroy | config show`: flags → settings → the VM's desired state, then the
// lifecycle functions; this layer only parses, prints and asks. Every input is checked before the first side
// effect; --dry-run prints the plan the real run would execute.
import type { PlanStep } from '../lifecycle/plan.js';
import type { UpgradeEvent } from '../lifecycle/upgrade.js';
import type { SettingValues } from '../provider/registry.js';
import { parseArgs } from './args.js';
import { commandHelp } from './help.js';
import { UsageError } from './errors.js';
import { checkedVmName, checkWritableState } from './checked-flags.js';
import { desiredFrom, fromFlag, readPasswordFile } from './inputs.js';
import { withConcretePmmTag } from './pmm-tag.js';
import { versionSkewLine } from './skew.js';
import { CONFIG_FLAGS, DESTROY_FLAGS, PROVISION_FLAGS, STATUS_FLAGS, UPGRADE_FLAGS } from './lifecycle-flags.js';
import { jsonOut } from './output.js';
import type { Progress } from './progress.js';

import { confirm, noteTo, progressFor, providerFor, required, resolveImage, settingsFrom, storeFrom, str, type Flags } from './provider-context.js';

export { DESTROY_FLAGS, PROVISION_FLAGS, STATUS_FLAGS, UPGRADE_FLAGS } from './lifecycle-flags.js';
export { confirm, noteTo, progressFor, providerFor, required, resolveImage, settingsFrom, storeFrom, type Flags } from './provider-context.js';

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


export async function runProvision(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, PROVISION_FLAGS);
  if (flags.help) return void process.stdout.write(commandHelp('provision')), 0;
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const name = checkedVmName(str(flags, 'name'));
  const providerName = required(flags, 'provider');
  const json = flags.json === true;
  const progress = await progressFor('provision', json);
  try {
    return await provisionWith(flags, name, providerName, json, progress);
  } finally {
    progress.stop();
  }
}

async function provisionWith(flags: Flags, name: string, providerName: string, json: boolean, progress: Progress): Promise<number> {
  const log = noteTo(progress);
  const { validateVmName } = await import('../lifecycle/names.js');
  validateVmName(name);
  if (str(flags, 'image') && flags.stream) throw new UsageError('give --image or --stream, not both');
  const choices = ['admin-password-file', 'keep-password', 'allow-default-password'].filter((f) => flags[f] !== undefined);
  if (choices.length > 1) throw new UsageError(`give one of --${choices.join(', --')}`);
  const resolved = await settingsFrom(flags, providerName, name);
  const inputs = await withConcretePmmTag(await desiredFrom(resolved, providerName), resolved.origins['pmm.tag'] ?? 'pmm.tag', log);
  const passwordFile = str(flags, 'admin-password-file');
  const password = passwordFile
    ? { kind: 'file' as const, value: readPasswordFile(passwordFile, log) }
    : flags['keep-password']
      ? { kind: 'keep' as const }
      : flags['allow-default-password']
        ? { kind: 'default' as const }
        : undefined;
  const store = await storeFrom(flags);
  if (!flags['dry-run']) checkWritableState(store.dir);
  const { provider, module: mod, record } = await providerFor(providerName, resolved, store, name);
  const { planProvision, provision } = await import('../lifecycle/provision.js');
  const healthTimeout = typeof resolved.settings.health_timeout === 'number' ? resolved.settings.health_timeout : undefined;
  const stream = typeof resolved.settings.stream === 'string' ? resolved.settings.stream : 'stable';
  // The image: given, recorded, or the newest of the stream (downloaded before anything else happens; a dry run
  // shows a placeholder and downloads nothing).
  let image = inputs.defaults.image ?? record?.desired.image;
  if (!image) image = flags['dry-run'] ? { id: mod.imagePlaceholder(stream) } : await resolveImage(mod, stream, resolved.settings as SettingValues, progress);
  const skewLine = await versionSkewLine(image, str(flags, 'image-release'), log);
  const input = {
    name,
    defaults: { ...inputs.defaults, image },
    overrides: inputs.overrides,
    ...(password ? { password } : {}),
    ...(Object.keys(inputs.secretEnv).length ? { secretEnv: inputs.secretEnv } : {}),
    upgradeCommand: `cnvm upgrade --provider ${providerName}`,
    skipHealthCheck: flags['skip-health-check'] === true,
    ...(healthTimeout ? { healthTimeoutSec: healthTimeout } : {}),
  };
  if (flags['dry-run']) {
    const { formatChange } = await import('../lifecycle/desired.js');
    const plan = await planProvision(provider, store, input);
    printPlan(`provision ${name} on ${provider.name}${plan.isNew ? '' : ' (continuing: cnvm has a record of it)'}`, { ...plan, notes: [...(plan.notes ?? []), skewLine] }, plan.changes.map(formatChange), json, 'provision');
    return 0;
  }
  const { watchSteps } = await import('./watch.js');
  const watch = watchSteps(provider, progress, { skipHealthCheck: flags['skip-health-check'] === true, ...(healthTimeout ? { healthTimeoutSec: healthTimeout } : {}) });
  const result = await provision(watch.provider, store, input, watch.onEvent);
  if (!json) for (const w of result.warnings) log(`warning: ${w}`);
  if (json) {
    jsonOut('provision', {
      vm: result.vm,
      volume: result.volume,
      generation: result.generation,
      ...(result.url ? { url: result.url } : { urlMissing: result.urlMissing ?? 'no address yet' }),
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


export async function runUpgrade(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, UPGRADE_FLAGS);
  if (flags.help) return void process.stdout.write(commandHelp('upgrade')), 0;
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  if (flags.all || flags.select !== undefined) return (await import('./fleet.js')).runFleetUpgrade(flags);
  const name = checkedVmName(str(flags, 'name'));
  const providerName = required(flags, 'provider');
  const json = flags.json === true;
  const progress = await progressFor('upgrade', json);
  try {
    return await upgradeWith(flags, name, providerName, json, progress);
  } finally {
    progress.stop();
  }
}

async function upgradeWith(flags: Flags, name: string, providerName: string, json: boolean, progress: Progress): Promise<number> {
  const log = noteTo(progress);
  if (str(flags, 'image') && flags.stream) throw new UsageError('give --image or --stream, not both');
  const resolved = await settingsFrom(flags, providerName, name);
  const parsed = await desiredFrom(resolved, providerName);
  // Upgrade keeps the recorded tag unless this command line names one: only a flag's tag is made concrete here.
  const inputs = parsed.overrides.pmm?.tag !== undefined ? await withConcretePmmTag(parsed, resolved.origins['pmm.tag'] ?? '--pmm-tag', log) : parsed;
  const timeout = typeof resolved.settings.health_timeout === 'number' ? resolved.settings.health_timeout : undefined;
  const store = await storeFrom(flags);
  // A read-only or full state directory is found now, not after the old VM stopped (the journal is written each step).
  if (!flags['dry-run']) checkWritableState(store.dir);
  const { provider, module: mod } = await providerFor(providerName, resolved, store, name);
  const { planUpgrade, upgrade } = await import('../lifecycle/upgrade.js');
  const { Journal } = await import('../lifecycle/journal.js');
  const pending = Journal.for(store.dir, provider.name, name).read();
  const resuming = pending?.phase === 'forward' || pending?.phase === 'rollback';
  // Nothing to resume: say so at once, before anything (the image's stream metadata) is fetched.
  if (flags.resume === true && !resuming) {
    const { CnvmError } = await import('../errors.js');
    throw new CnvmError('not-found', `no interrupted upgrade of ${name} to resume (${Journal.for(store.dir, provider.name, name).path})`);
  }
  // Only --image/--stream on this command line pick the new image; a profile's `image` is the provisioning default.
  const stream = fromFlag(resolved, 'stream') && typeof resolved.settings.stream === 'string' ? resolved.settings.stream : 'stable';
  const flagImage = fromFlag(resolved, 'image') ? inputs.overrides.image : undefined;
  if (flags['dry-run']) {
    const { formatChange } = await import('../lifecycle/desired.js');
    const image = flagImage ?? { id: mod.imagePlaceholder(stream) };
    const skewLine = await versionSkewLine(image, str(flags, 'image-release'), log);
    const plan = await planUpgrade(provider, store, { name, overrides: { ...inputs.overrides, image }, keepOld: flags['keep-old'] === true, skipHealthCheck: flags['skip-health-check'] === true });
    printPlan(`upgrade ${name} on ${provider.name}`, { ...plan, notes: [...(plan.notes ?? []), skewLine] }, plan.changes.map(formatChange), json, 'upgrade');
    return 0;
  }
  if (!flags.yes && !(await confirm(resuming ? `Continue the interrupted upgrade of ${name}?` : `Upgrade ${name}? PMM is down from the old VM's stop until the new one is ready.`))) {
    throw new UsageError('not confirmed: pass --yes to upgrade without a terminal');
  }
  // Everything slow happens before the old VM stops: the image is resolved and downloaded first.
  const image = resuming && pending ? pending.image : (flagImage ?? (await resolveImage(mod, stream, resolved.settings as SettingValues, progress)));
  // A resumed upgrade already passed the check when it started; its image is the journal's.
  if (!resuming) await versionSkewLine(image, str(flags, 'image-release'), log);
  const events: UpgradeEvent[] = [];
  const skipHealthCheck = flags['skip-health-check'] === true;
  const { watchSteps } = await import('./watch.js');
  const watch = watchSteps(provider, progress, { skipHealthCheck, ...(timeout ? { healthTimeoutSec: timeout } : {}) });
  const result = await upgrade(
    watch.provider,
    store,
    {
      name,
      overrides: { ...inputs.overrides, image },
      skipHealthCheck,
      keepOld: flags['keep-old'] === true,
      resumeOnly: flags.resume === true,
      ...(timeout ? { healthTimeoutSec: timeout } : {}),
    },
    (e) => {
      // The lifecycle reports the gate skipped as `skip` (its step list says so), here as in the progress lines.
      events.push(e);
      watch.onEvent(e);
    },
  );
  // The lifecycle's result carries the URL (or why there is none), derived once in lifecycle/url.ts.
  if (json) jsonOut('upgrade', { ...result, events });
  else {
    const { formatChange } = await import('../lifecycle/desired.js');
    for (const c of result.changes) log(`changed: ${formatChange(c)}`);
    process.stdout.write(`${name}: upgraded ${result.oldVm} → ${result.newVm} (${result.vm.state}); downtime ${(result.downtimeMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`PMM: ${result.url ?? `(${result.urlMissing ?? 'no address yet'})`}\n`);
    if (result.resumed) process.stdout.write(`resumed: done before the interruption: ${result.completed.before.join(', ') || '(none)'}; done now: ${result.completed.now.join(', ') || '(none)'}\n`);
    for (const f of result.forcedStops) log(`forced stop of ${f.vm} (${f.step}): ${f.detail}`);
  }
  return 0;
}

export async function runStatus(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, STATUS_FLAGS);
  if (flags.help) return void process.stdout.write(commandHelp('status')), 0;
  if (flags.all) return (await import('./status-all.js')).runStatusAll(flags);
  const name = checkedVmName(str(flags, 'name'));
  const providerName = required(flags, 'provider');
  const resolved = await settingsFrom(flags, providerName, name);
  const store = await storeFrom(flags);
  const { provider } = await providerFor(providerName, resolved, store, name);
  const { status } = await import('../lifecycle/status.js');
  const s = await status(provider, store, name);
  if (flags.json) {
    jsonOut('status', { name, status: s.record.status, generation: s.generation ?? null, vm: s.vm ?? null, volume: s.volume ?? null, others: s.others, desired: s.record.desired, ...(s.url ? { url: s.url } : { urlMissing: s.urlMissing ?? 'no address yet' }), address: s.record.address ?? null, addressing: s.addressing });
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
  if (flags.help) return void process.stdout.write(commandHelp('destroy')), 0;
  const name = checkedVmName(str(flags, 'name'));
  const providerName = required(flags, 'provider');
  const deleteData = flags['delete-data'] === true;
  if (deleteData && flags.yes !== true && flags['dry-run'] !== true) {
    throw new UsageError('--delete-data deletes the data volume and every byte of PMM data on it; add --yes to confirm');
  }
  const resolved = await settingsFrom(flags, providerName, name);
  const store = await storeFrom(flags);
  if (!flags['dry-run']) checkWritableState(store.dir);
  const { provider } = await providerFor(providerName, resolved, store, name);
  const { destroy, planDestroy } = await import('../lifecycle/destroy.js');
  if (flags['dry-run']) {
    printPlan(`destroy ${name} on ${provider.name}`, await planDestroy(provider, store, { name, deleteData }), [], flags.json === true, 'destroy');
    return 0;
  }
  const progress = await progressFor('destroy', flags.json === true);
  const { watchRemovals } = await import('./watch.js');
  const result = await destroy(watchRemovals(provider, progress), store, { name, deleteData }).finally(() => progress.stop());
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
  if (sub !== 'show') throw new UsageError(commandHelp('config show').trimEnd());
  const { flags } = parseArgs(rest, CONFIG_FLAGS);
  if (flags.help) return void process.stdout.write(commandHelp('config show')), 0;
  const resolved = await settingsFrom(flags, required(flags, 'provider'), str(flags, 'name'));
  const { formatResolved } = await import('../config/layers.js');
  const { maskSecrets } = await import('../config/secrets.js');
  const shown = maskSecrets(resolved); // secret-looking settings (PMM_*PASSWORD, *TOKEN, *SECRET, *KEY) as <hidden>
  if (flags.json) jsonOut('config show', shown);
  else process.stdout.write(`# layers: ${['defaults', ...shown.layers].join(' → ')}\n${formatResolved(shown)}`);
  return 0;
}
