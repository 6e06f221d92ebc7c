// How a droplet names a block-storage volume: DigitalOcean's udev rules link every attached volume as
// /dev/disk/by-id/scsi-0DO_Volume_<volume name>, whichever droplet holds it and in whatever order it was attached.
// The name is what the volume was created with, so the guest's mount unit is known before the volume exists.
import { DataDiskError, type DiskNaming } from '../module.js';

export interface DoDataDisk {
  provider: 'digitalocean';
  volumeName: string;
}

/** DigitalOcean volume names: lowercase letters, digits and dashes, starting with a letter, at most 64 characters. */
export const DO_VOLUME_NAME = /^[a-z]([-a-z0-9]{0,62}[a-z0-9])?$/;

export const DO_VOLUME_LINK_PREFIX = '/dev/disk/by-id/scsi-0DO_Volume_';

export const doDisk: DiskNaming<DoDataDisk> = {
  // cnvm's id for a DigitalOcean volume is its name.
  fromVolume: (volume) => ({ provider: 'digitalocean', volumeName: volume.id }),
  device(disk) {
    if (!DO_VOLUME_NAME.test(disk.volumeName)) throw new DataDiskError(`DigitalOcean volume name ${JSON.stringify(disk.volumeName)} must match [a-z]([-a-z0-9]*[a-z0-9])?, at most 64 characters`);
    return `${DO_VOLUME_LINK_PREFIX}${disk.volumeName}`;
  },
  sample: { provider: 'digitalocean', volumeName: 'pmm-data' },
};
