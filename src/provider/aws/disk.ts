// How an EC2 (Nitro) guest names its data disk: the EBS volume is an NVMe device whose serial is the volume id
// without its dash, linked as /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol<id>.
import { DataDiskError, type DiskNaming } from '../module.js';

export interface AwsDataDisk {
  provider: 'aws';
  volumeId: string;
}

const EBS_VOLUME_ID = /^vol-[0-9a-f]{8}([0-9a-f]{9})?$/;

export const awsDisk: DiskNaming<AwsDataDisk> = {
  fromVolume: (volume) => ({ provider: 'aws', volumeId: volume.id }),
  device(disk) {
    if (!EBS_VOLUME_ID.test(disk.volumeId)) throw new DataDiskError(`EBS volume id ${JSON.stringify(disk.volumeId)} must look like vol-0123456789abcdef0`);
    return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${disk.volumeId.replace('-', '')}`;
  },
  // The real id is known only once the volume exists; cnvm provision substitutes it.
  sample: { provider: 'aws', volumeId: 'vol-0123456789abcdef0' },
};
