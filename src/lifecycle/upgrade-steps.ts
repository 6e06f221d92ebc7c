// The upgrade's one step list (see steps/step.ts), built from what the upgrade knows before its first side effect:
// the record, the old VM, the volume, the stable address and the flags. `cnvm upgrade --dry-run` prints its
// forward steps; apply runs it; the journal stores it (without the provider requests), so a resumed run continues
// the very list the interrupted one planned. The executors are in upgrade.ts, one per kind.
//
// Order (downtime is only stop-old … health): reserve the stable address if the provider reserves one and the VM
// has none yet, create the new VM without the volume (before anything stops), stop the old VM, detach the volume,
// attach it to the new VM, move the stable address to the new VM, start it, wait for PMM's readiness (with
// --skip-health-check the window closes when the start finished), with --keep-old replace the kept VM's stored
// config if it still holds the admin password, delete the old VM (unless --keep-old). If the start or the gate
// fails, the rollback steps run: stop the new VM, detach, reattach to the old one, move the address back, replace
// the old VM's stored config while it is stopped, put back who may reach the VM (firewall/group rules), start it,
// delete the new one.
import type { ImageRef, Provider } from '../provider/types.js';
import { PMM_HEALTH_PATH } from '../workload/pmm-server.js';
import { addressName } from './names.js';
import { notNeeded, type Step } from './steps/step.js';

export const FORWARD_STEPS = ['reserve-address', 'create-new', 'stop-old', 'detach-old', 'attach-new', 'move-address', 'start-new', 'health', 'scrub-kept-old', 'destroy-old'] as const;
export const ROLLBACK_STEPS = ['stop-new', 'detach-new', 'attach-old', 'address-back', 'access-back', 'scrub-old', 'start-old', 'destroy-new'] as const;
export type UpgradeStepKind = (typeof FORWARD_STEPS)[number] | (typeof ROLLBACK_STEPS)[number];

export interface UpgradeStep extends Step<UpgradeStepKind> {
  /**
   * Where it runs: `switch`, before the new VM starts (a failure puts the old VM back and stops there);
   * `bring-up`, the new VM's start and gate (a failure runs the rollback steps); `finish`, once the record says the
   * new generation holds the volume; `rollback`.
   */
  stage: 'switch' | 'bring-up' | 'finish' | 'rollback';
  /** The downtime window opens when this step starts, or closes once it has finished. */
  downtime?: 'opens' | 'closes';
}

/** What the step list is computed from. */
export interface UpgradeFacts {
  name: string;
  oldVm: string;
  newVm: string;
  newGeneration: number;
  image: ImageRef;
  volumeId: string;
  volumeName: string;
  /** The stable address the VM has already (providers that reserve one); the IP when known. */
  address?: { id: string; ip?: string };
  keepOld: boolean;
  skipHealthCheck: boolean;
  /** The record says the old VM's stored config still holds the admin password. */
  oldHoldsPassword: boolean;
}

export function upgradeSteps(provider: Provider, f: UpgradeFacts): UpgradeStep[] {
  return [...forwardSteps(provider, f), ...rollbackSteps(provider, f)];
}

function forwardSteps(provider: Provider, f: UpgradeFacts): UpgradeStep[] {
  const reserved = provider.addressing.kind === 'reserved';
  const addrName = addressName(f.name);
  const switching = (kind: UpgradeStepKind, title: string, actions: UpgradeStep['actions'] = []): UpgradeStep => ({ kind, title, actions, stage: 'switch' });
  const reserve = switching('reserve-address', `reserve address ${addrName} (${f.name} has none yet; old VM still serving)`, provider.plan.reserveAddress?.(addrName) ?? []);
  const move = switching('move-address', `move ${f.address?.ip ?? `address ${addrName}`} from ${f.oldVm} to ${f.newVm}`, provider.plan.assignAddress?.(f.address?.id ?? `<${addrName}>`, f.newVm) ?? []);
  return [
    // A VM provisioned before cnvm reserved addresses gets one now, while the old VM still serves.
    !reserved ? notNeeded(reserve) : f.address ? { ...reserve, silent: true } : reserve,
    switching('create-new', `create ${f.newVm} (generation ${f.newGeneration}) on ${f.image.version ?? f.image.id} (old VM still serving)`, provider.plan.createVm({ name: f.newVm, image: f.image, ignition: '<rendered>', owner: { name: f.name, generation: f.newGeneration } })),
    { ...switching('stop-old', `stop ${f.oldVm} — downtime starts`, provider.plan.stopVm(f.oldVm)), downtime: 'opens' },
    switching('detach-old', `detach ${f.volumeName} from ${f.oldVm}`, provider.plan.detachVolume(f.oldVm, f.volumeId)),
    switching('attach-new', `attach ${f.volumeName} to ${f.newVm}`, provider.plan.attachVolume(f.newVm, f.volumeId)),
    reserved ? move : notNeeded(move),
    {
      kind: 'start-new',
      title: `start ${f.newVm}`,
      actions: provider.plan.startVm(f.newVm),
      stage: 'bring-up',
      // Without the gate, the new VM is up once its start finished (docs/upgrade.md): the window closes there.
      ...(f.skipHealthCheck ? { downtime: 'closes' as const } : {}),
    },
    healthStep(f, reserved),
    scrubKeptOldStep(f),
    f.keepOld
      ? { kind: 'destroy-old', title: `keep ${f.oldVm} (stopped)`, actions: [], stage: 'finish', skip: `kept: --keep-old`, silent: true }
      : { kind: 'destroy-old', title: `delete ${f.oldVm} and its boot disk`, actions: provider.plan.destroyVm(f.oldVm), stage: 'finish' },
  ];
}

function healthStep(f: UpgradeFacts, reserved: boolean): UpgradeStep {
  const onFailure = `on failure roll back to ${f.oldVm}${reserved ? ` (the address moves back before it starts)` : ''}`;
  if (f.skipHealthCheck) {
    return { kind: 'health', title: `health gate skipped (--skip-health-check): downtime ends when ${f.newVm} has started; if the start fails, roll back to ${f.oldVm}`, actions: [], stage: 'bring-up', skip: 'not checked: --skip-health-check' };
  }
  return { kind: 'health', title: `wait for PMM ${PMM_HEALTH_PATH} on ${f.newVm} — downtime ends; ${onFailure}`, actions: [], stage: 'bring-up', downtime: 'closes' };
}

function scrubKeptOldStep(f: UpgradeFacts): UpgradeStep {
  const step: UpgradeStep = { kind: 'scrub-kept-old', title: `replace ${f.oldVm}'s stored config with one without the admin password (it is kept)`, actions: [], stage: 'finish' };
  if (!f.keepOld) return notNeeded(step);
  // Run either way: it replaces the config only if the record still lists the old VM as holding the password.
  return f.oldHoldsPassword ? step : { ...step, silent: true };
}

function rollbackSteps(provider: Provider, f: UpgradeFacts): UpgradeStep[] {
  const step = (kind: UpgradeStepKind, title: string, actions: UpgradeStep['actions'] = []): UpgradeStep => ({ kind, title, actions, stage: 'rollback' });
  const access = step('access-back', `restore who may reach ${f.name} (the rules before the upgrade)`);
  const back = step('address-back', `move the address back to ${f.oldVm}`, provider.plan.assignAddress?.(f.address?.id ?? `<${addressName(f.name)}>`, f.oldVm) ?? []);
  return [
    step('stop-new', `stop ${f.newVm}`, provider.plan.stopVm(f.newVm)),
    step('detach-new', `detach ${f.volumeName} from ${f.newVm}`, provider.plan.detachVolume(f.newVm, f.volumeId)),
    step('attach-old', `attach ${f.volumeName} to ${f.oldVm}`, provider.plan.attachVolume(f.oldVm, f.volumeId)),
    provider.addressing.kind === 'reserved' ? back : notNeeded(back),
    // The new generation's creation made the rules what this upgrade's flags say (--allow-from): the old ones return.
    provider.restoreAccess ? access : notNeeded(access),
    // The old VM is stopped here: the one moment a provider that replaces user data only while stopped can.
    step('scrub-old', `replace ${f.oldVm}'s stored config if it still holds the admin password`),
    step('start-old', `start ${f.oldVm}`, provider.plan.startVm(f.oldVm)),
    step('destroy-new', `delete ${f.newVm} and its boot disk`, provider.plan.destroyVm(f.newVm)),
  ];
}
