// `cnvm destroy`: removes the VM's generations (and their boot disks), found from its record, touching nothing
// else. The data volume is kept unless deletion was asked for explicitly (the CLI also demands --yes); the record
// is kept with it, so a later provision on the same volume knows its history. With the data deleted, the record
// and the secret go too, and so does an upgrade journal. A reserved stable address (EC2 Elastic IP, GCE static address) is kept with the volume:
// it is what PMM's clients and DNS point at, so a provision on the kept volume gives the same server back; it is
// released only with --delete-data (a reserved address that no VM uses may cost money: the plan says so).
import { NotFoundError } from '../provider/errors.js';
import type { Provider, StableAddress, Volume } from '../provider/types.js';
import { Journal } from './journal.js';
import { loadRecord, ownedVms } from './lookup.js';
import { addressName, dataVolumeName } from './names.js';
import type { PlanStep } from './plan.js';
import { runSteps, type Executors } from './steps/runner.js';
import { notNeeded, planView, type Step } from './steps/step.js';
import { addressingNote } from './url.js';
import type { VmRecord } from './record.js';
import { lockVm } from './lease.js';
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

/** One step of `cnvm destroy`, in the order apply runs them (see ./steps/step.ts). */
export type DestroyStep =
  | (Step<'remove-vm'> & { vm: string })
  | (Step<'delete-volume'> & { volumeId: string })
  | (Step<'release-address'> & { addressId: string })
  /** With the data deleted: the record, the secret and any upgrade journal go; otherwise the record says destroyed. */
  | (Step<'forget'> & { remove: boolean });

export interface DestroyPlan {
  steps: DestroyStep[];
  keeps: string[];
  notes: string[];
  record: VmRecord | undefined;
  vms: string[];
  volume: Volume | undefined;
  address: StableAddress | undefined;
}

function vmSteps(provider: Provider, vms: string[]): DestroyStep[] {
  return vms.map((vm) => ({ kind: 'remove-vm', title: `remove VM ${vm} and its boot disk`, actions: provider.plan.destroyVm(vm), vm }));
}

function dataSteps(provider: Provider, req: DestroyRequest, volume: Volume | undefined, address: StableAddress | undefined): DestroyStep[] {
  const del: DestroyStep = { kind: 'delete-volume', title: `DELETE data volume ${volume?.name ?? dataVolumeName(req.name)} and cnvm's record of ${req.name}`, actions: volume ? provider.plan.deleteVolume(volume.id) : [], volumeId: volume?.id ?? '' };
  // Its holder is gone by then, so the contract's "never while assigned" holds; released last, after the data.
  const release: DestroyStep = { kind: 'release-address', title: `release address ${address?.ip ?? ''} (${address?.id ?? ''}): PMM's clients lose their server for good`, actions: address ? (provider.plan.releaseAddress?.(address.id) ?? []) : [], addressId: address?.id ?? '' };
  const forget: DestroyStep = { kind: 'forget', title: `${req.deleteData ? 'remove' : 'keep'} cnvm's record of ${req.name}`, actions: [], remove: req.deleteData && (!!volume || !!address), silent: true };
  return [req.deleteData && volume ? del : notNeeded(del), req.deleteData && address ? release : notNeeded(release), forget];
}

/** Reads only: the VM's generations, its data volume and address, and the one step list dry-run prints and apply runs. */
export async function destroyPlan(provider: Provider, store: StateStore, req: DestroyRequest): Promise<DestroyPlan> {
  const record = await loadRecord(provider, store, req.name);
  const vms = await vmsOf(provider, record, req.name);
  const volume = await provider.findVolume(dataVolumeName(req.name));
  if (vms.length === 0 && !volume && !record) throw new NotFoundError(`no VM named ${req.name} on ${provider.name}`);
  const address = await addressOf(provider, record, req.name);
  const keeps = volume && !req.deleteData ? [`data volume ${volume.name} (${volume.id}) and cnvm's record of ${req.name}`] : [];
  if (address && !req.deleteData) keeps.push(`address ${address.ip} (${address.id}), reserved and unassigned (the provider may bill it): a provision on the kept volume gets it back, so PMM's clients keep their server`);
  return { steps: [...vmSteps(provider, vms), ...dataSteps(provider, req, volume, address)], keeps, notes: [addressingNote(provider)], record, vms, volume, address };
}

/** What `--dry-run` prints and emits with --json: the steps apply runs, less the ones that change nothing here. */
export async function planDestroy(provider: Provider, store: StateStore, req: DestroyRequest): Promise<{ steps: PlanStep[]; keeps: string[]; notes: string[] }> {
  const plan = await destroyPlan(provider, store, req);
  return { steps: planView(plan.steps), keeps: plan.keeps, notes: plan.notes };
}

function executors(provider: Provider, store: StateStore, req: DestroyRequest, plan: DestroyPlan): Executors<DestroyStep> {
  const { record, volume } = plan;
  return {
    'remove-vm': async (s) => void (await provider.destroyVm(s.vm)),
    'delete-volume': async (s) => void (await provider.deleteVolume(s.volumeId)),
    'release-address': async (s) => void (await provider.releaseAddress?.(s.addressId)),
    forget: async (s) => {
      if (s.remove) {
        store.removeRecord(provider.name, req.name);
        store.removeSecret(provider.name, req.name);
        // Nothing is left to resume: an upgrade journal of this VM would only point at what is gone.
        Journal.for(store.dir, provider.name, req.name).remove();
      } else if (record) {
        store.writeRecord({ ...record, status: 'destroyed', generations: record.generations.filter((g) => g.generation === record.current), ...(volume ? { volume: { id: volume.id, name: volume.name } } : {}) });
      }
    },
  };
}

export async function destroy(provider: Provider, store: StateStore, req: DestroyRequest): Promise<DestroyResult> {
  const lock = await lockVm(provider, store, req.name, 'destroy');
  try {
    const plan = await destroyPlan(provider, store, req);
    // Progress is the provider's own calls (the CLI wraps them); destroy keeps no journal: every run finds what is left from the provider.
    await runSteps(plan.steps, executors(provider, store, req, plan), { emit: () => {} });
    const { vms, volume, address } = plan;
    if (req.deleteData && (volume || address)) {
      return { vmRemoved: vms.length > 0, removed: vms, volumeDeleted: !!volume, ...(address ? { addressReleased: address.ip } : {}) };
    }
    return { vmRemoved: vms.length > 0, removed: vms, volumeDeleted: false, ...(volume ? { volumeKept: volume.id } : {}), ...(address ? { addressKept: address.ip } : {}) };
  } finally {
    await lock.release();
  }
}
