// `cnvm provision`, the plan: computed from the VM's record (if any) and the flags, after every input was checked —
// the rendered config, the provider's own preflight (image, network, size limits) — with no side effect. It says
// what apply will do: the volume, the stable address (providers that reserve one), the VM, the start, the health
// gate and the removal of the password from the stored config, and how the provider keeps the address.
import { CnvmError } from '../errors.js';
import type { Provider, StableAddress, VmInfo, Volume } from '../provider/types.js';
import { PMM_HEALTH_PATH, randomPassword } from '../workload/pmm-server.js';
import { renderVmConfig } from './config.js';
import { applyOverrides, diffDesired, formatChange, type Change, type DesiredOverrides } from './desired.js';
import type { HealthCheck } from './health.js';
import { addressName, DATA_DEVICE_NAME, dataVolumeName, generationName, validateVmName } from './names.js';
import { addressingNote } from './url.js';
import { loadRecord } from './lookup.js';
import { currentGeneration, type DesiredState, type PasswordPolicy, type VmRecord } from './record.js';
import type { PlanStep } from './plan.js';
import type { StateStore } from './store.js';

/** The VM exists with other settings than this run asks for: another command applies them. */
export class ConflictError extends CnvmError {
  constructor(message: string) {
    super('conflict', message);
  }
}


/** What the user said about the admin password on this run. */
export type PasswordChoice =
  | { kind: 'file'; value: string }
  /** --keep-password: a reused volume's PMM keeps the password it has. */
  | { kind: 'keep' }
  /** --allow-default-password: run with PMM's admin/admin. */
  | { kind: 'default' };

export interface ProvisionInput {
  name: string;
  /** The full desired state for a VM cnvm has no record of (profile values and defaults filled in). */
  defaults: DesiredState;
  /** What this command line gave explicitly: compared with an existing record. */
  overrides: DesiredOverrides;
  password?: PasswordChoice;
  /** Secret PMM settings for the first boot's config (never in the record); their names are in desired.pmm.secretEnv. */
  secretEnv?: Record<string, string>;
  /** The command that changes an existing VM, for the conflict message (`cnvm upgrade --provider libvirt`). */
  upgradeCommand?: string;
  /** Don't wait for PMM; the password stays in the stored config and cnvm's copy until a gate passes. */
  skipHealthCheck?: boolean;
  healthTimeoutSec?: number;
  healthCheck?: HealthCheck;
  healthIntervalMs?: number;
}


export interface ProvisionPlan {
  name: string;
  /** No record existed: a new VM. */
  isNew: boolean;
  desired: DesiredState;
  /** Relative to the record (empty for a new VM, or a re-run with the same flags). */
  changes: Change[];
  password: { policy: PasswordPolicy; action: 'generate' | 'set-from-file' | 'set-recorded' | 'none' };
  steps: PlanStep[];
  keeps: string[];
  notes: string[];
  warnings: string[];
  /** Internal: what apply starts from. */
  record: VmRecord;
  existing: { vm?: VmInfo; volume?: Volume; address?: StableAddress };
}


function newRecord(provider: Provider, name: string, desired: DesiredState, policy: PasswordPolicy): VmRecord {
  const now = new Date().toISOString();
  return { version: 1, provider: provider.name, name, desired, password: { policy }, status: 'provisioning', generations: [], createdAt: now, updatedAt: now };
}

/** Pure of side effects: reads the record, the provider's view and renders the config; changes nothing. */
export async function planProvision(provider: Provider, store: StateStore, input: ProvisionInput): Promise<ProvisionPlan> {
  validateVmName(input.name);
  const found = await loadRecord(provider, store, input.name);
  const volumeName = dataVolumeName(input.name);
  const volume = await provider.findVolume(volumeName);
  const gen = found ? currentGeneration(found) : undefined;
  const vm = gen ? await provider.findVm(gen.vm) : undefined;
  const reserved = provider.addressing.kind === 'reserved';
  // Found by cnvm's name: the one an earlier run (or a destroy that kept it) left; reserved once per VM name.
  const address = reserved ? await provider.findAddress?.(addressName(input.name)) : undefined;
  const warnings: string[] = [];

  let desired: DesiredState;
  let changes: Change[] = [];
  let record: VmRecord;
  let action: ProvisionPlan['password']['action'];
  const recordedSecret = store.readSecret(provider.name, input.name);

  if (found) {
    desired = applyOverrides(found.desired, input.overrides);
    changes = diffDesired(found.desired, desired);
    if (vm && changes.length > 0) {
      const cmd = input.upgradeCommand ?? `cnvm upgrade --provider ${provider.name}`;
      throw new ConflictError(
        `${input.name} exists (${vm.name}, ${vm.state}) and provision does not change an existing VM:\n${changes.map((c) => `  ${formatChange(c)}`).join('\n')}\n` +
          `To apply these, run: ${cmd} --name ${input.name} with the same flags (a new VM on the same data volume); to keep the VM as it is, drop them.`,
      );
    }
    if (vm && input.password?.kind === 'file') {
      throw new ConflictError(`${input.name} exists: cnvm sets the admin password only on the first boot of a new data volume; change it in PMM (Configuration → Users) or with \`podman exec pmm-server change-admin-password\` on the VM`);
    }
    record = { ...found, desired };
    if (input.password?.kind === 'file') {
      record.password = { policy: 'file' };
      action = 'set-from-file';
    } else if (recordedSecret !== undefined) {
      // The secret of a provision that has not completed yet (or not yet proven applied): set the same one again.
      action = 'set-recorded';
    } else if (!volume && record.password.policy !== 'default') {
      // The recorded volume is gone: a new, empty one gets a new password (shown once), never admin/admin.
      record.password = { policy: 'generated' };
      action = 'generate';
    } else {
      action = 'none';
    }
  } else {
    desired = applyOverrides(input.defaults, input.overrides);
    let policy: PasswordPolicy;
    if (input.password?.kind === 'file') {
      policy = 'file';
      action = 'set-from-file';
    } else if (input.password?.kind === 'default') {
      policy = 'default';
      action = 'none';
    } else if (volume) {
      if (input.password?.kind !== 'keep') {
        throw new CnvmError(
          'usage',
          `data volume ${volume.name} (${volume.id}) exists, but cnvm has no record of the VM it belonged to, so it cannot know the PMM admin password on it. ` +
            'Pass --admin-password-file FILE to set one at first boot, or --keep-password if that volume\'s PMM already has the password you use.',
        );
      }
      policy = 'keep-existing';
      action = 'none';
    } else {
      policy = 'generated';
      action = 'generate';
    }
    record = newRecord(provider, input.name, desired, policy);
  }
  if (record.password.policy === 'default') warnings.push(`PMM on ${input.name} keeps the default admin/admin password (--allow-default-password): change it before exposing it`);
  if (volume?.attachedTo && volume.attachedTo !== vm?.name) {
    throw new CnvmError('conflict', `data volume ${volume.name} is attached to ${volume.attachedTo}, which is not ${input.name}'s current VM; destroy or detach that VM first`);
  }

  const generation = gen?.generation ?? 1;
  const vmName = gen?.vm ?? generationName(input.name, generation);
  if (!vm) {
    const squatter = await provider.findVm(vmName);
    if (squatter && (squatter.owner?.name !== input.name || squatter.owner.generation !== generation) && !found) {
      throw new ConflictError(`a VM named ${vmName} already exists and is not cnvm's ${input.name} (${squatter.owner ? `it belongs to ${squatter.owner.name}` : 'it has no cnvm owner'}); pick another --name`);
    }
  }
  // Check everything createVm would need, with the config as it will be (a stand-in of the real password's
  // shape, and a stand-in volume id for providers that name the disk by it).
  const placeholderVolume = volume ?? { id: 'vol-0123456789abcdef0', deviceName: DATA_DEVICE_NAME };
  const passwordForCheck = action === 'set-from-file' && input.password?.kind === 'file' ? input.password.value : action === 'none' ? undefined : randomPassword();
  const rendered = await renderVmConfig(provider, placeholderVolume, desired, passwordForCheck, input.secretEnv);
  warnings.push(...rendered.warnings);
  if (!vm) await provider.preflight({ name: vmName, image: desired.image, ignition: rendered.ignition, dataVolumeId: placeholderVolume.id });

  const volumeSpec = { name: volumeName, sizeGiB: desired.dataSizeGiB, deviceName: DATA_DEVICE_NAME, vmName: input.name };
  const addrName = addressName(input.name);
  const addressSteps: PlanStep[] = !reserved
    ? []
    : [
        address
          ? { step: `address ${addrName}: reserved (${address.ip}), kept`, actions: [] }
          : { step: `reserve address ${addrName} (the IP PMM's clients use, kept across upgrades)`, actions: provider.plan.reserveAddress?.(addrName) ?? [] },
      ];
  const assignSteps: PlanStep[] =
    !reserved || address?.assignedTo === vmName
      ? []
      : [{ step: `assign ${address ? address.ip : `address ${addrName}`} to ${vmName} before it starts`, actions: provider.plan.assignAddress?.(address?.id ?? `<${addrName}>`, vmName) ?? [] }];
  const gated = input.skipHealthCheck !== true;
  const steps: PlanStep[] = [
    { step: volume ? `data volume ${volumeName}: exists (${volume.id}), attached as it is` : `create data volume ${volumeName} (${desired.dataSizeGiB} GiB)`, actions: volume ? [] : provider.plan.createVolume(volumeSpec) },
    ...addressSteps,
    vm
      ? { step: `VM ${vm.name}: exists (${vm.state})`, actions: vm.volumes.some((v) => v.volumeId === volume?.id) ? [] : provider.plan.attachVolume(vm.name, volume?.id ?? `<${volumeName}>`) }
      : { step: `create VM ${vmName} (generation ${generation}) on ${desired.image.version ?? desired.image.id}`, actions: provider.plan.createVm({ name: vmName, image: desired.image, ignition: '<rendered>', dataVolumeId: volume?.id ?? `<${volumeName}>` }) },
    ...assignSteps,
    { step: `start ${vmName}`, actions: vm?.state === 'running' ? [] : provider.plan.startVm(vmName) },
    gated
      ? { step: `wait for PMM ${PMM_HEALTH_PATH} on ${vmName} (up to ${input.healthTimeoutSec ?? 900} s)`, actions: [] }
      : { step: `health gate skipped (--skip-health-check): the password stays in the stored config and in cnvm's copy until a gate passes`, actions: [] },
    ...(gated && action !== 'none'
      ? [{ step: `then: replace ${vmName}'s stored config with one without the admin password${provider.replaceIgnition ? '' : ` (not supported by this ${provider.name} adapter yet: it stays)`}, and delete cnvm's copy`, actions: [] }]
      : []),
  ];
  const passwordLine = {
    generate: 'PMM admin password: a new random one, recorded (0600) before anything is created, shown once at the end',
    'set-from-file': 'PMM admin password: from --admin-password-file, set at first boot',
    'set-recorded': 'PMM admin password: the one recorded by the earlier, unfinished run (set again at first boot)',
    none: record.password.policy === 'default' ? 'PMM admin password: none set (admin/admin)' : 'PMM admin password: unchanged (the data volume\'s PMM keeps its own)',
  }[action];
  return {
    name: input.name,
    isNew: !found,
    desired,
    changes,
    password: { policy: record.password.policy, action },
    steps,
    keeps: [
      volume ? `data volume ${volume.name} (${volume.id}): never formatted, never wiped` : `the new data volume ${volumeName} is formatted once by Ignition on first boot, never again`,
      ...(address ? [`address ${address.ip} (${address.id}): PMM's clients keep their server`] : []),
    ],
    notes: [passwordLine, addressingNote(provider)],
    warnings,
    record,
    existing: { ...(vm ? { vm } : {}), ...(volume ? { volume } : {}), ...(address ? { address } : {}) },
  };
}
