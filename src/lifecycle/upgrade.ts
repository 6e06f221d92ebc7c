// `cnvm upgrade`: a new VM on a new OS image takes over the same data volume.
//
// Order (downtime is only steps 2–6): 1 create the new VM without the volume (before anything stops), 2 stop the
// old VM, 3 detach the volume, 4 attach it to the new VM, 5 start it, 6 wait for PMM's readiness, 7 delete the old
// VM (unless --keep-old). If 5 or 6 fails: stop the new VM, detach, reattach to the old one, start it, delete the
// new one. Every step is journaled before and after it runs; re-running the command resumes from the journal. The
// volume is never deleted or formatted, and the provider refuses to attach it to two VMs, so no order of crashes
// can put it on two.
import type { ImageRef, PlannedAction, Provider, VmInfo } from '../provider/types.js';
import { waitHealthy, pmmReadyz, type HealthCheck } from './health.js';
import { FORWARD_STEPS, Journal, ROLLBACK_STEPS, type StepName, type UpgradeJournal } from './journal.js';
import { currentVm, dataVolumeName, generationName, generationOf } from './names.js';
import { renderProvisionConfig, type PlanStep } from './provision.js';

export interface UpgradeRequest {
  name: string;
  /** The new image (already downloaded/resolved, so nothing slow happens after the old VM stops). */
  image: ImageRef;
  skipHealthCheck?: boolean;
  healthTimeoutSec?: number;
  keepOld?: boolean;
  stateDir: string;
  sshAuthorizedKeys?: string[];
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
}

export class UpgradeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpgradeError';
  }
}

/** Rolled back to the old VM after the new one failed; the data volume is back on the old VM. */
export class UpgradeRolledBackError extends UpgradeError {
  constructor(
    message: string,
    readonly result: UpgradeResult,
  ) {
    super(message);
    this.name = 'UpgradeRolledBackError';
  }
}

/** The steps and what they touch, for --dry-run; nothing is called but reads. */
export async function planUpgrade(provider: Provider, req: Pick<UpgradeRequest, 'name' | 'image' | 'keepOld'>): Promise<{ steps: PlanStep[]; keeps: string[] }> {
  const old = await currentVm(provider, req.name);
  if (!old) throw new UpgradeError(`no VM for ${req.name} to upgrade; provision it first`);
  const volume = await provider.findVolume(dataVolumeName(req.name));
  if (!volume) throw new UpgradeError(`no data volume ${dataVolumeName(req.name)}`);
  const next = generationName(req.name, (generationOf(req.name, old.name) ?? 1) + 1);
  const s = (step: string, actions: PlannedAction[]): PlanStep => ({ step, actions });
  return {
    steps: [
      s(`create ${next} on ${req.image.version ?? req.image.id} (old VM still serving)`, provider.plan.createVm({ name: next, image: req.image, ignition: '<rendered>' })),
      s(`stop ${old.name} — downtime starts`, provider.plan.stopVm(old.name)),
      s(`detach ${volume.name} from ${old.name}`, provider.plan.detachVolume(old.name, volume.id)),
      s(`attach ${volume.name} to ${next}`, provider.plan.attachVolume(next, volume.id)),
      s(`start ${next}`, provider.plan.startVm(next)),
      s(`wait for PMM ${'/v1/server/readyz'} on ${next} — downtime ends; on failure roll back to ${old.name}`, []),
      ...(req.keepOld ? [] : [s(`delete ${old.name} and its boot disk`, provider.plan.destroyVm(old.name))]),
    ],
    keeps: [`data volume ${volume.name} (${volume.id}): never deleted or formatted`, ...(req.keepOld ? [`old VM ${old.name} (stopped)`] : [])],
  };
}

export async function upgrade(provider: Provider, req: UpgradeRequest, onEvent: (e: UpgradeEvent) => void = () => {}): Promise<UpgradeResult> {
  const t0 = Date.now();
  const emit = (step: UpgradeEvent['step'], status: UpgradeEvent['status'], detail?: string): void =>
    onEvent({ step, status, at: Date.now() - t0, ...(detail ? { detail } : {}) });
  const journal = Journal.for(req.stateDir, provider.name, req.name);
  let j = journal.read();
  const resumed = !!j && (j.phase === 'forward' || j.phase === 'rollback');

  if (resumed && j) {
    emit('resume', 'start', `continuing the ${j.phase === 'rollback' ? 'rollback' : 'upgrade'} of ${j.oldVm} → ${j.newVm} from ${journal.path}`);
  } else {
    if (req.resumeOnly) throw new UpgradeError(`no interrupted upgrade of ${req.name} to resume (${journal.path})`);
    const old = await currentVm(provider, req.name);
    if (!old) throw new UpgradeError(`no VM for ${req.name} to upgrade; provision it first`);
    const volume = await provider.findVolume(dataVolumeName(req.name));
    if (!volume) throw new UpgradeError(`no data volume ${dataVolumeName(req.name)}`);
    if (volume.attachedTo !== old.name) throw new UpgradeError(`data volume ${volume.name} is not attached to ${old.name}`);
    j = {
      version: 1,
      provider: provider.name,
      name: req.name,
      volumeId: volume.id,
      oldVm: old.name,
      newVm: generationName(req.name, (generationOf(req.name, old.name) ?? 1) + 1),
      image: req.image,
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

  const forward: Record<(typeof FORWARD_STEPS)[number], () => Promise<unknown>> = {
    'create-new': async () => {
      const volume = await provider.findVolume(dataVolumeName(state.name));
      if (!volume) throw new UpgradeError(`data volume ${dataVolumeName(state.name)} disappeared`);
      // Same recipe, same device naming; no admin password: the data volume already holds it.
      const { ignition } = await renderProvisionConfig(provider, volume, { name: state.newVm, image: state.image, dataSizeGiB: volume.sizeGiB, sshAuthorizedKeys: req.sshAuthorizedKeys ?? [] }, undefined);
      return provider.createVm({ name: state.newVm, image: state.image, ignition });
    },
    'stop-old': () => ((downtimeStart = Date.now()), provider.stopVm(state.oldVm)),
    'detach-old': () => provider.detachVolume(state.oldVm, state.volumeId),
    'attach-new': () => provider.attachVolume(state.newVm, state.volumeId),
    'start-new': () => provider.startVm(state.newVm),
    health: async () => {
      if (state.skipHealthCheck) return;
      const healthy = await waitHealthy(req.healthCheck ?? pmmReadyz, () => provider.findVm(state.newVm), req.healthTimeoutSec ?? 900, req.healthIntervalMs);
      if (!healthy) throw new UpgradeError(`PMM on ${state.newVm} did not become ready within ${req.healthTimeoutSec ?? 900} s`);
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
    const result: UpgradeResult = { outcome: 'rolled-back', oldVm: state.oldVm, newVm: state.newVm, vm: vm as VmInfo, downtimeMs: 0, resumed };
    throw new UpgradeRolledBackError(`the new VM ${state.newVm} failed (${state.error ?? 'unknown'}); rolled back: ${state.oldVm} runs with the data volume again`, result);
  }
  if (state.phase === 'forward') {
    await runSteps(['destroy-old'] as const, forward);
    state.phase = 'done';
    journal.write(state);
  }
  const vm = await provider.findVm(state.newVm);
  const downtimeMs = downtimeStart !== undefined && downtimeEnd !== undefined ? downtimeEnd - downtimeStart : 0;
  return { outcome: 'upgraded', oldVm: state.oldVm, newVm: state.newVm, vm: vm as VmInfo, downtimeMs, resumed };
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
