// How a libvirt guest names its data disk: a virtio disk with `<serial>`, which udev links as
// /dev/disk/by-id/virtio-<serial>. virtio-blk exposes at most 20 bytes of serial; a longer one is cut and the link
// would not match.
import { DataDiskError, type DiskNaming } from '../module.js';

export interface LibvirtDataDisk {
  provider: 'libvirt';
  serial: string;
}

export const VIRTIO_SERIAL = /^[A-Za-z0-9_.-]{1,20}$/;

export const libvirtDisk: DiskNaming<LibvirtDataDisk> = {
  fromVolume: (volume) => ({ provider: 'libvirt', serial: volume.deviceName }),
  device(disk) {
    if (!VIRTIO_SERIAL.test(disk.serial)) throw new DataDiskError(`libvirt disk serial ${JSON.stringify(disk.serial)} must be 1–20 characters of [A-Za-z0-9_.-]`);
    return `/dev/disk/by-id/virtio-${disk.serial}`;
  },
  sample: { provider: 'libvirt', serial: 'pmm-data' },
};
