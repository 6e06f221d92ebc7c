// Finding a VM's record: the local store first; else the record that travels with the VM's newest generation at
// the provider (a second operator, another machine), which is then kept locally. Without either, cnvm knows of
// no VM by that name, whatever other VMs are called.
import type { Provider, VmInfo } from '../provider/types.js';
import { recordFromVm, type VmRecord } from './record.js';
import type { StateStore } from './store.js';

/** The provider's VMs that are generations of NAME by their owner label, oldest first. */
export async function ownedVms(provider: Provider, name: string): Promise<VmInfo[]> {
  const { vms } = await provider.list();
  return vms.filter((vm) => vm.owner?.name === name).sort((a, b) => (a.owner?.generation ?? 0) - (b.owner?.generation ?? 0));
}

/**
 * The record of NAME. Drift: when the local record's current VM is gone but the provider holds a newer generation
 * (another operator upgraded it), the record that generation carries wins and replaces the local copy.
 */
export async function loadRecord(provider: Provider, store: StateStore, name: string): Promise<VmRecord | undefined> {
  const local = store.readRecord(provider.name, name);
  if (local) {
    const gen = local.generations.find((g) => g.generation === local.current);
    if (!gen || local.status === 'provisioning' || (await provider.findVm(gen.vm))) return local;
    const newer = await fromProvider(provider, store, name);
    return newer && (newer.current ?? 0) > (local.current ?? 0) ? newer : local;
  }
  return fromProvider(provider, store, name);
}

async function fromProvider(provider: Provider, store: StateStore, name: string): Promise<VmRecord | undefined> {
  const owned = await ownedVms(provider, name);
  for (const vm of owned.reverse()) {
    const r = recordFromVm(vm.record);
    if (r && r.name === name && r.provider === provider.name) {
      // The VM's copy was written when it was created: it is the current generation if it holds the volume.
      const adopted: VmRecord = { ...r, current: vm.owner?.generation ?? r.current };
      store.writeRecord(adopted);
      return adopted;
    }
  }
  return undefined;
}
