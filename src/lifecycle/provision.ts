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
import { gateFailure, pmmReadyz, waitHealthy } from './health.js';
import { addressName, DATA_DEVICE_NAME, dataVolumeName, generationName, validateVmName } from './names.js';
import { planProvision, type ProvisionInput, type ProvisionPlan } from './provision-plan.js';
import { scrubNote, scrubStoredConfig, withoutSecretIn, type ScrubOutcome } from './scrub.js';
import { noUrlReason, pmmUrl, withStableAddress } from './url.js';
import { currentGeneration, recordForVm } from './record.js';
import { lockVm } from './lease.js';
import type { StateStore } from './store.js';

export type { PlanStep } from './plan.js';
export { ConflictError, planProvision, type PasswordChoice, type ProvisionInput, type ProvisionPlan } from './provision-plan.js';

/** PMM did not come up after provision; the VM, the volume and the password are kept for a re-run. */
export class ProvisionHealthError extends CnvmError {
  constructor(message: string) {
    super('provider', message);
  }
}

export interface ProvisionEvent {
  step: string;
  status: 'start' | 'done' | 'skip';
  detail?: string;
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

/**
 * Applies a plan under the VM's lock. The plan is computed again under the lock (another run may have finished
 * in between), so what runs is what the record says now.
 */
export async function provision(provider: Provider, store: StateStore, input: ProvisionInput, onEvent: (e: ProvisionEvent) => void = () => {}): Promise<ProvisionResult> {
  validateVmName(input.name);
  const lock = await lockVm(provider, store, input.name, 'provision');
  try {
    const plan = await planProvision(provider, store, input);
    return await applyProvision(provider, store, plan, input, onEvent);
  } finally {
    await lock.release();
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
    const rendered = await renderVmConfig(provider, volume, record.desired, password, input.secretEnv);
    onEvent({ step: 'config', status: 'done' });
    onEvent({ step: 'vm', status: 'start', detail: gen.vm });
    if (password !== undefined || Object.keys(input.secretEnv ?? {}).length) {
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
