// `cnvm provision`: plan, then apply. The plan is computed from the VM's record (if any) and the flags, after every
// input was checked — the rendered config, the provider's own preflight (image, network, size limits) — with no
// side effect. Apply writes the record and the password intent first, then creates the data volume (or finds it,
// never formatting it), reserves the stable address (providers that reserve one), creates the VM (a generation
// owned by the record), gives it the address, starts it and waits for PMM (the health gate upgrade uses), each step
// recorded in the record so a re-run continues where a crash stopped. Once PMM answered, the password is on the data
// volume: the VM's stored config is replaced by one without it, and cnvm's own copy is deleted.
//
// The password invariant: whatever fails or is interrupted, PMM ends up with the password cnvm showed (or will
// show) the user. A generated password is written to the secret store before the first side effect and reused by
// every re-run until the first provision completes; a volume cnvm has no record of is never silently taken as
// "already has a password".
import { CnvmError } from '../errors.js';
import type { Provider, StableAddress, VmInfo, Volume } from '../provider/types.js';
import { PMM_HEALTH_PATH, randomPassword } from '../workload/pmm-server.js';
import { renderVmConfig } from './config.js';
import { applyOverrides, diffDesired, formatChange, type Change, type DesiredOverrides } from './desired.js';
import { gateFailure, pmmReadyz, waitHealthy, type HealthCheck } from './health.js';
import { addressName, DATA_DEVICE_NAME, dataVolumeName, generationName, validateVmName } from './names.js';
import { scrubNote, scrubStoredConfig, withoutSecretIn, type ScrubOutcome } from './scrub.js';
import { addressingNote, noUrlReason, pmmUrl, withStableAddress } from './url.js';
import { loadRecord } from './lookup.js';
import { currentGeneration, recordForVm, type DesiredState, type PasswordPolicy, type VmRecord } from './record.js';
import type { PlanStep } from './plan.js';
import type { StateStore } from './store.js';

export type { PlanStep } from './plan.js';

/** The VM exists with other settings than this run asks for: another command applies them. */
export class ConflictError extends CnvmError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** PMM did not come up after provision; the VM, the volume and the password are kept for a re-run. */
export class ProvisionHealthError extends CnvmError {
  constructor(message: string) {
    super('provider', message);
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
  /** The command that changes an existing VM, for the conflict message (`cnvm upgrade --provider libvirt`). */
  upgradeCommand?: string;
  /** Don't wait for PMM; the password stays in the stored config and cnvm's copy until a gate passes. */
  skipHealthCheck?: boolean;
  healthTimeoutSec?: number;
  healthCheck?: HealthCheck;
  healthIntervalMs?: number;
}

export interface ProvisionEvent {
  step: string;
  status: 'start' | 'done' | 'skip';
  detail?: string;
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

export interface ProvisionResult {
  vm: VmInfo;
  volume: Volume;
  /** The shown-once answer: present on the run that completes a provision with a generated password. */
  generatedAdminPassword?: string;
  generation: number;
  /** The PMM URL (the stable address when reserved, else the VM's reported one); absent when none is known yet. */
  url?: string;
  /** Why there is no URL, when there is none. */
  urlMissing?: string;
  /** The stable address (providers that reserve one). */
  address?: StableAddress;
  health: 'passed' | 'skipped';
  /**
   * The admin password in the VM's stored config: `no-password` (never there, or removed earlier), `replaced` (removed
   * now), `deferred` (removed at the next stop), `unsupported` (the adapter cannot), `kept` (gate skipped).
   */
  storedConfig: 'no-password' | 'kept' | ScrubOutcome;
  /** Whether cnvm deleted its own copy of the password (the gate proved PMM has it). */
  secretRemoved: boolean;
  notes: string[];
  warnings: string[];
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
  const rendered = await renderVmConfig(provider, placeholderVolume, desired, passwordForCheck);
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

/**
 * Applies a plan under the VM's lock. The plan is computed again under the lock (another run may have finished
 * in between), so what runs is what the record says now.
 */
export async function provision(provider: Provider, store: StateStore, input: ProvisionInput, onEvent: (e: ProvisionEvent) => void = () => {}): Promise<ProvisionResult> {
  validateVmName(input.name);
  const lock = store.lock(provider.name, input.name, 'provision');
  try {
    const plan = await planProvision(provider, store, input);
    return await applyProvision(provider, store, plan, input, onEvent);
  } finally {
    lock.release();
  }
}

async function applyProvision(provider: Provider, store: StateStore, plan: ProvisionPlan, input: ProvisionInput, onEvent: (e: ProvisionEvent) => void): Promise<ProvisionResult> {
  const record = plan.record;
  const name = plan.name;
  // 1. The intent and the secret, before anything exists.
  let password: string | undefined;
  if (plan.password.action === 'generate') store.writeSecret(provider.name, name, (password = randomPassword()));
  else if (plan.password.action === 'set-from-file' && input.password?.kind === 'file') store.writeSecret(provider.name, name, (password = input.password.value));
  else if (plan.password.action === 'set-recorded') password = store.readSecret(provider.name, name);
  if (record.current === undefined) {
    record.current = 1;
    record.generations = [{ generation: 1, vm: generationName(name, 1), image: record.desired.image, createdAt: new Date().toISOString() }];
  }
  const gen = currentGeneration(record);
  if (!gen) throw new CnvmError('io', `the record of ${name} names generation ${record.current}, which it does not list`);
  gen.image = plan.existing.vm ? gen.image : record.desired.image;
  store.writeRecord(record);

  // 2. The data volume.
  const volumeName = dataVolumeName(name);
  onEvent({ step: 'volume', status: 'start', detail: volumeName });
  const volume = plan.existing.volume ?? (await provider.createVolume({ name: volumeName, sizeGiB: record.desired.dataSizeGiB, deviceName: DATA_DEVICE_NAME, vmName: name }));
  onEvent({ step: 'volume', status: plan.existing.volume ? 'skip' : 'done', detail: plan.existing.volume ? `${volumeName} exists; reusing it as it is` : `${volumeName} created` });
  record.volume = { id: volume.id, name: volume.name };
  store.writeRecord(record);

  // 2b. The stable address (providers that reserve one): reserved once, before the VM, so it exists to be given.
  let address = plan.existing.address;
  if (provider.addressing.kind === 'reserved' && provider.reserveAddress) {
    onEvent({ step: 'address', status: 'start', detail: addressName(name) });
    address = address ?? (await provider.reserveAddress(addressName(name), name));
    record.address = { id: address.id, name: address.name, ip: address.ip };
    store.writeRecord(record);
    onEvent({ step: 'address', status: plan.existing.address ? 'skip' : 'done', detail: `${address.ip} (${address.id})` });
  }

  // 3. The VM: created stopped with the volume (the contract brings one left running by a crash to that state).
  let vm = plan.existing.vm;
  let warnings = plan.warnings;
  if (!vm) {
    onEvent({ step: 'config', status: 'start' });
    const rendered = await renderVmConfig(provider, volume, record.desired, password);
    onEvent({ step: 'config', status: 'done' });
    onEvent({ step: 'vm', status: 'start', detail: gen.vm });
    if (password !== undefined) {
      // Recorded before the VM exists: a crash right after createVm still knows which stored config to clean.
      record.password = { ...record.password, inConfigOf: [...new Set([...(record.password.inConfigOf ?? []), gen.vm])] };
      store.writeRecord(record);
    }
    vm = await provider.createVm({
      name: gen.vm,
      image: record.desired.image,
      ignition: rendered.ignition,
      dataVolumeId: volume.id,
      ...(record.desired.memoryMiB ? { memoryMiB: record.desired.memoryMiB } : {}),
      ...(record.desired.cpus ? { cpus: record.desired.cpus } : {}),
      owner: { name, generation: gen.generation },
      record: recordForVm({ ...record, status: 'ready' }),
    });
    warnings = [...new Set([...warnings, ...rendered.warnings])];
    onEvent({ step: 'vm', status: 'done', detail: `${gen.vm} defined` });
  } else {
    onEvent({ step: 'vm', status: 'skip', detail: `${vm.name} exists` });
    if (!vm.volumes.some((v) => v.volumeId === volume.id)) {
      if (vm.state !== 'stopped') vm = await provider.stopVm(vm.name);
      vm = await provider.attachVolume(vm.name, volume.id);
    }
  }

  // 4. The address on the VM before it starts, so PMM never answers its clients on another IP.
  if (address && provider.assignAddress) {
    onEvent({ step: 'assign', status: 'start', detail: `${address.ip} → ${vm.name}` });
    address = await provider.assignAddress(address.id, vm.name);
    onEvent({ step: 'assign', status: 'done', detail: `${address.ip} on ${vm.name}` });
  }

  // 5. Start.
  onEvent({ step: 'start', status: 'start', detail: vm.name });
  vm = await provider.startVm(vm.name);
  onEvent({ step: 'start', status: 'done', detail: vm.state });

  // 6. The health gate: PMM up on the data volume, so the admin password is set there.
  const vmName = vm.name;
  const notes: string[] = [];
  let storedConfig: ProvisionResult['storedConfig'] = record.password.inConfigOf?.includes(vmName) ? 'kept' : 'no-password';
  let secretRemoved = false;
  if (input.skipHealthCheck) {
    onEvent({ step: 'health', status: 'skip', detail: '--skip-health-check' });
    if (record.password.inConfigOf?.includes(vmName)) notes.push(`${vmName}'s stored config keeps the admin password until a health-gated run (provision again, or upgrade) confirms PMM came up`);
  } else {
    const timeoutSec = input.healthTimeoutSec ?? 900;
    onEvent({ step: 'health', status: 'start', detail: `waiting up to ${timeoutSec} s for ${PMM_HEALTH_PATH}` });
    const healthy = await waitHealthy(input.healthCheck ?? pmmReadyz, async () => withStableAddress(await provider.findVm(vmName), record.address), timeoutSec, input.healthIntervalMs);
    if (!healthy) {
      throw new ProvisionHealthError(
        `${await gateFailure(provider, vmName, timeoutSec)}\n` +
          `The VM, its data volume and the admin password are kept. To wait again, re-run: cnvm provision --provider ${provider.name} --name ${name} ` +
          `(add --health-timeout SECONDS for a slower first boot, or --skip-health-check to finish without waiting).`,
      );
    }
    onEvent({ step: 'health', status: 'done' });
    vm = (await provider.findVm(vmName)) ?? vm;
    // 7. The password served its one first boot: the stored config no longer carries it, nor does cnvm.
    if (record.password.inConfigOf?.includes(vmName)) {
      onEvent({ step: 'scrub', status: 'start', detail: vmName });
      const outcome = await scrubStoredConfig(provider, volume, record.desired, vmName);
      storedConfig = outcome;
      if (outcome === 'replaced') Object.assign(record, withoutSecretIn(record, vmName));
      store.writeRecord(record);
      const note = scrubNote(provider, vmName, outcome);
      if (note) notes.push(note);
      onEvent({ step: 'scrub', status: outcome === 'replaced' ? 'done' : 'skip', detail: outcome });
    }
  }

  // 8. Done: the shown-once answer goes out on the run that completes, and only once.
  const show = record.password.policy === 'generated' && !record.password.shownAt && password !== undefined;
  record.status = 'ready';
  if (show) record.password = { ...record.password, shownAt: new Date().toISOString() };
  store.writeRecord(record);
  if (!input.skipHealthCheck && store.readSecret(provider.name, name) !== undefined) {
    store.removeSecret(provider.name, name);
    secretRemoved = true;
  }
  const url = pmmUrl(vm, record.address);
  return {
    vm,
    volume: (await provider.findVolume(volumeName)) ?? volume,
    generation: gen.generation,
    ...(show && password ? { generatedAdminPassword: password } : {}),
    ...(url ? { url } : { urlMissing: noUrlReason(vm) }),
    ...(address ? { address } : {}),
    health: input.skipHealthCheck ? 'skipped' : 'passed',
    storedConfig,
    secretRemoved,
    notes,
    warnings,
  };
}
