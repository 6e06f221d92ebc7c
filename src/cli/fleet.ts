// `cnvm upgrade --all | --select GLOB`: the fleet upgrade (src/lifecycle/fleet.ts) from the command line. The
// image is resolved once, before any VM changes, and checked against the VM config's spec; each VM then runs its own
// upgrade with the settings this command line gives. Ctrl-C once: no new VM starts and the ones in flight finish
// (twice: stop at once, as any command). Exit: 0 all upgraded; 6 when a gate failed and was rolled back; the failure's
// own code otherwise; 130 when stopped by Ctrl-C. `--json`: one result per VM (docs/json-output.md).
import type { FleetEvent, FleetMember } from '../lifecycle/fleet.js';
import { EXIT_CODES } from './exit-codes.js';
import { UsageError } from './errors.js';
import { jsonResult } from './output.js';
import { confirm, noteTo, progressFor, providerFor, required, resolveImage, settingsFrom, storeFrom, type Flags } from './provider-context.js';
import { desiredFrom, fromFlag } from './inputs.js';
import { versionSkewLine } from './skew.js';
import type { SettingValues } from '../provider/registry.js';

const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

function count(flags: Flags, name: string, fallback: number): number {
  const v = str(flags, name);
  if (v === undefined) return fallback;
  if (!/^[1-9]\d{0,5}$/.test(v)) throw new UsageError(`--${name} must be a whole number ≥ 1, got ${JSON.stringify(v)}`);
  return Number(v);
}

export async function runFleetUpgrade(flags: Flags): Promise<number> {
  if (flags.name !== undefined) throw new UsageError('--all/--select upgrade a fleet: give them without --name');
  if (flags.all && flags.select !== undefined) throw new UsageError('give --all or --select, not both');
  if (flags['keep-old']) throw new UsageError('--keep-old is for one VM; a fleet deletes each old VM after its gate passes');
  const providerName = required(flags, 'provider');
  const glob = str(flags, 'select') ?? '*';
  if (glob === '' || !/^[A-Za-z0-9*?._-]+$/.test(glob)) throw new UsageError(`--select ${JSON.stringify(glob)}: a VM name glob of letters, digits, . _ - and the wildcards * ?`);
  // --stage both layers the stage's settings and narrows the fleet to the VMs placed with that stage.
  const stage = str(flags, 'stage');
  const selector = stage ? `${glob} in stage ${stage}` : glob;
  const batch = count(flags, 'batch', 1);
  const maxFailures = count(flags, 'max-failures', 1);
  const json = flags.json === true;
  const progress = await progressFor('upgrade', json);
  const log = noteTo(progress);
  try {
    const resolved = await settingsFrom(flags, providerName);
    const store = await storeFrom(flags);
    const { provider, module: mod } = await providerFor(providerName, resolved, store, undefined);
    const { fleetNames, fleetUpgrade, planFleet, FleetJournalFile } = await import('../lifecycle/fleet.js');
    const pending = FleetJournalFile.for(store, provider.name, selector).read();
    const names = pending ? [] : await fleetNames(provider, flags.all ? undefined : glob, stage);
    const stream = fromFlag(resolved, 'stream') && typeof resolved.settings.stream === 'string' ? resolved.settings.stream : 'stable';
    const flagImage = fromFlag(resolved, 'image') ? (await desiredFrom(resolved, providerName)).overrides.image : undefined;
    const dryRun = flags['dry-run'] === true;
    const placeholder = { id: mod.imagePlaceholder(stream) };
    // The image every member moves to: a resumed fleet keeps its own; otherwise resolved once, here.
    const image = pending?.image ?? flagImage ?? (dryRun ? placeholder : undefined);
    const plan = planFleet(provider, store, { selector, names, batch, maxFailures, image: image ?? placeholder, resumeOnly: flags.resume === true });
    if (dryRun) {
      const check = await versionSkewLine(image ?? placeholder, str(flags, 'image-release'), log);
      if (json) jsonResult('upgrade', true, { dryRun: true, fleet: { provider: plan.provider, selector, batch: plan.batch, maxFailures: plan.maxFailures, resumed: plan.resumed, done: plan.done, batches: plan.batches }, notes: [check] });
      else {
        process.stdout.write(`fleet upgrade of ${selector} on ${plan.provider}${plan.resumed ? ' (continuing)' : ''}: ${plan.batches.flat().length} VM${plan.batches.flat().length === 1 ? '' : 's'}, ${plan.batch} at a time, stop after ${plan.maxFailures} failed\n`);
        plan.batches.forEach((b, i) => process.stdout.write(`  batch ${i + 1}: ${b.join(', ')}\n`));
        if (plan.done.length) process.stdout.write(`  already upgraded: ${plan.done.join(', ')}\n`);
        process.stdout.write(`${check}\n`);
      }
      return 0;
    }
    if (!flags.yes && !(await confirm(`Upgrade ${plan.batches.flat().length} VMs (${plan.batch} at a time)? Each PMM is down from its old VM's stop until its new one is ready.`))) {
      throw new UsageError('not confirmed: pass --yes to upgrade without a terminal');
    }
    const target = image ?? (await resolveImage(mod, stream, resolved.settings as SettingValues, progress));
    if (!pending) await versionSkewLine(target, str(flags, 'image-release'), log);
    const { upgrade } = await import('../lifecycle/upgrade.js');
    const skipHealthCheck = flags['skip-health-check'] === true;
    const run = fleetUpgrade(
      provider,
      store,
      { selector, names, batch, maxFailures, image: target, resumeOnly: flags.resume === true },
      async (name, onEvent) => {
        // Each VM's own settings: its host file and record, with this command line's flags on top.
        const own = await settingsFrom(flags, providerName, name);
        const inputs = await desiredFrom(own, providerName);
        const timeout = typeof own.settings.health_timeout === 'number' ? own.settings.health_timeout : undefined;
        const { provider: p } = await providerFor(providerName, own, store, name);
        return upgrade(p, store, { name, overrides: { ...inputs.overrides, image: target }, skipHealthCheck, ...(timeout ? { healthTimeoutSec: timeout } : {}) }, onEvent);
      },
      (e) => report(e, log, progress),
    );
    const result = await withGentleSigint(run.stop, log, () => run.done);
    const failed = result.members.filter((m) => m.status === 'failed' || m.status === 'rolled-back');
    const code = result.stopped === 'interrupted' ? EXIT_CODES.interrupted : failed.length === 0 ? 0 : failed.some((m) => m.status === 'failed') ? (EXIT_CODES[(failed.find((m) => m.status === 'failed')?.error?.kind ?? 'provider') as keyof typeof EXIT_CODES] ?? EXIT_CODES.provider) : EXIT_CODES['rolled-back'];
    const summary = summarise(result.members, result.stopped);
    if (json) {
      jsonResult('upgrade', code === 0, {
        fleet: { provider: result.provider, selector, stopped: result.stopped ?? null, members: result.members },
        ...(code === 0 ? {} : { error: { kind: result.stopped === 'interrupted' ? 'interrupted' : failed[0]?.status === 'rolled-back' ? 'rolled-back' : (failed[0]?.error?.kind ?? 'provider'), message: summary, exitCode: code } }),
      });
    } else {
      for (const m of result.members) process.stdout.write(`${m.name}: ${m.status}${m.newVm && m.status === 'upgraded' ? ` → ${m.newVm}, downtime ${((m.downtimeMs ?? 0) / 1000).toFixed(1)} s` : ''}${m.error ? ` (${m.error.message.split('\n')[0]})` : ''}\n`);
      process.stdout.write(`${summary}\n`);
    }
    return code;
  } finally {
    progress.stop();
  }
}

function summarise(members: FleetMember[], stopped: string | undefined): string {
  const by = (s: FleetMember['status']): number => members.filter((m) => m.status === s).length;
  const parts = [`${by('upgraded')} upgraded`, `${by('rolled-back')} rolled back`, `${by('failed')} failed`, `${by('untouched')} untouched`];
  const why = stopped === 'max-failures' ? '; stopped: --max-failures reached (fix the cause, then run the same command with --resume)' : stopped === 'interrupted' ? '; stopped by Ctrl-C after the VMs in flight (run it again with --resume)' : '';
  return `fleet: ${parts.join(', ')}${why}`;
}

function report(e: FleetEvent, log: (line: string) => void, progress: { event(e: { step: string; status: string; detail?: string }): void }): void {
  if (e.kind === 'step' && e.step) {
    progress.event({ step: `${e.vm}:${e.step.step}`, status: e.step.status, ...(e.step.detail ? { detail: e.step.detail } : {}) });
    return;
  }
  if (e.kind === 'start') log(`${e.vm}: upgrading (batch ${e.batch})`);
  else if (e.kind === 'done') log(`${e.vm}: upgraded → ${e.detail ?? ''}`);
  else log(`${e.vm}: ${e.kind === 'rolled-back' ? 'rolled back' : 'failed'}: ${(e.detail ?? '').split('\n')[0]}`);
}

/** The first Ctrl-C asks the fleet to stop after the VMs in flight; a second one is the usual immediate stop. */
async function withGentleSigint<T>(stop: () => void, log: (line: string) => void, body: () => Promise<T>): Promise<T> {
  const usual = process.listeners('SIGINT');
  process.removeAllListeners('SIGINT');
  const gentle = (): void => {
    stop();
    log('cnvm: stopping after the VMs in flight (Ctrl-C again to stop now; --resume continues either way)');
    process.removeListener('SIGINT', gentle);
    for (const l of usual) process.once('SIGINT', l as () => void);
  };
  process.on('SIGINT', gentle);
  try {
    return await body();
  } finally {
    process.removeListener('SIGINT', gentle);
    for (const l of usual) if (!process.listeners('SIGINT').includes(l)) process.once('SIGINT', l as () => void);
  }
}
