// The VM record: what the user asked a VM to be (its desired state) and the generations that have carried it.
// Every command starts from it, so what a user set once (memory, network, keys, PMM tag, …) survives upgrades,
// failed runs and re-runs. It lives in two places:
// - the local store, <stateDir>/records/<provider>-<name>.json (0600 in a 0700 directory), the working copy;
// - with the provider's resources: each VM cnvm creates carries the record (no secrets) in its libvirt metadata,
//   EC2 tags or GCE metadata, so another operator or machine finds the same desired state (`recordFromVm`).
// The admin password never enters the record: it is kept beside it in <stateDir>/secrets/ (0600).
import type { DesiredState, ImageRef } from '../core/vm-model.js';
import { withoutSecretValues } from '../workload/pmm-secrets.js';

export const RECORD_VERSION = 1;

export type { DesiredState, PmmDesired } from '../core/vm-model.js';

export type PasswordPolicy =
  /** cnvm generated it; shown once at the end of the first successful provision. */
  | 'generated'
  /** From --admin-password-file. */
  | 'file'
  /** The volume already held a PMM whose password the user keeps (--keep-password). */
  | 'keep-existing'
  /** The user accepted PMM's default admin/admin (--allow-default-password). */
  | 'default';

export interface PasswordState {
  policy: PasswordPolicy;
  /** When the shown-once answer was given to the user. */
  shownAt?: string;
  /**
   * The VMs whose stored config (libvirt fw_cfg file, EC2 user data, GCE metadata) still carries the password: set
   * when a VM is created with it, cleared once the config is replaced after PMM came up (names only, never the
   * password). A provider that can replace it only while the VM is stopped leaves it here until the next stop.
   */
  inConfigOf?: string[];
}

/** A stable address cnvm reserved for the VM (EC2 Elastic IP, GCE static address): public, never a secret. */
export interface RecordedAddress {
  id: string;
  name: string;
  ip: string;
}

export interface Generation {
  generation: number;
  vm: string;
  image: ImageRef;
  createdAt: string;
}

export interface VmRecord {
  version: typeof RECORD_VERSION;
  provider: string;
  name: string;
  desired: DesiredState;
  password: PasswordState;
  /** provisioning: the first run has not completed; ready: a VM runs the record; destroyed: VMs gone, volume kept. */
  status: 'provisioning' | 'ready' | 'destroyed';
  volume?: { id: string; name: string };
  /** On providers with reserved addresses: the one PMM's clients use, kept across generations and by destroy. */
  address?: RecordedAddress;
  generations: Generation[];
  /** The generation that holds (or is to hold) the data volume. */
  current?: number;
  createdAt: string;
  updatedAt: string;
}

export const currentGeneration = (r: VmRecord): Generation | undefined => r.generations.find((g) => g.generation === r.current);
export const nextGenerationNumber = (r: VmRecord): number => Math.max(0, ...r.generations.map((g) => g.generation)) + 1;

/**
 * A record with no secret PMM setting values: the record never takes them, but a record written by an older cnvm
 * may hold them; they are dropped (kept by name) wherever a record is read or written.
 */
export const withoutSecrets = (r: VmRecord): VmRecord => {
  const pmm = withoutSecretValues(r.desired.pmm);
  return pmm === r.desired.pmm ? r : { ...r, desired: { ...r.desired, pmm } };
};

/** The record as it travels with a VM: no local-only fields, nothing secret. */
export const recordForVm = (r: VmRecord): string => JSON.stringify(withoutSecrets(r));

/** A record read back from a VM's metadata; undefined when absent or not one of ours. */
export function recordFromVm(text: string | undefined): VmRecord | undefined {
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as VmRecord;
    return r && r.version === RECORD_VERSION && typeof r.name === 'string' && r.desired ? withoutSecrets(r) : undefined;
  } catch {
    return undefined;
  }
}
