// The VM's model as every layer sees it: the image it boots, what the user chose for it (the desired state) and
// the names of its data volume. It sits below providers, lifecycle and export so each can use it without
// depending on the others (the providers' export targets describe the same desired state the lifecycle keeps).

export interface ImageRef {
  /** libvirt: path of a local qcow2; AWS: AMI id; GCP: image self-link or project/family. */
  id: string;
  /** Human-readable version, e.g. the FCOS build `41.20241027.3.0`. */
  version?: string;
}

export interface PmmDesired {
  /** The percona/pmm-server tag pinned at provision; upgrade keeps it unless --pmm-tag is given. */
  tag?: string;
  /** PMM settings that are not secrets (secret ones never enter the record: see `secretEnv`). */
  env?: Record<string, string>;
  /**
   * The names of the secret PMM settings the VM was given at provision. Their values went only into the first
   * boot's config (a root-only file the server copies to the data volume) and are kept nowhere by cnvm.
   */
  secretEnv?: string[];
  publishHttp?: boolean;
}

/** Everything the user chose for the VM. Provider settings are kept as given (flag/profile names). */
export interface DesiredState {
  image: ImageRef;
  dataSizeGiB: number;
  memoryMiB?: number;
  cpus?: number;
  sshKeys: string[];
  pmm: PmmDesired;
  /** The provider's settings this VM was placed with (connect, storage_dir, network, zone, subnet, …). */
  placement: Record<string, string | number | string[]>;
  /**
   * The stage (providers/stages/<stage>.yaml) the VM was provisioned or last upgraded with. It travels with the
   * VM's record, so `cnvm upgrade --all --stage prod` finds a stage's VMs from the provider alone.
   */
  stage?: string;
}

/** The data volume of VM `vm`, the same on every provider. */
export const dataVolumeName = (vm: string): string => `${vm}-data`;
/** The name the guest sees the data disk under (virtio serial / GCE deviceName); fixed so configs are reusable. */
export const DATA_DEVICE_NAME = 'pmm-data';
