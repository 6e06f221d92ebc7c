// The provider contract's invariants, in one place. Adapters implement the primitives (how to create a VM on
// libvirt, EC2 or GCE); `defineProvider` wraps them so every adapter behaves the same where the lifecycle relies
// on it, whatever state a crash left behind (as unstorage's createStorage wraps its drivers):
// - createVolume / createVm are idempotent: an existing resource of that name is returned, not created again —
//   but a VM of that name that belongs to another owner (or generation) is never taken over;
// - a created VM is stopped: one found running (EC2 and GCE start what they launch; a run killed between the
//   launch and the stop leaves it running) is stopped before it is returned;
// - a data volume is on at most one VM: createVm and attachVolume refuse a volume attached elsewhere;
// - attach and detach happen only while the VM is stopped; detaching what is not attached is a no-op;
// - startVm / stopVm on a VM already in that state change nothing;
// - a stable address is reserved once per name, and assigning it to the VM that already holds it changes nothing;
//   an address is never released while a VM holds it;
// - a VM's lease (lease-rules.ts): created atomically; a dead or expired holder taken over, a live one refused.
import { acquireLease } from './lease-rules.js';
import { InUseError, WrongStateError } from './errors.js';
import { ProviderError } from './errors.js';
import type { Provider, StableAddress, VmInfo, VmSpec } from './types.js';

export function defineProvider(primitives: Provider): Provider {
  const p = primitives;

  async function stopped(vm: VmInfo): Promise<VmInfo> {
    return vm.state === 'stopped' ? vm : p.stopVm(vm.name);
  }

  async function volumeHolder(volumeId: string, vmName: string): Promise<string | undefined> {
    const holder = p.holderOf ? await p.holderOf(volumeId) : (await p.list()).volumes.find((v) => v.id === volumeId)?.attachedTo;
    return holder && holder !== vmName ? holder : undefined;
  }

  const wrapped: Provider = {
    name: p.name,
    plan: p.plan,
    dataDisk: (volume) => p.dataDisk(volume),
    preflight: (spec) => p.preflight(spec),
    findVolume: (name) => p.findVolume(name),
    findVm: (name) => p.findVm(name),
    list: () => p.list(),
    deleteVolume: (id) => p.deleteVolume(id),
    ...(p.consoleOutput ? { consoleOutput: p.consoleOutput.bind(p) } : {}),
    ...(p.replaceIgnition ? { replaceIgnition: p.replaceIgnition.bind(p) } : {}),
    addressing: p.addressing,
    ...addressOperations(p),
    ...(p.leases ? { leases: p.leases, acquireLease: (key: string, command: string, ttlSec?: number) => acquireLease(p.leases as NonNullable<Provider['leases']>, key, command, ttlSec) } : {}),

    async createVolume(spec) {
      return (await p.findVolume(spec.name)) ?? p.createVolume(spec);
    },

    async createVm(spec: VmSpec) {
      const existing = await p.findVm(spec.name);
      if (existing) {
        if (spec.owner && (existing.owner?.name !== spec.owner.name || existing.owner.generation !== spec.owner.generation)) {
          const holder = existing.owner ? `generation ${existing.owner.generation} of ${existing.owner.name}` : 'not owned by cnvm';
          throw new InUseError(`a VM named ${spec.name} already exists (${holder}); refusing to take it over`);
        }
        // Left by an interrupted run: bring it to the state the contract promises, with the volume if asked.
        let vm = await stopped(existing);
        if (spec.dataVolumeId && !vm.volumes.some((v) => v.volumeId === spec.dataVolumeId)) vm = await wrapped.attachVolume(vm.name, spec.dataVolumeId);
        return vm;
      }
      if (spec.dataVolumeId) {
        const holder = await volumeHolder(spec.dataVolumeId, spec.name);
        if (holder) throw new InUseError(`volume ${spec.dataVolumeId} is attached to ${holder}; a volume is attached to one VM at a time`);
      }
      return stopped(await p.createVm(spec));
    },

    async startVm(name) {
      const vm = await p.findVm(name);
      // Missing: the adapter's own call says so, with the provider's message as the cause.
      if (!vm) return p.startVm(name);
      return vm.state === 'running' ? vm : p.startVm(name);
    },

    async stopVm(name) {
      const vm = await p.findVm(name);
      if (!vm) return p.stopVm(name);
      return stopped(vm);
    },

    destroyVm: (name, options) => p.destroyVm(name, options),

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
  return wrapped;
}

/** The stable-address primitives with the contract's rules, present only when the adapter reserves addresses. */
function addressOperations(p: Provider): Pick<Provider, 'findAddress' | 'reserveAddress' | 'assignAddress' | 'releaseAddress'> {
  const { findAddress, reserveAddress, assignAddress, releaseAddress } = p;
  if (p.addressing.kind !== 'reserved') return {};
  if (!findAddress || !reserveAddress || !assignAddress || !releaseAddress) {
    throw new ProviderError('invalid', `provider ${p.name} declares reserved addresses but does not implement find/reserve/assign/release`);
  }
  const byId = async (id: string): Promise<StableAddress | undefined> => {
    const found = await findAddress.call(p, id);
    return found?.id === id ? found : undefined;
  };
  return {
    findAddress: (name) => findAddress.call(p, name),
    async reserveAddress(name, owner) {
      return (await findAddress.call(p, name)) ?? reserveAddress.call(p, name, owner);
    },
    async assignAddress(addressId, vmName) {
      const current = await byId(addressId);
      if (current?.assignedTo === vmName) return current;
      return assignAddress.call(p, addressId, vmName);
    },
    async releaseAddress(addressId) {
      const current = await byId(addressId);
      if (current?.assignedTo) throw new InUseError(`address ${current.ip} (${addressId}) is assigned to ${current.assignedTo}; refusing to release it`);
      return releaseAddress.call(p, addressId);
    },
  };
}
