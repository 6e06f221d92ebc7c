// `cnvm upgrade`: a new VM on a new OS image takes over the same data volume.
//
// Order (downtime is only steps 2–6): 1 create the new VM without the volume (before anything stops), 2 stop the
// old VM, 3 detach the volume, 4 attach it to the new VM, 5 start it, 6 wait for PMM's readiness, 7 delete the old
// VM (unless --keep-old). If 5 or 6 fails: stop the new VM, detach, reattach to the old one, start it, delete the
// new one. Every step is journaled before and after it runs; re-running the command resumes from the journal. The
// volume is never deleted or formatted, and the provider refuses to attach it to two VMs, so no order of crashes
// can put it on two.
import { CnvmError } from '../errors.js';
import { NotFoundError } from '../provider/errors.js';
import type { PlannedAction, Provider, VmInfo } from '../provider/types.js';
import { renderVmConfig } from './config.js';
import { applyOverrides, diffDesired, type Change, type DesiredOverrides } from './desired.js';
import { waitHealthy, pmmReadyz, type HealthCheck } from './health.js';
import { FORWARD_STEPS, Journal, ROLLBACK_STEPS, type StepName, type UpgradeJournal } from './journal.js';
import { loadRecord } from './lookup.js';
import { dataVolumeName, generationName } from './names.js';
import type { PlanStep } from './plan.js';
import { currentGeneration, nextGenerationNumber, recordForVm, type DesiredState, type VmRecord } from './record.js';
import type { StateStore } from './store.js';

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
  step: StepName | 'plan' | 'resume';
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
  return { record, old, volumeId: volume.id, volumeName: volume.name, desired, changes, newGeneration, newVm, ignition };
}

/** The steps and what they touch, for --dry-run; nothing is called but reads. */
export async function planUpgrade(provider: Provider, store: StateStore, req: Pick<UpgradeRequest, 'name' | 'overrides' | 'keepOld'>): Promise<{ steps: PlanStep[]; keeps: string[]; changes: Change[] }> {
  const p = await prepare(provider, store, req);
  const s = (step: string, actions: PlannedAction[]): PlanStep => ({ step, actions });
  return {
    changes: p.changes,
    steps: [
      s(`create ${p.newVm} (generation ${p.newGeneration}) on ${p.desired.image.version ?? p.desired.image.id} (old VM still serving)`, provider.plan.createVm({ name: p.newVm, image: p.desired.image, ignition: '<rendered>' })),
      s(`stop ${p.old.name} — downtime starts`, provider.plan.stopVm(p.old.name)),
      s(`detach ${p.volumeName} from ${p.old.name}`, provider.plan.detachVolume(p.old.name, p.volumeId)),
      s(`attach ${p.volumeName} to ${p.newVm}`, provider.plan.attachVolume(p.newVm, p.volumeId)),
      s(`start ${p.newVm}`, provider.plan.startVm(p.newVm)),
      s(`wait for PMM ${'/v1/server/readyz'} on ${p.newVm} — downtime ends; on failure roll back to ${p.old.name}`, []),
      ...(req.keepOld ? [] : [s(`delete ${p.old.name} and its boot disk`, provider.plan.destroyVm(p.old.name))]),
    ],
    keeps: [`data volume ${p.volumeName} (${p.volumeId}): never deleted or formatted`, 'everything else the record holds (sizes, network, keys, PMM tag and settings) unless changed above', ...(req.keepOld ? [`old VM ${p.old.name} (stopped)`] : [])],
  };
}

export async function upgrade(provider: Provider, store: StateStore, req: UpgradeRequest, onEvent: (e: UpgradeEvent) => void = () => {}): Promise<UpgradeResult> {
  const lock = store.lock(provider.name, req.name, 'upgrade');
  try {
    return await runUpgrade(provider, store, req, onEvent);
  } finally {
    lock.release();
  }
}

async function runUpgrade(provider: Provider, store: StateStore, req: UpgradeRequest, onEvent: (e: UpgradeEvent) => void): Promise<UpgradeResult> {
  const t0 = Date.now();
  const emit = (step: UpgradeEvent['step'], status: UpgradeEvent['status'], detail?: string): void =>
    onEvent({ step, status, at: Date.now() - t0, ...(detail ? { detail } : {}) });
  const journal = Journal.for(store.dir, provider.name, req.name);
  let j = journal.read();
  const resumed = !!j && (j.phase === 'forward' || j.phase === 'rollback');
  let changes: Change[] = [];
  let ignition: string | undefined;

  if (resumed && j) {
    emit('resume', 'start', `continuing the ${j.phase === 'rollback' ? 'rollback' : 'upgrade'} of ${j.oldVm} → ${j.newVm} from ${journal.path}`);
  } else {
    if (req.resumeOnly) throw new CnvmError('not-found', `no interrupted upgrade of ${req.name} to resume (${journal.path})`);
    const p = await prepare(provider, store, req);
    changes = p.changes;
    ignition = p.ignition;
    j = {
      version: 1,
      provider: provider.name,
      name: req.name,
      volumeId: p.volumeId,
      oldVm: p.old.name,
      newVm: p.newVm,
      newGeneration: p.newGeneration,
      image: p.desired.image,
      desired: p.desired,
      keepOld: req.keepOld === true,
      skipHealthCheck: req.skipHealthCheck === true,
      phase: 'forward',
      steps: {},
      startedAt: new Date().toISOString(),
    };
    journal.write(j);
  }
  const state: UpgradeJournal = j as UpgradeJournal;
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

  const forward: Record<(typeof FORWARD_STEPS)[number], () => Promise<unknown>> = {
    'create-new': async () => {
      const volume = await provider.findVolume(dataVolumeName(state.name));
      if (!volume) throw new UpgradeError(`data volume ${dataVolumeName(state.name)} disappeared`);
      const config = ignition ?? (await renderVmConfig(provider, volume, state.desired, undefined)).ignition;
      return provider.createVm({
        name: state.newVm,
        image: state.image,
        ignition: config,
        ...(state.desired.memoryMiB ? { memoryMiB: state.desired.memoryMiB } : {}),
        ...(state.desired.cpus ? { cpus: state.desired.cpus } : {}),
        owner: { name: state.name, generation: state.newGeneration },
        record: recordForVm(await recordAfter()),
      });
    },
    'stop-old': () => ((downtimeStart = Date.now()), provider.stopVm(state.oldVm)),
    'detach-old': () => provider.detachVolume(state.oldVm, state.volumeId),
    'attach-new': () => provider.attachVolume(state.newVm, state.volumeId),
    'start-new': () => provider.startVm(state.newVm),
    health: async () => {
      if (state.skipHealthCheck) return;
      const healthy = await waitHealthy(req.healthCheck ?? pmmReadyz, () => provider.findVm(state.newVm), req.healthTimeoutSec ?? 900, req.healthIntervalMs);
      if (!healthy) {
        const lines = consoleHints(await provider.consoleOutput?.(state.newVm).catch(() => undefined));
        throw new UpgradeError(`PMM on ${state.newVm} did not become ready within ${req.healthTimeoutSec ?? 900} s${lines.length ? `; its console says:\n${lines.map((l) => `  | ${l}`).join('\n')}` : ''}`);
      }
    },
    'destroy-old': () => (state.keepOld ? Promise.resolve() : provider.destroyVm(state.oldVm)),
  };
  const rollback: Record<(typeof ROLLBACK_STEPS)[number], () => Promise<unknown>> = {
    'stop-new': async () => ((await provider.findVm(state.newVm)) ? provider.stopVm(state.newVm) : undefined),
    'detach-new': async () => ((await provider.findVm(state.newVm)) ? provider.detachVolume(state.newVm, state.volumeId) : undefined),
    'attach-old': () => provider.attachVolume(state.oldVm, state.volumeId),
    'start-old': () => provider.startVm(state.oldVm),
    'destroy-new': () => provider.destroyVm(state.newVm),
  };

  async function runSteps<S extends StepName>(names: readonly S[], actions: Record<S, () => Promise<unknown>>): Promise<void> {
    for (const step of names) {
      if (state.steps[step]?.status === 'done') {
        emit(step, 'skip', 'done before');
        continue;
      }
      emit(step, 'start');
      journal.mark(state, step, 'started');
      await actions[step]();
      journal.mark(state, step, 'done');
      emit(step, 'done');
      if (step === 'health' || (step === 'start-new' && state.skipHealthCheck)) downtimeEnd = Date.now();
    }
  }

  if (state.phase === 'forward') {
    try {
      await runSteps(FORWARD_STEPS.slice(0, FORWARD_STEPS.indexOf('start-new')), forward);
    } catch (err) {
      // Before the new VM ever starts, a failure leaves the old VM able to serve: put it back and stop there.
      if (isInjected(err)) throw err;
      await restoreOld(state, provider);
      state.phase = 'rolled-back';
      state.error = (err as Error).message;
      journal.write(state);
      throw new UpgradeError(`upgrade of ${state.name} stopped before the new VM started: ${(err as Error).message}; ${state.oldVm} is serving again`, { cause: err });
    }
    try {
      await runSteps(['start-new', 'health'] as const, forward);
    } catch (err) {
      if (isInjected(err)) throw err;
      state.phase = 'rollback';
      state.error = (err as Error).message;
      journal.write(state);
      emit('health', 'failed', state.error);
    }
  }
  if (state.phase === 'rollback') {
    await runSteps(ROLLBACK_STEPS, rollback);
    state.phase = 'rolled-back';
    journal.write(state);
    const vm = await provider.findVm(state.oldVm);
    const result: UpgradeResult = { outcome: 'rolled-back', oldVm: state.oldVm, newVm: state.newVm, vm: vm as VmInfo, downtimeMs: 0, resumed, changes };
    throw new UpgradeRolledBackError(`the new VM ${state.newVm} failed (${state.error ?? 'unknown'}); rolled back: ${state.oldVm} runs with the data volume again`, result);
  }
  if (state.phase === 'forward') {
    // The new generation holds the volume: the record says so before the old VM goes.
    const after = await recordAfter();
    if (!state.keepOld) after.generations = after.generations.filter((g) => g.vm !== state.oldVm);
    store.writeRecord(after);
    await runSteps(['destroy-old'] as const, forward);
    // PMM came up on the data volume: its admin password is applied, so cnvm's copy of the secret can go.
    if (!state.skipHealthCheck) store.removeSecret(state.provider, state.name);
    state.phase = 'done';
    journal.write(state);
  }
  const vm = await provider.findVm(state.newVm);
  const downtimeMs = downtimeStart !== undefined && downtimeEnd !== undefined ? downtimeEnd - downtimeStart : 0;
  return { outcome: 'upgraded', oldVm: state.oldVm, newVm: state.newVm, vm: vm as VmInfo, downtimeMs, resumed, changes };
}

/**
 * The console lines that explain a failed first boot, as CoreOS's own test harness looks for them: Ignition's
 * failures and the PMM units' state; the last lines if none match.
 */
export function consoleHints(text: string | undefined, max = 15): string[] {
  if (!text) return [];
  // eslint-disable-next-line no-control-regex -- terminal colour codes are what is removed
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/).map((l) => l.trimEnd()).filter(Boolean);
  const telling = lines.filter((l) => /ignition.*(fail|error|not of the correct type|wipe was not requested)|Ignition failed|emergency|pmm-[a-z-]+\.service|Dependency failed|Failed to start/i.test(l));
  return (telling.length ? telling : lines).slice(-max);
}

/** Test hook: crashes injected by test doubles must propagate untouched, like a killed process. */
function isInjected(err: unknown): boolean {
  return err instanceof Error && err.name === 'InjectedCrash';
}

/** Early failure (before the new VM started): the volume goes back to the old VM, which is started again. */
async function restoreOld(state: UpgradeJournal, provider: Provider): Promise<void> {
  const next = await provider.findVm(state.newVm);
  if (next?.volumes.some((v) => v.volumeId === state.volumeId)) await provider.detachVolume(state.newVm, state.volumeId);
  const old = await provider.findVm(state.oldVm);
  if (old && !old.volumes.some((v) => v.volumeId === state.volumeId)) await provider.attachVolume(state.oldVm, state.volumeId);
  await provider.startVm(state.oldVm);
  await provider.destroyVm(state.newVm);
}
