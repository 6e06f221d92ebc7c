// How a Compute Engine guest names its data disk: the attachment's deviceName, linked as
// /dev/disk/by-id/google-<deviceName> by the guest environment's udev rules.
import { DataDiskError, type DiskNaming } from '../module.js';

export interface GcpDataDisk {
  provider: 'gcp';
  deviceName: string;
}

/** GCE device names: lowercase letters, digits and dashes, starting with a letter, at most 63 characters. */
const GCE_DEVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const gcpDisk: DiskNaming<GcpDataDisk> = {
  fromVolume: (volume) => ({ provider: 'gcp', deviceName: volume.deviceName }),
  device(disk) {
    if (!GCE_DEVICE_NAME.test(disk.deviceName)) throw new DataDiskError(`GCE deviceName ${JSON.stringify(disk.deviceName)} must match [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 characters`);
    return `/dev/disk/by-id/google-${disk.deviceName}`;
  },
  sample: { provider: 'gcp', deviceName: 'pmm-data' },
};
