// Pure request builders of the EC2 adapter (what --dry-run prints and what the adapter sends) and its options.
import { MANAGED } from './network.js';
import { recordToTags } from '../record-tags.js';
import type { AddressingInfo, VmSpec, VolumeSpec } from '../types.js';

export const DATA_DEVICE = '/dev/sdf';
/**
 * The instance metadata service: session tokens required (IMDSv2; IMDSv1's plain GET is refused) and a PUT response
 * hop limit of 1, so a token never reaches past the host (a container on a bridged network is one hop more). Fedora
 * CoreOS's Afterburn and Ignition use IMDSv2. The launch request and both exports use this one value.
 */
export const IMDS_V2_ONLY = { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 } as const;
export const RECORD_TAG_PREFIX = 'cnvm:record:';

export interface AwsOptions {
  region: string;
  profile?: string;
  /** The availability zone for instances and volumes (default: the subnet's, or the region's `a` zone). */
  availabilityZone?: string;
  subnetId?: string;
  /** The user's own security groups, added to the instance. */
  securityGroupIds?: string[];
  instanceType?: string;
  keyName?: string;
  /** Who may reach 443 and 22 through the VM's own group; absent: the operator's own address (see network.ts). */
  allowCidrs?: string[];
  /** `stable` (default): an Elastic IP kept across generations; `ephemeral`: the instance's own public IP. */
  address?: 'stable' | 'ephemeral';
  /** The operator's public CIDR (default: operatorCidr(), an echo service). */
  operatorCidr?: () => Promise<string>;
  /** Extra EC2Client configuration (tests: endpoint and static credentials). */
  clientConfig?: Record<string, unknown>;
  maxAttempts?: number;
  /** How long a guest gets to shut down before its stop is forced (stop.ts). */
  stopGraceSec?: number;
  /** Waiter bounds, seconds. */
  waitMaxSec?: number;
  waitDelaySec?: number;
}

export function addressingOf(o: Pick<AwsOptions, 'address'>): AddressingInfo {
  return o.address === 'ephemeral'
    ? { kind: 'implicit', describe: "the instance's own public IP (--address ephemeral: it changes on upgrade and rollback)" }
    : { kind: 'reserved', describe: 'Elastic IP <name>-address, moved to the new instance inside the downtime window' };
}

/** Pure request builders: what --dry-run prints and what the adapter sends. */
export function awsRequests(o: AwsOptions, resolved: { az?: string; securityGroupIds?: string[] } = {}) {
  const az = resolved.az ?? o.availabilityZone ?? (o.subnetId ? `<zone of ${o.subnetId}>` : `${o.region}a`);
  const groups = resolved.securityGroupIds ?? [...(cnvmGroup(o) ? ['<cnvm group <name>-pmm>'] : []), ...(o.securityGroupIds ?? [])];
  const tags = (resource: string, values: Record<string, string>) => [{ ResourceType: resource, Tags: Object.entries(values).map(([Key, Value]) => ({ Key, Value })) }];
  return {
    createVolume: (spec: VolumeSpec) => ({
      AvailabilityZone: az,
      Size: spec.sizeGiB,
      VolumeType: 'gp3',
      Encrypted: true,
      TagSpecifications: tags('volume', { Name: spec.name, [MANAGED]: 'true', 'cnvm:device': spec.deviceName, ...(spec.vmName ? { 'cnvm:vm': spec.vmName } : {}) }),
    }),
    runInstances: (spec: VmSpec, userData: string) => ({
      ImageId: spec.image.id,
      InstanceType: o.instanceType ?? 't3.large',
      MinCount: 1,
      MaxCount: 1,
      UserData: Buffer.from(userData).toString('base64'),
      ...(o.subnetId ? { SubnetId: o.subnetId } : { Placement: { AvailabilityZone: az } }),
      ...(groups.length ? { SecurityGroupIds: groups } : {}),
      ...(o.keyName ? { KeyName: o.keyName } : {}),
      TagSpecifications: tags('instance', {
        Name: spec.name,
        [MANAGED]: 'true',
        'cnvm:image': spec.image.id,
        ...(spec.owner ? { 'cnvm:owner': spec.owner.name, 'cnvm:generation': String(spec.owner.generation) } : {}),
        ...(spec.record ? recordToTags(RECORD_TAG_PREFIX, spec.record) : {}),
      }),
      MetadataOptions: IMDS_V2_ONLY,
    }),
    attachVolume: (instanceId: string, volumeId: string) => ({ InstanceId: instanceId, VolumeId: volumeId, Device: DATA_DEVICE }),
    detachVolume: (instanceId: string, volumeId: string) => ({ InstanceId: instanceId, VolumeId: volumeId }),
  };
}

/** cnvm makes the VM's own group unless the user gave only their own groups. */
export const cnvmGroup = (o: AwsOptions): boolean => !!o.allowCidrs?.length || !o.securityGroupIds?.length;

