// The provider contract's invariants, in one place. Adapters implement the primitives (primitives.ts: how to create
// a VM on one platform); `defineProvider` makes the Provider the lifecycle drives of them, so every adapter behaves
// the same where the lifecycle relies on it, whatever state a crash left behind:
// - createVolume / createVm are idempotent: an existing resource of that name is returned, not created again —
//   but a VM of that name that belongs to another owner (or generation) is never taken over;
// - a created VM is stopped and has its data volume: one found running (clouds start what they launch; a run
//   killed between the launch and the stop leaves it running) is stopped, and the volume attached, before it is
//   returned;
// - a data volume is on at most one VM: createVm and attachVolume refuse a volume attached elsewhere;
// - attach and detach happen only while the VM is stopped; attaching what is attached, or detaching what is not,
//   changes nothing;
// - startVm / stopVm on a VM already in that state change nothing;
// - a stable address is reserved once per name, and assigning it to the VM that already holds it changes nothing;
//   an address is never released while a VM holds it;
// - the first stop of a VM that has never booted with its data volume is forced: the clouds start what they
//   create, so such a VM sits in Ignition's wait for the volume (in the initramfs, which ignores a graceful stop),
//   and nothing on it can be lost;
// - a VM's lease (lease-rules.ts): created atomically; a dead or expired holder taken over, a live one refused.
import { acquireLease } from './lease-rules.js';
import { InUseError, ProviderError, WrongStateError } from './errors.js';
import type { AddressPrimitives, ProviderPrimitives } from './primitives.js';
import type { Provider, StableAddress, StopNotice, VmInfo, VmSpec } from './types.js';

export function defineProvider(p: ProviderPrimitives): Provider {
  async function stopped(vm: VmInfo, how?: { force?: boolean; notice?: StopNotice }): Promise<VmInfo> {
    return vm.state === 'stopped' ? vm : p.stopVm(vm.name, how);
  }

  async function volumeHolder(volumeId: string, vmName: string): Promise<string | undefined> {
    const holder = await p.holderOf(volumeId);
    return holder && holder !== vmName ? holder : undefined;
  }

  /** Stopped, with the data volume: what createVm promises, for a VM just made or one an interrupted run left. */
  async function readied(vm: VmInfo, spec: VmSpec, notice?: StopNotice): Promise<VmInfo> {
    // No data volume on it yet: it never booted with it (cnvm attaches the volume only to a stopped VM).
    let ready = await stopped(vm, { force: vm.volumes.length === 0, ...(notice ? { notice } : {}) });
    if (spec.dataVolumeId && !ready.volumes.some((v) => v.volumeId === spec.dataVolumeId)) ready = await provider.attachVolume(ready.name, spec.dataVolumeId);
    return ready;
  }

  const provider: Provider = {
    name: p.name,
    plan: p.plan,
    addressing: p.addressing,
    preflight: (spec) => p.preflight(spec),
    findVolume: (name) => p.findVolume(name),
    findVm: (name) => p.findVm(name),
    list: () => p.list(),
    deleteVolume: (id) => p.deleteVolume(id),
    destroyVm: (name, options) => p.destroyVm(name, options),
    ...(p.consoleOutput ? { consoleOutput: p.consoleOutput.bind(p) } : {}),
    ...(p.replaceIgnition ? { replaceIgnition: p.replaceIgnition.bind(p) } : {}),
    ...addressOperations(p),
    ...(p.access ? { accessRules: p.access.rules.bind(p.access), restoreAccess: p.access.restore.bind(p.access) } : {}),
    ...(p.leases ? { leases: p.leases, acquireLease: (key: string, command: string, ttlSec?: number) => acquireLease(p.leases as NonNullable<Provider['leases']>, key, command, ttlSec) } : {}),

    async createVolume(spec) {
      return (await p.findVolume(spec.name)) ?? p.createVolume(spec);
    },

    async createVm(spec: VmSpec, notice?: StopNotice) {
      const existing = await p.findVm(spec.name);
      if (existing) {
        if (spec.owner && (existing.owner?.name !== spec.owner.name || existing.owner.generation !== spec.owner.generation)) {
          const holder = existing.owner ? `generation ${existing.owner.generation} of ${existing.owner.name}` : 'not owned by cnvm';
          throw new InUseError(`a VM named ${spec.name} already exists (${holder}); refusing to take it over`);
        }
        // Left by an interrupted run: bring it to the state the contract promises.
        return readied(existing, spec, notice);
      }
      if (spec.dataVolumeId) {
        const holder = await volumeHolder(spec.dataVolumeId, spec.name);
        if (holder) throw new InUseError(`volume ${spec.dataVolumeId} is attached to ${holder}; a volume is attached to one VM at a time`);
      }
      return readied(await p.createVm(spec), spec, notice);
    },

    async startVm(name) {
      const vm = await p.findVm(name);
      // Missing: the adapter's own call says so, with the provider's message as the cause.
      if (!vm) return p.startVm(name);
      return vm.state === 'running' ? vm : p.startVm(name);
    },

    async stopVm(name, notice) {
      const vm = await p.findVm(name);
      const how = notice ? { notice } : {};
      if (!vm) return p.stopVm(name, how);
      return stopped(vm, how);
    },

    async attachVolume(vmName, volumeId) {
      const vm = await p.findVm(vmName);
      if (!vm) return p.attachVolume(vmName, volumeId);
      if (vm.volumes.some((v) => v.volumeId === volumeId)) return vm;
      const holder = await volumeHolder(volumeId, vmName);
      if (holder) throw new InUseError(`volume ${volumeId} is attached to ${holder}; detach it there first`);
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before attaching the data volume`);
      return p.attachVolume(vmName, volumeId);
    },

    async detachVolume(vmName, volumeId) {
      const vm = await p.findVm(vmName);
      if (!vm) return p.detachVolume(vmName, volumeId);
      if (!vm.volumes.some((v) => v.volumeId === volumeId)) return vm;
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before detaching the data volume`);
      return p.detachVolume(vmName, volumeId);
    },
  };
  return provider;
}

/** The stable-address operations with the contract's rules, present only when the adapter reserves addresses. */
function addressOperations(p: ProviderPrimitives): Pick<Provider, 'findAddress' | 'reserveAddress' | 'assignAddress' | 'releaseAddress'> {
  if (p.addressing.kind !== 'reserved') return {};
  const a: AddressPrimitives | undefined = p.address;
  if (!a) throw new ProviderError('invalid', `provider ${p.name} declares reserved addresses but has no address primitives`);
  const byId = async (id: string): Promise<StableAddress | undefined> => {
    const found = await a.find(id);
    return found?.id === id ? found : undefined;
  };
  return {
    findAddress: (name) => a.find(name),
    async reserveAddress(name, owner) {
      return (await a.find(name)) ?? a.reserve(name, owner);
    },
    async assignAddress(addressId, vmName) {
      const current = await byId(addressId);
      if (current?.assignedTo === vmName) return current;
      return a.assign(addressId, vmName);
    },
    async releaseAddress(addressId) {
      const current = await byId(addressId);
      if (current?.assignedTo) throw new InUseError(`address ${current.ip} (${addressId}) is assigned to ${current.assignedTo}; refusing to release it`);
      return a.release(addressId);
    },
  };
}
