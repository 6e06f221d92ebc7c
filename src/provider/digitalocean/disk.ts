// How a droplet names a block-storage volume: DigitalOcean's udev rules link every attached volume as
// /dev/disk/by-id/scsi-0DO_Volume_<volume name>, whichever droplet holds it and in whatever order it was attached.
// The name is what the volume was created with, so the guest's mount unit is known before the volume exists.

/** DigitalOcean volume names: lowercase letters, digits and dashes, starting with a letter, at most 64 characters. */
export const DO_VOLUME_NAME = /^[a-z]([-a-z0-9]{0,62}[a-z0-9])?$/;

export const DO_VOLUME_LINK_PREFIX = '/dev/disk/by-id/scsi-0DO_Volume_';

/** The guest's stable path for the volume named `name`; undefined when the name is not one DigitalOcean takes. */
export function doVolumeDevice(name: string): string | undefined {
  return DO_VOLUME_NAME.test(name) ? `${DO_VOLUME_LINK_PREFIX}${name}` : undefined;
}
