// The data disk's device path as the guest sees it, stable across reboots and re-attachment, per provider. Never
// /dev/sdX or /dev/disk/by-diskseq/N: those depend on probe and attach order.
import { CnvmError } from '../errors.js';

export type DataDisk =
  /** libvirt: virtio disk with `<serial>`; udev names it /dev/disk/by-id/virtio-<serial> (serial ≤ 20 bytes). */
  | { provider: 'libvirt'; serial: string }
  /** GCE: the attachment's deviceName; the guest sees /dev/disk/by-id/google-<deviceName>. */
  | { provider: 'gcp'; deviceName: string }
  /** EC2 Nitro: the NVMe serial is the volume id without its dash. */
  | { provider: 'aws'; volumeId: string }
  /** DigitalOcean: the volume's name; the guest sees /dev/disk/by-id/scsi-0DO_Volume_<name>. */
  | { provider: 'digitalocean'; volumeName: string };

export class DataDiskError extends CnvmError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** virtio-blk exposes at most 20 bytes of serial; longer ones are cut and the by-id link would not match. */
const VIRTIO_SERIAL = /^[A-Za-z0-9_.-]{1,20}$/;
/** GCE device names: lowercase letters, digits and dashes, starting with a letter, at most 63 characters. */
const GCE_DEVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** DigitalOcean volume names: lowercase letters, digits and dashes, starting with a letter, at most 64. */
const DO_VOLUME_NAME = /^[a-z]([-a-z0-9]{0,62}[a-z0-9])?$/;
const EBS_VOLUME_ID = /^vol-[0-9a-f]{8}([0-9a-f]{9})?$/;

export function dataDiskDevice(disk: DataDisk): string {
  switch (disk.provider) {
    case 'libvirt':
      if (!VIRTIO_SERIAL.test(disk.serial)) {
        throw new DataDiskError(`libvirt disk serial ${JSON.stringify(disk.serial)} must be 1–20 characters of [A-Za-z0-9_.-]`);
      }
      return `/dev/disk/by-id/virtio-${disk.serial}`;
    case 'gcp':
      if (!GCE_DEVICE_NAME.test(disk.deviceName)) {
        throw new DataDiskError(`GCE deviceName ${JSON.stringify(disk.deviceName)} must match [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 characters`);
      }
      return `/dev/disk/by-id/google-${disk.deviceName}`;
    case 'aws':
      if (!EBS_VOLUME_ID.test(disk.volumeId)) throw new DataDiskError(`EBS volume id ${JSON.stringify(disk.volumeId)} must look like vol-0123456789abcdef0`);
      return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${disk.volumeId.replace('-', '')}`;
    case 'digitalocean':
      if (!DO_VOLUME_NAME.test(disk.volumeName)) throw new DataDiskError(`DigitalOcean volume name ${JSON.stringify(disk.volumeName)} must match [a-z]([-a-z0-9]*[a-z0-9])?, at most 64 characters`);
      return `/dev/disk/by-id/scsi-0DO_Volume_${disk.volumeName}`;
  }
}
