// `cnvm upgrade`: a new VM on a new OS image takes over the same data volume.
//
// The steps, their order and the downtime window are one list, built in upgrade-steps.ts; here are the checks
// before the first side effect (`prepare`), the plan `--dry-run` prints, and the executor of each step kind. Every
// step is journaled before and after it runs; re-running the command resumes from the journal. The volume is never
// deleted or formatted, and the provider refuses to attach it to two VMs, so no order of crashes can put it on two;
// the address follows the volume before any VM starts.
import { CnvmError } from '../errors.js';
import { NotFoundError } from '../provider/errors.js';
import type { AccessRule, Provider, VmInfo } from '../provider/types.js';
import { renderVmConfig } from './config.js';
import { applyOverrides, diffDesired, type Change, type DesiredOverrides } from './desired.js';
import { gateFailure, waitHealthy, pmmReadyz, type HealthCheck } from './health.js';
import { pendingUpgrade, retiredNote } from './journal-binding.js';
import { Journal, JOURNAL_VERSION, type ForcedStop, type UpgradeJournal } from './journal.js';
import { completedSteps, doneKinds, downtimeMs, forcedStopNotice, type StepsCompleted } from './upgrade-report.js';
import { loadRecord } from './lookup.js';
import { addressName, dataVolumeName, generationName } from './names.js';
import type { PlanStep } from './plan.js';
import { runSteps, type Executors } from './steps/runner.js';
import { planView } from './steps/step.js';
import { upgradeSteps, type UpgradeFacts, type UpgradeStep, type UpgradeStepKind } from './upgrade-steps.js';
import { currentGeneration, nextGenerationNumber, recordForVm, type DesiredState, type RecordedAddress, type VmRecord } from './record.js';
import { scrubIfListed } from './scrub.js';
import { lockVm } from './lease.js';
import type { StateStore } from './store.js';
import { addressingNote, noUrlReason, pmmUrl, withStableAddress } from './url.js';

export { consoleHints } from './health.js';

export interface UpgradeRequest {
  name: string;
  /**
   * What changes: the new image (already downloaded/resolved, so nothing slow happens after the old VM stops) and
   * any other setting given explicitly. Everything else is the record's.
   */
  overrides: DesiredOverrides & { image: DesiredState['image'] };
  skipHealthCheck?: boolean;
  healthTimeoutSec?: number;
  keepOld?: boolean;
  /** Only resume an interrupted upgrade; fail if there is none. */
  resumeOnly?: boolean;
  healthCheck?: HealthCheck;
  healthIntervalMs?: number;
}

export interface UpgradeEvent {
  step: UpgradeStepKind | 'plan' | 'resume';
  status: 'start' | 'done' | 'skip' | 'failed';
  detail?: string;
  /** Milliseconds since the upgrade began. */
  at: number;
}

export interface UpgradeResult {
  outcome: 'upgraded' | 'rolled-back';
  oldVm: string;
  newVm: string;
  vm: VmInfo;
  /** From the old VM's stop to the new VM passing the gate (or starting, with the gate skipped). */
  downtimeMs: number;
  resumed: boolean;
  changes: Change[];
  /** The PMM URL after the upgrade (or the rollback); absent when no address is known yet. */
  url?: string;
  /** Why there is no URL, when there is none. */
  urlMissing?: string;
  /** The steps an interrupted run had done and the ones this run did. */
  completed: StepsCompleted;
  /** Stops the provider forced (journaled too). */
  forcedStops: ForcedStop[];
}

export class UpgradeError extends CnvmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('provider', message, options);
  }
}

/** Rolled back to the old VM after the new one failed; the data volume is back on the old VM. */
export class UpgradeRolledBackError extends CnvmError {
  constructor(
    message: string,
    readonly result: UpgradeResult,
  ) {
    super('rolled-back', message);
  }
}

interface Prepared {
  record: VmRecord;
  old: VmInfo;
  volumeId: string;
  volumeName: string;
  desired: DesiredState;
  changes: Change[];
  newGeneration: number;
  newVm: string;
  ignition: string;
  /** The stable address, when the provider reserves one and the VM has one already. */
  address?: RecordedAddress;
  /** Who may reach the VM now, before the new generation's creation changes it. */
  access?: AccessRule[];
}

/** Everything checked before the first side effect: the record, the old VM, the volume, the new config. */
async function prepare(provider: Provider, store: StateStore, req: Pick<UpgradeRequest, 'name' | 'overrides'>): Promise<Prepared> {
  const record = await loadRecord(provider, store, req.name);
  if (!record) throw new NotFoundError(`no VM named ${req.name} on ${provider.name} to upgrade; provision it first`);
  const gen = currentGeneration(record);
  const old = gen ? await provider.findVm(gen.vm) : undefined;
  if (!gen || !old) throw new NotFoundError(`${req.name}'s current VM ${gen?.vm ?? '(none)'} does not exist; run cnvm provision --name ${req.name} to create it again on the same data volume`);
  const volume = await provider.findVolume(dataVolumeName(req.name));
  if (!volume) throw new NotFoundError(`no data volume ${dataVolumeName(req.name)}`);
  if (volume.attachedTo !== old.name) throw new UpgradeError(`data volume ${volume.name} is not attached to ${old.name}`);
  const desired = applyOverrides(record.desired, req.overrides);
  const changes = diffDesired(record.desired, desired);
  if (desired.dataSizeGiB !== record.desired.dataSizeGiB) throw new CnvmError('usage', `--data-size: the data volume of ${req.name} is ${record.desired.dataSizeGiB} GiB; upgrade does not resize it`);
  // The next generation whose name is free (or already ours, from an earlier attempt): a VM someone else named
  // like NAME-gN is skipped, never taken over.
  let newGeneration = nextGenerationNumber(record);
  for (;;) {
    const holder = await provider.findVm(generationName(req.name, newGeneration));
    if (!holder || (holder.owner?.name === req.name && holder.owner.generation === newGeneration)) break;
    newGeneration++;
  }
  const newVm = generationName(req.name, newGeneration);
  // Same recipe, same device naming; no admin password: the data volume's PMM already holds it.
  const { ignition } = await renderVmConfig(provider, volume, desired, undefined);
  await provider.preflight({ name: newVm, image: desired.image, ignition });
  const found = provider.addressing.kind === 'reserved' ? (record.address ?? (await provider.findAddress?.(addressName(req.name)))) : undefined;
  const address = found ? { id: found.id, name: found.name, ip: found.ip } : undefined;
  const access = await provider.accessRules?.(req.name);
  return { record, old, volumeId: volume.id, volumeName: volume.name, desired, changes, newGeneration, newVm, ignition, ...(address ? { address } : {}), ...(access ? { access } : {}) };
}

/** What the step list of a planned upgrade is computed from. */
function factsOf(p: Prepared, req: Pick<UpgradeRequest, 'name' | 'keepOld' | 'skipHealthCheck'>): UpgradeFacts {
  return {
    name: req.name,
    oldVm: p.old.name,
    newVm: p.newVm,
    newGeneration: p.newGeneration,
    image: p.desired.image,
    volumeId: p.volumeId,
    volumeName: p.volumeName,
    ...(p.address ? { address: { id: p.address.id, ip: p.address.ip } } : {}),
    keepOld: req.keepOld === true,
    skipHealthCheck: req.skipHealthCheck === true,
    oldHoldsPassword: p.record.password.inConfigOf?.includes(p.old.name) === true,
  };
}

/** The forward steps apply would run and what they touch, for --dry-run; nothing is called but reads. */
export async function planUpgrade(
  provider: Provider,
  store: StateStore,
  req: Pick<UpgradeRequest, 'name' | 'overrides' | 'keepOld' | 'skipHealthCheck'>,
): Promise<{ steps: PlanStep[]; keeps: string[]; changes: Change[]; notes: string[] }> {
  const p = await prepare(provider, store, req);
  return {
    changes: p.changes,
    steps: planView(upgradeSteps(provider, factsOf(p, req)).filter((s) => s.stage !== 'rollback')),
    keeps: [
      `data volume ${p.volumeName} (${p.volumeId}): never deleted or formatted`,
      ...(p.address ? [`address ${p.address.ip} (${p.address.id}): PMM's clients keep their server`] : []),
      'everything else the record holds (sizes, network, keys, PMM tag and settings) unless changed above',
      ...(req.keepOld ? [`old VM ${p.old.name} (stopped)`] : []),
    ],
    notes: [addressingNote(provider)],
  };
}

/**
 * The step list of a journaled upgrade: the one it stored, or, for a version 1 journal (which stored none), the
 * list computed again from what it recorded. Every step is idempotent, so a step the old version ran under
 * another rule runs again harmlessly.
 */
function journaledSteps(provider: Provider, j: UpgradeJournal): UpgradeStep[] {
  if (j.plan) return j.plan.map((s) => ({ ...s, actions: [] }));
  return upgradeSteps(provider, {
    name: j.name,
    oldVm: j.oldVm,
    newVm: j.newVm,
    newGeneration: j.newGeneration,
    image: j.image,
    volumeId: j.volumeId,
    volumeName: dataVolumeName(j.name),
    ...(j.addressId ? { address: { id: j.addressId } } : {}),
    keepOld: j.keepOld,
    skipHealthCheck: j.skipHealthCheck,
    // Unknown to version 1: its executor checks the record.
    oldHoldsPassword: j.keepOld,
  });
}

export async function upgrade(provider: Provider, store: StateStore, req: UpgradeRequest, onEvent: (e: UpgradeEvent) => void = () => {}): Promise<UpgradeResult> {
  const lock = await lockVm(provider, store, req.name, 'upgrade');
  try {
    return await runUpgrade(provider, store, req, onEvent);
  } finally {
    await lock.release();
  }
}

async function runUpgrade(provider: Provider, store: StateStore, req: UpgradeRequest, onEvent: (e: UpgradeEvent) => void): Promise<UpgradeResult> {
  const t0 = Date.now();
  const emit = (step: UpgradeEvent['step'], status: UpgradeEvent['status'], detail?: string): void =>
    onEvent({ step, status, at: Date.now() - t0, ...(detail ? { detail } : {}) });
  const journal = Journal.for(store.dir, provider.name, req.name);
  const pending = await pendingUpgrade(provider, store, req.name);
  if (pending.retired) emit('resume', 'skip', retiredNote(req.name, pending.retired));
  // Only an unfinished journal about this VM's volume comes back: that is what is resumed.
  let j = pending.journal;
  const resumed = j !== undefined;
  let changes: Change[] = [];
  let ignition: string | undefined;

  if (resumed && j) {
    emit('resume', 'start', `continuing the ${j.phase === 'rollback' ? 'rollback' : 'upgrade'} of ${j.oldVm} → ${j.newVm} from ${journal.path}`);
  } else {
    if (req.resumeOnly) throw new CnvmError('not-found', `no interrupted upgrade of ${req.name} to resume (${journal.path})`);
    const p = await prepare(provider, store, req);
    changes = p.changes;
    ignition = p.ignition;
    const steps = upgradeSteps(provider, factsOf(p, req));
    j = {
      version: JOURNAL_VERSION,
      provider: provider.name,
      name: req.name,
      volumeId: p.volumeId,
      oldVm: p.old.name,
      newVm: p.newVm,
      newGeneration: p.newGeneration,
      image: p.desired.image,
      desired: p.desired,
      previousDesired: p.record.desired,
      ...(p.address ? { addressId: p.address.id } : {}),
      ...(p.access ? { accessBefore: p.access } : {}),
      keepOld: req.keepOld === true,
      skipHealthCheck: req.skipHealthCheck === true,
      phase: 'forward',
      plan: steps.map(({ actions: _requests, ...step }) => step),
      steps: {},
      startedAt: new Date().toISOString(),
    };
    journal.write(j);
  }
  const state: UpgradeJournal = j as UpgradeJournal;
  const doneAtStart = resumed ? doneKinds(state) : new Set<UpgradeStepKind>();
  const forced = (step: UpgradeStepKind, vm: string) => forcedStopNotice(journal, state, step, vm);
  const accessBack = async (): Promise<void> => void (state.accessBefore && provider.restoreAccess ? await provider.restoreAccess(state.name, state.accessBefore) : undefined);
  let downtimeStart: number | undefined;
  let downtimeEnd: number | undefined;

  /** The record as it will be once the new generation holds the volume. */
  const recordAfter = async (): Promise<VmRecord> => {
    const r = await loadRecord(provider, store, state.name);
    if (!r) throw new NotFoundError(`cnvm's record of ${state.name} disappeared during the upgrade`);
    const generations = r.generations.filter((g) => g.generation !== state.newGeneration);
    generations.push({ generation: state.newGeneration, vm: state.newVm, image: state.image, createdAt: new Date().toISOString() });
    return { ...r, desired: state.desired, generations, current: state.newGeneration, status: 'ready' };
  };
  /** The address step: the stable address onto `vmName` (stopped), so it answers there once started. */
  const moveAddress = async (vmName: string): Promise<void> => void (state.addressId && provider.assignAddress ? await provider.assignAddress(state.addressId, vmName) : undefined);
  /** The old VM's stored config without the admin password, when the record says it still holds it. */
  const scrubOld = async (): Promise<void> => {
    const volume = await provider.findVolume(dataVolumeName(state.name));
    if (volume) await scrubIfListed(provider, store, state.name, volume, state.previousDesired ?? state.desired, state.oldVm);
  };
  const addressOf = async (): Promise<RecordedAddress | undefined> => (await loadRecord(provider, store, state.name))?.address;

  const executors: Executors<UpgradeStep> = {
    'reserve-address': async () => {
      if (provider.addressing.kind !== 'reserved' || !provider.reserveAddress || state.addressId) return;
      // A VM provisioned before cnvm reserved addresses: it gets one now, while the old VM still serves.
      const a = await provider.reserveAddress(addressName(state.name), state.name);
      state.addressId = a.id;
      journal.write(state);
      const r = await loadRecord(provider, store, state.name);
      if (r) store.writeRecord({ ...r, address: { id: a.id, name: a.name, ip: a.ip } });
    },
    'create-new': async () => {
      const volume = await provider.findVolume(dataVolumeName(state.name));
      if (!volume) throw new UpgradeError(`data volume ${dataVolumeName(state.name)} disappeared`);
      const config = ignition ?? (await renderVmConfig(provider, volume, state.desired, undefined)).ignition;
      await provider.createVm({
        name: state.newVm,
        image: state.image,
        ignition: config,
        ...(state.desired.memoryMiB ? { memoryMiB: state.desired.memoryMiB } : {}),
        ...(state.desired.cpus ? { cpus: state.desired.cpus } : {}),
        owner: { name: state.name, generation: state.newGeneration },
        record: recordForVm(await recordAfter()),
      }, forced('create-new', state.newVm));
    },
    'stop-old': async () => void (await provider.stopVm(state.oldVm, forced('stop-old', state.oldVm))),
    'detach-old': async () => void (await provider.detachVolume(state.oldVm, state.volumeId)),
    'attach-new': async () => void (await provider.attachVolume(state.newVm, state.volumeId)),
    'move-address': () => moveAddress(state.newVm),
    'start-new': async () => void (await provider.startVm(state.newVm)),
    health: async () => {
      const address = await addressOf();
      const timeoutSec = req.healthTimeoutSec ?? 900;
      const healthy = await waitHealthy(req.healthCheck ?? pmmReadyz, async () => withStableAddress(await provider.findVm(state.newVm), address), timeoutSec, req.healthIntervalMs);
      if (!healthy) throw new UpgradeError(await gateFailure(provider, state.newVm, timeoutSec));
    },
    'scrub-kept-old': () => scrubOld(),
    'destroy-old': async () => void (await provider.destroyVm(state.oldVm)),
    'stop-new': async () => void ((await provider.findVm(state.newVm)) ? await provider.stopVm(state.newVm, forced('stop-new', state.newVm)) : undefined),
    'detach-new': async () => void ((await provider.findVm(state.newVm)) ? await provider.detachVolume(state.newVm, state.volumeId) : undefined),
    'attach-old': async () => void (await provider.attachVolume(state.oldVm, state.volumeId)),
    'address-back': () => moveAddress(state.oldVm),
    'access-back': () => accessBack(),
    'scrub-old': () => scrubOld(),
    'start-old': async () => void (await provider.startVm(state.oldVm)),
    'destroy-new': async () => void (await provider.destroyVm(state.newVm)),
  };

  const steps = journaledSteps(provider, state);
  const stage = (name: UpgradeStep['stage']): UpgradeStep[] => steps.filter((s) => s.stage === name);
  const reported = () => ({ completed: completedSteps(steps, doneAtStart, state), forcedStops: state.forcedStops ?? [] });
  const run = (list: UpgradeStep[]): Promise<void> =>
    runSteps(list, executors, {
      emit: (e) => emit(e.step as UpgradeStepKind, e.status, e.detail),
      journal: { isDone: (kind) => state.steps[kind as UpgradeStepKind]?.status === 'done', mark: (kind, status) => journal.mark(state, kind as UpgradeStepKind, status) },
      // The window is measured around the provider calls themselves: the journal's writes after the last step
      // (each an fsync) are not downtime, PMM already answers.
      onRun: (step, moment) => {
        if (step.downtime === 'opens' && moment === 'before') downtimeStart = Date.now();
        if (step.downtime === 'closes' && moment === 'after') downtimeEnd = Date.now();
      },
    });

  if (state.phase === 'forward') {
    try {
      await run(stage('switch'));
    } catch (err) {
      // Before the new VM ever starts, a failure leaves the old VM able to serve: put it back and stop there.
      if (isInjected(err)) throw err;
      await restoreOld(state, provider, moveAddress, accessBack);
      state.phase = 'rolled-back';
      state.error = (err as Error).message;
      journal.write(state);
      throw new UpgradeError(`upgrade of ${state.name} stopped before the new VM started: ${(err as Error).message}; ${state.oldVm} is serving again`, { cause: err });
    }
    try {
      await run(stage('bring-up'));
    } catch (err) {
      if (isInjected(err)) throw err;
      state.phase = 'rollback';
      state.error = (err as Error).message;
      journal.write(state);
      emit('health', 'failed', state.error);
    }
  }
  if (state.phase === 'rollback') {
    await run(stage('rollback'));
    state.phase = 'rolled-back';
    journal.write(state);
    const vm = await provider.findVm(state.oldVm);
    const url = pmmUrl(vm, await addressOf());
    const result: UpgradeResult = { outcome: 'rolled-back', oldVm: state.oldVm, newVm: state.newVm, vm: vm as VmInfo, downtimeMs: 0, resumed, changes, ...(url ? { url } : { urlMissing: noUrlReason(vm) }), ...reported() };
    throw new UpgradeRolledBackError(`the new VM ${state.newVm} failed (${state.error ?? 'unknown'}); rolled back: ${state.oldVm} runs with the data volume again (PMM: ${url ?? noUrlReason(vm)})`, result);
  }
  if (state.phase === 'forward') {
    // The new generation holds the volume: the record says so before the old VM goes.
    const after = await recordAfter();
    if (!state.keepOld) {
      after.generations = after.generations.filter((g) => g.vm !== state.oldVm);
      // The old VM and its stored config go: nothing of the password is left there to clean.
      const rest = (after.password.inConfigOf ?? []).filter((v) => v !== state.oldVm);
      const { inConfigOf: _gone, ...password } = after.password;
      after.password = rest.length ? { ...password, inConfigOf: rest } : password;
    }
    store.writeRecord(after);
    await run(stage('finish'));
    // PMM came up on the data volume: its admin password is applied, so cnvm's copy of the secret can go.
    if (!state.skipHealthCheck) store.removeSecret(state.provider, state.name);
    state.phase = 'done';
    journal.write(state);
  }
  const vm = await provider.findVm(state.newVm);
  const downtime = downtimeMs(steps, state, { ...(downtimeStart !== undefined ? { start: downtimeStart } : {}), ...(downtimeEnd !== undefined ? { end: downtimeEnd } : {}) });
  const url = pmmUrl(vm, await addressOf());
  return { outcome: 'upgraded', oldVm: state.oldVm, newVm: state.newVm, vm: vm as VmInfo, downtimeMs: downtime, resumed, changes, ...(url ? { url } : { urlMissing: noUrlReason(vm) }), ...reported() };
}

/** Test hook: crashes injected by test doubles must propagate untouched, like a killed process. */
const isInjected = (err: unknown): boolean => err instanceof Error && err.name === 'InjectedCrash';

/**
 * Early failure (before the new VM started): the volume, the address and who may reach it go back to the old VM,
 * which is started again.
 */
async function restoreOld(state: UpgradeJournal, provider: Provider, moveAddress: (vmName: string) => Promise<unknown>, accessBack: () => Promise<void>): Promise<void> {
  const next = await provider.findVm(state.newVm);
  if (next?.volumes.some((v) => v.volumeId === state.volumeId)) await provider.detachVolume(state.newVm, state.volumeId);
  const old = await provider.findVm(state.oldVm);
  if (old && !old.volumes.some((v) => v.volumeId === state.volumeId)) await provider.attachVolume(state.oldVm, state.volumeId);
  await moveAddress(state.oldVm);
  await accessBack();
  await provider.startVm(state.oldVm);
  await provider.destroyVm(state.newVm);
}
