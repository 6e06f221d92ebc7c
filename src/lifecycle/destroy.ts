// `cnvm destroy`: removes the VM's generations (and their boot disks), found from its record, touching nothing
// else. The data volume is kept unless deletion was asked for explicitly (the CLI also demands --yes); the record
// is kept with it, so a later provision on the same volume knows its history. With the data deleted, the record
// and the secret go too, and so does an upgrade journal. A reserved stable address (EC2 Elastic IP, GCE static address) is kept with the volume:
// it is what PMM's clients and DNS point at, so a provision on the kept volume gives the same server back; it is
// released only with --delete-data (a reserved address that no VM uses may cost money: the plan says so).
import { NotFoundError } from '../provider/errors.js';
import type { Provider, StableAddress } from '../provider/types.js';
import { Journal } from './journal.js';
import { loadRecord, ownedVms } from './lookup.js';
import { addressName, dataVolumeName } from './names.js';
import type { PlanStep } from './plan.js';
import { addressingNote } from './url.js';
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
  /** The reserved address kept for a later provision (its IP). */
  addressKept?: string;
  /** The reserved address released (its IP), with --delete-data. */
  addressReleased?: string;
}

/** NAME's reserved address, where the provider reserves them: the record's, or found by cnvm's name for it. */
async function addressOf(provider: Provider, record: VmRecord | undefined, name: string): Promise<StableAddress | undefined> {
  if (provider.addressing.kind !== 'reserved' || !provider.findAddress) return undefined;
  return (record?.address ? await provider.findAddress(record.address.id) : undefined) ?? provider.findAddress(addressName(name));
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

export async function planDestroy(provider: Provider, store: StateStore, req: DestroyRequest): Promise<{ steps: PlanStep[]; keeps: string[]; notes: string[] }> {
  const volume = await provider.findVolume(dataVolumeName(req.name));
  const record = await loadRecord(provider, store, req.name);
  const vms = await vmsOf(provider, record, req.name);
  if (vms.length === 0 && !volume && !record) throw new NotFoundError(`no VM named ${req.name} on ${provider.name}`);
  const address = await addressOf(provider, record, req.name);
  const steps: PlanStep[] = vms.map((vm) => ({ step: `remove VM ${vm} and its boot disk`, actions: provider.plan.destroyVm(vm) }));
  if (req.deleteData && volume) steps.push({ step: `DELETE data volume ${volume.name} and cnvm's record of ${req.name}`, actions: provider.plan.deleteVolume(volume.id) });
  if (req.deleteData && address) steps.push({ step: `release address ${address.ip} (${address.id}): PMM's clients lose their server for good`, actions: provider.plan.releaseAddress?.(address.id) ?? [] });
  const keeps = volume && !req.deleteData ? [`data volume ${volume.name} (${volume.id}) and cnvm's record of ${req.name}`] : [];
  if (address && !req.deleteData) keeps.push(`address ${address.ip} (${address.id}), reserved and unassigned (the provider may bill it): a provision on the kept volume gets it back, so PMM's clients keep their server`);
  return { steps, keeps, notes: [addressingNote(provider)] };
}

export async function destroy(provider: Provider, store: StateStore, req: DestroyRequest): Promise<DestroyResult> {
  const lock = store.lock(provider.name, req.name, 'destroy');
  try {
    const record = await loadRecord(provider, store, req.name);
    const vms = await vmsOf(provider, record, req.name);
    const volume = await provider.findVolume(dataVolumeName(req.name));
    if (!record && vms.length === 0 && !volume) throw new NotFoundError(`no VM named ${req.name} on ${provider.name}`);
    const address = await addressOf(provider, record, req.name);
    for (const vm of vms) await provider.destroyVm(vm);
    if (req.deleteData && (volume || address)) {
      if (volume) await provider.deleteVolume(volume.id);
      // Its holder is gone, so the contract's "never while assigned" holds; released last, after the data.
      if (address) await provider.releaseAddress?.(address.id);
      store.removeRecord(provider.name, req.name);
      store.removeSecret(provider.name, req.name);
      // Nothing is left to resume: an upgrade journal of this VM would only point at what is gone.
      Journal.for(store.dir, provider.name, req.name).remove();
      return { vmRemoved: vms.length > 0, removed: vms, volumeDeleted: !!volume, ...(address ? { addressReleased: address.ip } : {}) };
    }
    if (record) store.writeRecord({ ...record, status: 'destroyed', generations: record.generations.filter((g) => g.generation === record.current), ...(volume ? { volume: { id: volume.id, name: volume.name } } : {}) });
    return { vmRemoved: vms.length > 0, removed: vms, volumeDeleted: false, ...(volume ? { volumeKept: volume.id } : {}), ...(address ? { addressKept: address.ip } : {}) };
  } finally {
    lock.release();
  }
}
