// The one contract the lifecycle code drives, whichever provider is behind it (registry.ts lists them). Every
// operation is idempotent: re-running it after it succeeded finds what exists and changes nothing. Every operation
// also has a pure `plan` form that says what it would run, for --dry-run. Adapters do not implement this type:
// they implement ProviderPrimitives (primitives.ts), and defineProvider (contract.ts) makes a Provider of them.

/** A provider's name as the registry knows it (`--provider`). */
export type ProviderName = string;

export type VmState = 'pending' | 'running' | 'stopping' | 'stopped' | 'unknown';

export interface VolumeSpec {
  /** cnvm's name for the volume, unique per provider scope (e.g. `pmm1-data`). */
  name: string;
  sizeGiB: number;
  /** The name the guest sees it under: libvirt serial, GCE deviceName (AWS derives it from the volume id). */
  deviceName: string;
  /** The VM the volume belongs to, recorded as a label/tag so `list` can group resources. */
  vmName?: string;
}

export interface Volume {
  /** Provider id: a file path (libvirt), `vol-…` (AWS), a disk name (GCE). */
  id: string;
  name: string;
  sizeGiB: number;
  deviceName: string;
  /** The VM it is attached to, if any. */
  attachedTo?: string;
}

import type { ImageRef } from '../core/vm-model.js';
export type { ImageRef };

export interface VmSpec {
  name: string;
  image: ImageRef;
  /** The Ignition config (JSON text). It may hold secrets: adapters store it readable only by the hypervisor. */
  ignition: string;
  /** Attach this data volume (by id) under its device name. */
  dataVolumeId?: string;
  memoryMiB?: number;
  cpus?: number;
  /** The cnvm VM this is a generation of: stored with the VM (libvirt metadata, EC2 tags, GCE labels). */
  owner?: VmOwner;
  /** cnvm's record of the VM's desired state (JSON, never a secret), stored with the VM for other operators. */
  record?: string;
}

export interface VmOwner {
  name: string;
  generation: number;
}

export interface DestroyVmOptions {
  /** Also delete the boot disk (default true). false keeps it, so a VM defined again under the name reuses it. */
  deleteBootDisk?: boolean;
}

export interface VmAttachment {
  volumeId: string;
  deviceName: string;
}

export interface VmInfo {
  name: string;
  id: string;
  state: VmState;
  image: string;
  volumes: VmAttachment[];
  addresses: string[];
  owner?: VmOwner;
  record?: string;
}

export interface ListResult {
  vms: VmInfo[];
  volumes: Volume[];
}

/**
 * A public address reserved apart from any VM, so it outlives VM generations: an EC2 Elastic IP, a GCE static
 * external address. PMM clients and DNS point at it; upgrade and rollback move it inside the downtime window.
 */
export interface StableAddress {
  /** Provider id: `eipalloc-…` (AWS), the address resource's name (GCE). */
  id: string;
  /** cnvm's name for it (`<vm>-address`), unique per provider scope. */
  name: string;
  /** The IP clients use. */
  ip: string;
  /** The VM it is assigned to now, if any. */
  assignedTo?: string;
}

/** One rule of who may reach a VM: a source CIDR allowed to a TCP port (a security group's, a firewall's). */
export interface AccessRule {
  port: number;
  cidr: string;
}

/** How a stop ended: `forced` when the guest ignored the graceful stop and the provider powered it off. */
export interface StopNotice {
  /** Called once when the stop was forced, with why (for the journal and the report). */
  onForced?(detail: string): void;
}

/** How a provider keeps a VM's address the same across generations (shown in every plan). */
export interface AddressingInfo {
  /**
   * `implicit`: nothing to reserve (libvirt: one MAC for every generation, so the same DHCP lease; user-mode
   * networking: the same forwarded port). `reserved`: a StableAddress the lifecycle reserves and moves.
   */
  kind: 'implicit' | 'reserved';
  /** One line for plans, e.g. "Elastic IP, moved to the new instance inside the downtime window". */
  describe: string;
}

/** One command or API request an operation would perform. */
export interface PlannedAction {
  /** `virsh define`, `ec2:RunInstances`, `compute.instances.insert`, … */
  action: string;
  /** argv for command-line tools, or the request's key parameters. */
  detail: string[] | Record<string, unknown>;
  /** What it changes, in words. */
  effect: string;
}

export interface Provider {
  readonly name: ProviderName;

  /**
   * Read-only checks of everything createVm would need (image present, network active, config within the
   * metadata limit, zone consistent): run before the first side effect, so bad input fails with nothing created.
   */
  preflight(spec: VmSpec): Promise<void>;

  findVolume(name: string): Promise<Volume | undefined>;
  createVolume(spec: VolumeSpec): Promise<Volume>;
  /** Optional: what the VM's serial console printed (libvirt keeps it in a file), to explain a failed first boot. */
  consoleOutput?(name: string): Promise<string | undefined>;
  /**
   * Replaces the Ignition config stored with an existing VM (libvirt's fw_cfg file, EC2 user data, GCE metadata),
   * so a secret that served its one first boot is no longer kept there. Ignition runs only on the first boot, so
   * the new config never runs on this VM; it is what a re-read would show. `deferred`: the provider can change it
   * only while the VM is stopped (EC2 user data) and it was running; the caller does it at the next stop.
   */
  replaceIgnition?(vmName: string, ignition: string): Promise<'replaced' | 'deferred'>;
  /** Deletes a volume that is not attached. Lifecycle code calls it only when the user asked explicitly. */
  deleteVolume(id: string): Promise<void>;

  findVm(name: string): Promise<VmInfo | undefined>;
  /** Creates (does not start) a VM with the image, the Ignition config and the data volume attached. */
  /**
   * The first stop of a VM that never booted with its data volume is forced (nothing on it can be lost: Ignition
   * waits for the volume and writes nothing); `notice` hears of it.
   */
  createVm(spec: VmSpec, notice?: StopNotice): Promise<VmInfo>;
  startVm(name: string): Promise<VmInfo>;
  /** A graceful stop; one the guest does not finish within the provider's bound is forced, and `notice` hears of it. */
  stopVm(name: string, notice?: StopNotice): Promise<VmInfo>;
  /**
   * Who may reach the cnvm VM `owner` (every generation shares them): undefined when cnvm keeps no rules for it.
   * Read before an upgrade changes them, so a rollback can put them back.
   */
  accessRules?(owner: string): Promise<AccessRule[] | undefined>;
  /** Makes the owner's rules exactly `rules` (a rollback's restore); a repeat changes nothing. */
  restoreAccess?(owner: string, rules: AccessRule[]): Promise<void>;
  /** Removes the VM and (unless told otherwise) its boot disk; attached data volumes are detached and kept. */
  destroyVm(name: string, options?: DestroyVmOptions): Promise<void>;
  /** Attaches while the VM is stopped; refuses a volume attached elsewhere (InUseError). */
  attachVolume(vmName: string, volumeId: string): Promise<VmInfo>;
  detachVolume(vmName: string, volumeId: string): Promise<VmInfo>;

  /** Every cnvm-managed VM and volume this provider scope holds. */
  list(): Promise<ListResult>;

  /** How this provider keeps the address stable across generations. */
  readonly addressing: AddressingInfo;
  /** `reserved` providers implement these four; the contract makes reserve and assign idempotent. */
  /** Finds a reserved address by cnvm's name or by the provider's id. */
  findAddress?(nameOrId: string): Promise<StableAddress | undefined>;
  /** Reserves (allocates) a stable address named `name`, tagged/labelled as the VM `owner`'s. */
  reserveAddress?(name: string, owner: string): Promise<StableAddress>;
  /**
   * Assigns the address to the VM (running or stopped), taking it from whichever VM holds it now: the new VM gets
   * the IP before it starts, so PMM never answers clients on another address.
   */
  assignAddress?(addressId: string, vmName: string): Promise<StableAddress>;
  /** Releases a reserved address that no VM holds. Lifecycle code calls it only when the user asked explicitly. */
  releaseAddress?(addressId: string): Promise<void>;

  /** The lease primitives (adapters); the wrapper's `acquireLease` applies the rules on them. */
  readonly leases?: LeasePrimitives;
  /**
   * Takes the VM's lease `key` for `command` (wrapper, present when the adapter has lease primitives): a dead or
   * expired holder is taken over, a live one refused with LeaseHeldError (exit 7).
   */
  acquireLease?(key: string, command: string, ttlSec?: number): Promise<HeldLease>;

  /** Pure: what each operation would run, with no calls made. */
  readonly plan: OperationPlans;
}

/** Pure: what each operation would run, with no calls made (what --dry-run prints). */
export interface OperationPlans {
  createVolume(spec: VolumeSpec): PlannedAction[];
  deleteVolume(id: string): PlannedAction[];
  createVm(spec: VmSpec): PlannedAction[];
  startVm(name: string): PlannedAction[];
  stopVm(name: string): PlannedAction[];
  destroyVm(name: string, options?: DestroyVmOptions): PlannedAction[];
  attachVolume(vmName: string, volumeId: string): PlannedAction[];
  detachVolume(vmName: string, volumeId: string): PlannedAction[];
  reserveAddress?(name: string): PlannedAction[];
  assignAddress?(addressId: string, vmName: string): PlannedAction[];
  releaseAddress?(addressId: string): PlannedAction[];
}

/**
 * Who works on a VM: the lease everyone who can change the VM takes first, held where the VM lives (a lock file in
 * libvirt's storage directory, a uniquely named EC2 resource, a fingerprint-checked GCE metadata item), so two
 * operators with two state directories, or two machines, never change one VM at once.
 */
export interface LeaseHolder {
  /** The operator (user name). */
  holder: string;
  host: string;
  pid: number;
  /** The cnvm command holding it (provision, upgrade, destroy). */
  command: string;
  acquiredAt: string;
  /** ISO time after which the lease is void unless renewed (a crashed run on another host is taken over then). */
  expiresAt: string;
  /** Unique per acquisition: tells this run's lease from a later one. */
  token: string;
}

/** A lease as the provider stores it, with the provider's version of it (what a conditional change checks). */
export interface StoredLease {
  lease: LeaseHolder;
  version: string;
}

/**
 * The lease primitives an adapter implements; the contract wrapper adds the rules (take over a dead or expired
 * holder, refuse a live one) once for all. `create` must be atomic: of two concurrent creates, exactly one wins.
 */
export interface LeasePrimitives {
  /** Where the lease of `key` lives, for messages (a file path, a resource name). */
  where(key: string): string;
  read(key: string): Promise<StoredLease | undefined>;
  /** Creates the lease if none exists; false when one does (another run won). */
  create(key: string, lease: LeaseHolder): Promise<boolean>;
  /** Extends our own lease; false when it is no longer the one we hold (taken over). */
  renew(key: string, current: StoredLease, lease: LeaseHolder): Promise<StoredLease | undefined>;
  /** Removes exactly `current` (by its version); a lease that changed or is gone is left alone. */
  remove(key: string, current: StoredLease): Promise<void>;
}

/** A lease this run holds. */
export interface HeldLease {
  readonly lease: LeaseHolder;
  readonly where: string;
  /** Pushes the expiry out (called on a timer while the run works). */
  renew(): Promise<void>;
  release(): Promise<void>;
}
