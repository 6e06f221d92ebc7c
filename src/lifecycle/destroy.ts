// `cnvm destroy`: removes the VM's generations (and their boot disks), found from its record, touching nothing
// else. The data volume is kept unless deletion was asked for explicitly (the CLI also demands --yes); the record
// is kept with it, so a later provision on the same volume knows its history. With the data deleted, the record
// and the secret go too.
import { NotFoundError } from '../provider/errors.js';
import type { Provider } from '../provider/types.js';
import { loadRecord, ownedVms } from './lookup.js';
import { dataVolumeName } from './names.js';
import type { PlanStep } from './plan.js';
import type { VmRecord } from './record.js';
import type { StateStore } from './store.js';

export interface DestroyRequest {
  name: string;
  deleteData: boolean;
}

export interface DestroyResult {
  vmRemoved: boolean;
  removed: string[];
  volumeDeleted: boolean;
  volumeKept?: string;
}

/** NAME's VMs that exist: the record's generations whose owner label (when the provider has one) agrees. */
async function vmsOf(provider: Provider, record: VmRecord | undefined, name: string): Promise<string[]> {
  if (!record) return (await ownedVms(provider, name)).map((v) => v.name);
  const names: string[] = [];
  for (const g of record.generations) {
    const vm = await provider.findVm(g.vm);
    if (vm && (vm.owner === undefined || vm.owner.name === name)) names.push(vm.name);
  }
  return names;
}

export async function planDestroy(provider: Provider, store: StateStore, req: DestroyRequest): Promise<{ steps: PlanStep[]; keeps: string[] }> {
  const volume = await provider.findVolume(dataVolumeName(req.name));
  const record = await loadRecord(provider, store, req.name);
  const vms = await vmsOf(provider, record, req.name);
  if (vms.length === 0 && !volume && !record) throw new NotFoundError(`no VM named ${req.name} on ${provider.name}`);
  const steps: PlanStep[] = vms.map((vm) => ({ step: `remove VM ${vm} and its boot disk`, actions: provider.plan.destroyVm(vm) }));
  if (req.deleteData && volume) steps.push({ step: `DELETE data volume ${volume.name} and cnvm's record of ${req.name}`, actions: provider.plan.deleteVolume(volume.id) });
  return { steps, keeps: volume && !req.deleteData ? [`data volume ${volume.name} (${volume.id}) and cnvm's record of ${req.name}`] : [] };
}

export async function destroy(provider: Provider, store: StateStore, req: DestroyRequest): Promise<DestroyResult> {
  const lock = store.lock(provider.name, req.name, 'destroy');
  try {
    const record = await loadRecord(provider, store, req.name);
    const vms = await vmsOf(provider, record, req.name);
    const volume = await provider.findVolume(dataVolumeName(req.name));
    if (!record && vms.length === 0 && !volume) throw new NotFoundError(`no VM named ${req.name} on ${provider.name}`);
    for (const vm of vms) await provider.destroyVm(vm);
    if (volume && req.deleteData) {
      await provider.deleteVolume(volume.id);
      store.removeRecord(provider.name, req.name);
      store.removeSecret(provider.name, req.name);
      return { vmRemoved: vms.length > 0, removed: vms, volumeDeleted: true };
    }
    if (record) store.writeRecord({ ...record, status: 'destroyed', generations: record.generations.filter((g) => g.generation === record.current), ...(volume ? { volume: { id: volume.id, name: volume.name } } : {}) });
    return { vmRemoved: vms.length > 0, removed: vms, volumeDeleted: false, ...(volume ? { volumeKept: volume.id } : {}) };
  } finally {
    lock.release();
  }
}
