// What an adapter implements: the provider's own calls, each one thin. The contract wrapper (contract.ts) calls a
// primitive only in the situation documented on it, so an adapter never re-checks what the wrapper guarantees
// (that a resource is missing before creating it, the VM's state, who holds a volume or an address). What an
// adapter still checks is its platform's own rules (an EBS volume attaches only in its zone, a virtio serial is at
// most 20 bytes, …).
import type { AccessRule, AddressingInfo, DestroyVmOptions, LeasePrimitives, ListResult, OperationPlans, StableAddress, StopNotice, VmInfo, VmSpec, Volume, VolumeSpec } from './types.js';

export interface ProviderPrimitives {
  readonly name: string;
  readonly addressing: AddressingInfo;
  readonly plan: OperationPlans;

  /** Read-only checks of everything createVm would need; no side effect. */
  preflight(spec: VmSpec): Promise<void>;
  findVolume(name: string): Promise<Volume | undefined>;
  /** Called when no volume of that name exists. */
  createVolume(spec: VolumeSpec): Promise<Volume>;
  /** Deletes the volume; a missing one is not an error. */
  deleteVolume(id: string): Promise<void>;
  /** The cnvm VM holding a volume now, if any. */
  holderOf(volumeId: string): Promise<string | undefined>;

  findVm(name: string): Promise<VmInfo | undefined>;
  /**
   * Called when no VM of that name exists and the data volume (if any) is held by no VM. May return the VM running
   * (clouds start what they launch) and without the data volume (attached later, while stopped): the wrapper stops
   * it and attaches the volume.
   */
  createVm(spec: VmSpec): Promise<VmInfo>;
  /** Called for a VM that is not running; a missing VM throws NotFoundError. */
  startVm(name: string): Promise<VmInfo>;
  /**
   * Called for a VM that is not stopped; a missing VM throws NotFoundError. `force`: power it off at once (a VM that
   * never booted with its data volume). Otherwise graceful, forced once the guest has not stopped within the
   * adapter's bound; `notice` hears of a forced stop.
   */
  stopVm(name: string, how?: { force?: boolean; notice?: StopNotice }): Promise<VmInfo>;
  /** Removes the VM (a missing one is not an error) and, unless told otherwise, its boot disk; data volumes stay. */
  destroyVm(name: string, options?: DestroyVmOptions): Promise<void>;
  /** Called for a stopped VM without this volume, while no other VM holds it; a missing VM throws NotFoundError. */
  attachVolume(vmName: string, volumeId: string): Promise<VmInfo>;
  /** Called for a stopped VM that has this volume; a missing VM throws NotFoundError. */
  detachVolume(vmName: string, volumeId: string): Promise<VmInfo>;
  list(): Promise<ListResult>;

  consoleOutput?(name: string): Promise<string | undefined>;
  replaceIgnition?(vmName: string, ignition: string): Promise<'replaced' | 'deferred'>;

  /** Who may reach the owner's VMs (its security group's or firewall rule's 443/22 rules); see Provider. */
  access?: {
    rules(owner: string): Promise<AccessRule[] | undefined>;
    restore(owner: string, rules: AccessRule[]): Promise<void>;
  };

  /** Present exactly when `addressing.kind` is `reserved`. */
  address?: AddressPrimitives;

  /** The VM's lease, stored where the VM lives; the wrapper applies the rules (lease-rules.ts). */
  readonly leases?: LeasePrimitives;
}

export interface AddressPrimitives {
  /** By cnvm's name or by the provider's id. */
  find(nameOrId: string): Promise<StableAddress | undefined>;
  /** Called when no address of that name exists. */
  reserve(name: string, owner: string): Promise<StableAddress>;
  /** Called when the address is not assigned to this VM (it may be on another, which loses it). */
  assign(addressId: string, vmName: string): Promise<StableAddress>;
  /** Called when no VM holds the address; a missing one is not an error. */
  release(addressId: string): Promise<void>;
}
