// The AWS EC2 adapter (@aws-sdk/client-ec2, imported only when this provider is used). Credentials and region come
// from the standard chain (env, profile, SSO, instance role). Data volumes are encrypted gp3 EBS volumes in the
// instance's availability zone, tagged as cnvm's; they are attached after the instance exists, as /dev/sdf, and
// never deleted on termination. The guest finds one as /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol<id>.
// Ignition is the instance's user data (wrapped and compressed above EC2's 16 KB). Waits use the SDK's waiters;
// throttling (RequestLimitExceeded) is retried by the SDK's standard retry strategy with backoff.
import { randomUUID } from 'node:crypto';
import { defineProvider } from './contract.js';
import { InUseError, NotFoundError, PermissionError, ProviderError, TimeoutError, WrongStateError } from './errors.js';
import { fitIgnition } from './ignition-size.js';
import { recordFromTags, recordToTags } from './record-tags.js';
import { importSdk } from './sdk.js';
import type { ListResult, PlannedAction, Provider, VmInfo, VmSpec, VmState, Volume, VolumeSpec } from './types.js';

export const EC2_USER_DATA_LIMIT = 16 * 1024;
export const DATA_DEVICE = '/dev/sdf';
export const SECURITY_GROUP = 'cnvm-pmm';
const MANAGED = 'cnvm:managed';

export interface AwsOptions {
  region: string;
  profile?: string;
  /** The availability zone for instances and volumes (default: the region's `a` zone, or the subnet's). */
  availabilityZone?: string;
  subnetId?: string;
  securityGroupIds?: string[];
  instanceType?: string;
  keyName?: string;
  /** Create (once) a security group allowing 443 and 22 from these CIDRs, instead of passing securityGroupIds. */
  allowCidrs?: string[];
  /** Extra EC2Client configuration (tests: endpoint and static credentials). */
  clientConfig?: Record<string, unknown>;
  /** Waiter bounds, seconds. */
  waitMaxSec?: number;
  waitDelaySec?: number;
}

type Ec2 = typeof import('@aws-sdk/client-ec2');
interface Tag {
  Key?: string;
  Value?: string;
}

const tag = (tags: Tag[] | undefined, key: string): string | undefined => tags?.find((t) => t.Key === key)?.Value;
const RECORD_TAG_PREFIX = 'cnvm:record:';

function ownerAndRecord(tags: Tag[] | undefined): Pick<VmInfo, 'owner' | 'record'> {
  const owner = tag(tags, 'cnvm:owner');
  const generation = Number(tag(tags, 'cnvm:generation'));
  const record = recordFromTags(RECORD_TAG_PREFIX, tags);
  return { ...(owner && Number.isInteger(generation) ? { owner: { name: owner, generation } } : {}), ...(record ? { record } : {}) };
}

function vmState(name: string | undefined): VmState {
  switch (name) {
    case 'pending':
      return 'pending';
    case 'running':
      return 'running';
    case 'stopping':
    case 'shutting-down':
      return 'stopping';
    case 'stopped':
      return 'stopped';
    default:
      return 'unknown';
  }
}

/** Pure request builders: what --dry-run prints and what the adapter sends. */
export function awsRequests(o: AwsOptions, resolved: { az?: string; securityGroupIds?: string[] } = {}) {
  const az = resolved.az ?? o.availabilityZone ?? (o.subnetId ? `<zone of ${o.subnetId}>` : `${o.region}a`);
  const groups = resolved.securityGroupIds ?? o.securityGroupIds;
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
      ...(groups?.length ? { SecurityGroupIds: groups } : o.allowCidrs?.length ? { SecurityGroupIds: ['<cnvm-pmm group>'] } : {}),
      ...(o.keyName ? { KeyName: o.keyName } : {}),
      TagSpecifications: tags('instance', {
        Name: spec.name,
        [MANAGED]: 'true',
        'cnvm:image': spec.image.id,
        ...(spec.owner ? { 'cnvm:owner': spec.owner.name, 'cnvm:generation': String(spec.owner.generation) } : {}),
        ...(spec.record ? recordToTags(RECORD_TAG_PREFIX, spec.record) : {}),
      }),
      MetadataOptions: { HttpTokens: 'required' },
    }),
    attachVolume: (instanceId: string, volumeId: string) => ({ InstanceId: instanceId, VolumeId: volumeId, Device: DATA_DEVICE }),
    securityGroup: (vpcId: string) => ({
      GroupName: SECURITY_GROUP,
      Description: 'PMM over HTTPS and ssh (created by cnvm)',
      VpcId: vpcId,
      TagSpecifications: tags('security-group', { Name: SECURITY_GROUP, [MANAGED]: 'true' }),
    }),
    ingress: (groupId: string) => ({
      GroupId: groupId,
      IpPermissions: [443, 22].map((port) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: (o.allowCidrs ?? []).map((CidrIp) => ({ CidrIp })) })),
    }),
    detachVolume: (instanceId: string, volumeId: string) => ({ InstanceId: instanceId, VolumeId: volumeId }),
  };
}

function classify(what: string, err: unknown): ProviderError {
  const e = err as { name?: string; Code?: string; message?: string };
  const code = e.Code ?? e.name ?? '';
  const text = `${what}: ${code ? `${code}: ` : ''}${e.message ?? String(err)}`;
  if (/NotFound/.test(code)) return new NotFoundError(text, { cause: err });
  if (/VolumeInUse/.test(code)) return new InUseError(text, { cause: err });
  if (/IncorrectState|IncorrectInstanceState|ZoneMismatch/.test(code)) return new WrongStateError(text, { cause: err });
  if (/UnauthorizedOperation|AuthFailure|AccessDenied/.test(code)) return new PermissionError(text, { cause: err });
  if (/TimeoutError|Waiter/.test(code)) return new TimeoutError(text, { cause: err });
  return new ProviderError('failed', text, { cause: err });
}

export function createAwsProvider(options: AwsOptions): Provider {
  const req = awsRequests(options);
  let placement: Promise<ReturnType<typeof awsRequests>> | undefined;
  let sdk: Promise<{ ec2: Ec2; client: InstanceType<Ec2['EC2Client']> }> | undefined;
  const waitMax = options.waitMaxSec ?? 600;
  const waitDelay = options.waitDelaySec ?? 5;

  function load() {
    sdk ??= (async () => {
      // The pinned SDK release supports node 20 (cnvm's floor); its notice about future releases is not the user's concern.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const ec2 = await importSdk('aws', '@aws-sdk/client-ec2', () => import('@aws-sdk/client-ec2'));
      const client = new ec2.EC2Client({ region: options.region, maxAttempts: 6, ...(options.profile ? { profile: options.profile } : {}), ...(options.clientConfig ?? {}) });
      return { ec2, client };
    })();
    return sdk;
  }

  async function send<T>(what: string, command: object): Promise<T> {
    const { client } = await load();
    try {
      return (await client.send(command as never)) as T;
    } catch (err) {
      throw classify(what, err);
    }
  }

  async function wait(what: string, waiter: (params: { client: unknown; maxWaitTime: number; minDelay: number; maxDelay: number }, input: object) => Promise<unknown>, input: object): Promise<void> {
    const { client } = await load();
    try {
      await waiter({ client, maxWaitTime: waitMax, minDelay: waitDelay, maxDelay: Math.max(waitDelay, Math.min(30, waitDelay * 16)) }, input);
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e.name === 'TimeoutError' || /timed out|exceeded/i.test(e.message ?? '')) throw new TimeoutError(`${what}: not done after ${waitMax} s`, { cause: err });
      throw classify(what, err);
    }
  }

  type Instance = { InstanceId?: string; State?: { Name?: string }; Tags?: Tag[]; ImageId?: string; PublicIpAddress?: string; PrivateIpAddress?: string; Placement?: { AvailabilityZone?: string } };
  type Ebs = { VolumeId?: string; Size?: number; State?: string; AvailabilityZone?: string; Tags?: Tag[]; Attachments?: { InstanceId?: string; State?: string }[] };

  async function instanceByName(name: string): Promise<Instance | undefined> {
    const { ec2 } = await load();
    const out = await send<{ Reservations?: { Instances?: Instance[] }[] }>(
      `DescribeInstances ${name}`,
      new ec2.DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:Name', Values: [name] },
          { Name: `tag:${MANAGED}`, Values: ['true'] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      }),
    );
    return out.Reservations?.flatMap((r) => r.Instances ?? [])[0];
  }

  async function volumeByName(name: string): Promise<Ebs | undefined> {
    const { ec2 } = await load();
    const out = await send<{ Volumes?: Ebs[] }>(
      `DescribeVolumes ${name}`,
      new ec2.DescribeVolumesCommand({ Filters: [{ Name: 'tag:Name', Values: [name] }, { Name: `tag:${MANAGED}`, Values: ['true'] }] }),
    );
    return out.Volumes?.find((v) => v.State !== 'deleting' && v.State !== 'deleted');
  }

  async function volumeById(id: string): Promise<Ebs | undefined> {
    const { ec2 } = await load();
    try {
      const out = await send<{ Volumes?: Ebs[] }>(`DescribeVolumes ${id}`, new ec2.DescribeVolumesCommand({ VolumeIds: [id] }));
      return out.Volumes?.find((v) => v.State !== 'deleting' && v.State !== 'deleted');
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  const nameOfInstance = async (instanceId: string | undefined): Promise<string | undefined> => {
    if (!instanceId) return undefined;
    const { ec2 } = await load();
    const out = await send<{ Reservations?: { Instances?: Instance[] }[] }>(`DescribeInstances ${instanceId}`, new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const inst = out.Reservations?.flatMap((r) => r.Instances ?? [])[0];
    return tag(inst?.Tags, 'Name') ?? instanceId;
  };

  async function volumeOf(v: Ebs): Promise<Volume> {
    const holder = v.Attachments?.find((a) => a.State !== 'detached');
    const attachedTo = await nameOfInstance(holder?.InstanceId);
    return {
      id: v.VolumeId ?? '',
      name: tag(v.Tags, 'Name') ?? v.VolumeId ?? '',
      sizeGiB: v.Size ?? 0,
      deviceName: tag(v.Tags, 'cnvm:device') ?? '',
      ...(attachedTo ? { attachedTo } : {}),
    };
  }

  async function vmOf(i: Instance): Promise<VmInfo> {
    const { ec2 } = await load();
    const vols = await send<{ Volumes?: Ebs[] }>(
      `DescribeVolumes attached to ${i.InstanceId}`,
      new ec2.DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [i.InstanceId ?? ''] }, { Name: `tag:${MANAGED}`, Values: ['true'] }] }),
    );
    const state = vmState(i.State?.Name);
    return {
      name: tag(i.Tags, 'Name') ?? i.InstanceId ?? '',
      id: i.InstanceId ?? '',
      state,
      image: tag(i.Tags, 'cnvm:image') ?? i.ImageId ?? '',
      volumes: (vols.Volumes ?? [])
        .filter((v) => v.Attachments?.some((a) => a.InstanceId === i.InstanceId && a.State !== 'detached'))
        .map((v) => ({ volumeId: v.VolumeId ?? '', deviceName: tag(v.Tags, 'cnvm:device') ?? '' })),
      addresses: state === 'running' ? [i.PublicIpAddress, i.PrivateIpAddress].filter((x): x is string => !!x) : [],
      ...ownerAndRecord(i.Tags),
    };
  }

  async function mustInstance(name: string): Promise<Instance> {
    const i = await instanceByName(name);
    if (!i) throw new NotFoundError(`no instance named ${name} in ${options.region}`);
    return i;
  }

  const planned = (action: string, detail: Record<string, unknown>, effect: string): PlannedAction[] => [{ action, detail, effect }];

  /**
   * Requests for the real placement: the subnet's availability zone (volumes must be created where the instance
   * runs) and the security group cnvm made when asked to (`allowCidrs`). Looked up once.
   */
  function placed(): Promise<ReturnType<typeof awsRequests>> {
    placement ??= (async () => {
      const { ec2 } = await load();
      let az = options.availabilityZone;
      let vpcId: string | undefined;
      if (options.subnetId) {
        const out = await send<{ Subnets?: { AvailabilityZone?: string; VpcId?: string }[] }>(`DescribeSubnets ${options.subnetId}`, new ec2.DescribeSubnetsCommand({ SubnetIds: [options.subnetId] }));
        az = out.Subnets?.[0]?.AvailabilityZone ?? az;
        vpcId = out.Subnets?.[0]?.VpcId;
      }
      if (!options.allowCidrs?.length) return awsRequests(options, { ...(az ? { az } : {}) });
      if (!vpcId) {
        const vpcs = await send<{ Vpcs?: { VpcId?: string }[] }>('DescribeVpcs', new ec2.DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }));
        vpcId = vpcs.Vpcs?.[0]?.VpcId;
        if (!vpcId) throw new ProviderError('invalid', `no default VPC in ${options.region}: give a subnet (--subnet)`);
      }
      const found = await send<{ SecurityGroups?: { GroupId?: string }[] }>(
        'DescribeSecurityGroups',
        new ec2.DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [SECURITY_GROUP] }, { Name: 'vpc-id', Values: [vpcId] }] }),
      );
      let groupId = found.SecurityGroups?.[0]?.GroupId;
      if (!groupId) {
        const created = await send<{ GroupId?: string }>('CreateSecurityGroup', new ec2.CreateSecurityGroupCommand(req.securityGroup(vpcId) as never));
        groupId = created.GroupId ?? '';
        await send('AuthorizeSecurityGroupIngress', new ec2.AuthorizeSecurityGroupIngressCommand(req.ingress(groupId) as never));
      }
      return awsRequests(options, { ...(az ? { az } : {}), securityGroupIds: [groupId, ...(options.securityGroupIds ?? [])] });
    })();
    placement.catch(() => (placement = undefined));
    return placement;
  }

  const provider: Provider = {
    name: 'aws',
    // Until Elastic IPs: the public IP is the instance's own and changes when the VM is replaced.
    addressing: { kind: 'implicit', describe: 'the instance\'s own public IP (changes on upgrade)' },
    // Nitro NVMe: the serial is the volume id without its dash.
    dataDisk: (volume) => ({ provider: 'aws', volumeId: volume.id }),
    plan: {
      createVolume: (spec) => planned('ec2:CreateVolume', req.createVolume(spec), `encrypted gp3 volume ${spec.name}, ${spec.sizeGiB} GiB`),
      deleteVolume: (id) => planned('ec2:DeleteVolume', { VolumeId: id }, `delete ${id} and everything on it`),
      createVm: (spec) => [
        ...(options.allowCidrs?.length ? planned('ec2:CreateSecurityGroup', req.ingress('<cnvm-pmm group>'), `security group ${SECURITY_GROUP} allowing 443 and 22 from ${options.allowCidrs.join(', ')} (if missing)`) : []),
        ...planned('ec2:RunInstances', { ...req.runInstances(spec, '<ignition>'), UserData: '<base64 Ignition>', ClientToken: '<uuid>' }, `instance ${spec.name}`),
        ...planned('ec2:StopInstances', { InstanceIds: ['<new instance>'] }, 'stop it until it is wanted (EC2 starts new instances)'),
        ...(spec.dataVolumeId ? planned('ec2:AttachVolume', req.attachVolume('<new instance>', spec.dataVolumeId), `attach the data volume as ${DATA_DEVICE}`) : []),
      ],
      startVm: (name) => planned('ec2:StartInstances', { InstanceIds: [`<${name}>`] }, `start ${name}`),
      stopVm: (name) => planned('ec2:StopInstances', { InstanceIds: [`<${name}>`] }, `stop ${name}`),
      destroyVm: (name) => planned('ec2:TerminateInstances', { InstanceIds: [`<${name}>`] }, `terminate ${name}; its root volume goes, the data volume stays (DeleteOnTermination false)`),
      attachVolume: (vm, id) => planned('ec2:AttachVolume', req.attachVolume(`<${vm}>`, id), `attach ${id} to stopped ${vm}`),
      detachVolume: (vm, id) => planned('ec2:DetachVolume', req.detachVolume(`<${vm}>`, id), `detach ${id} from stopped ${vm}`),
    },

    async findVolume(name) {
      const v = await volumeByName(name);
      return v ? volumeOf(v) : undefined;
    },

    async createVolume(spec) {
      const existing = await this.findVolume(spec.name);
      if (existing) return existing;
      const { ec2 } = await load();
      const out = await send<{ VolumeId?: string }>(`CreateVolume ${spec.name}`, new ec2.CreateVolumeCommand({ ...(await placed()).createVolume(spec), ClientToken: randomUUID() } as never));
      await wait(`volume ${spec.name} available`, ec2.waitUntilVolumeAvailable as never, { VolumeIds: [out.VolumeId] });
      return (await this.findVolume(spec.name)) as Volume;
    },

    async deleteVolume(id) {
      const v = await volumeById(id);
      if (!v) return;
      const vol = await volumeOf(v);
      if (vol.attachedTo) throw new InUseError(`volume ${id} is attached to ${vol.attachedTo}; detach it first`);
      const { ec2 } = await load();
      await send(`DeleteVolume ${id}`, new ec2.DeleteVolumeCommand({ VolumeId: id }));
    },

    async findVm(name) {
      const i = await instanceByName(name);
      return i ? vmOf(i) : undefined;
    },

    async consoleOutput(name) {
      const inst = await instanceByName(name);
      if (!inst?.InstanceId) return undefined;
      const { ec2 } = await load();
      const out = await send<{ Output?: string }>(`GetConsoleOutput ${name}`, new ec2.GetConsoleOutputCommand({ InstanceId: inst.InstanceId, Latest: true } as never));
      return out.Output ? Buffer.from(out.Output, 'base64').toString('utf8') : undefined;
    },

    async preflight(spec) {
      fitIgnition(spec.ignition, EC2_USER_DATA_LIMIT, 'EC2 user data');
      if (!/^ami-[0-9a-f]{8,17}$/.test(spec.image.id) && !spec.image.id.startsWith('<')) throw new ProviderError('invalid', `${spec.image.id} is not an AMI id (ami-…)`);
    },

    async createVm(spec) {
      const { ec2 } = await load();
      let inst = await instanceByName(spec.name);
      if (!inst) {
        if (spec.dataVolumeId) {
          const v = await volumeById(spec.dataVolumeId);
          if (!v) throw new NotFoundError(`volume ${spec.dataVolumeId} does not exist`);
          const holder = await volumeOf(v);
          if (holder.attachedTo) throw new InUseError(`volume ${spec.dataVolumeId} is attached to ${holder.attachedTo}; a volume is attached to one instance at a time`);
        }
        const { text } = fitIgnition(spec.ignition, EC2_USER_DATA_LIMIT, 'EC2 user data');
        const out = await send<{ Instances?: Instance[] }>(`RunInstances ${spec.name}`, new ec2.RunInstancesCommand({ ...(await placed()).runInstances(spec, text), ClientToken: randomUUID() } as never));
        const id = out.Instances?.[0]?.InstanceId ?? '';
        await wait(`instance ${spec.name} running`, ec2.waitUntilInstanceRunning as never, { InstanceIds: [id] });
        inst = await mustInstance(spec.name);
      }
      // EC2 starts what it launches; the contract is "created, not started".
      await provider.stopVm(spec.name);
      if (spec.dataVolumeId) await provider.attachVolume(spec.name, spec.dataVolumeId);
      return vmOf(await mustInstance(spec.name));
    },

    async startVm(name) {
      const i = await mustInstance(name);
      if (i.State?.Name !== 'running') {
        const { ec2 } = await load();
        if (i.State?.Name === 'stopping') await wait(`instance ${name} stopped`, ec2.waitUntilInstanceStopped as never, { InstanceIds: [i.InstanceId] });
        if (i.State?.Name !== 'pending') await send(`StartInstances ${name}`, new ec2.StartInstancesCommand({ InstanceIds: [i.InstanceId ?? ''] }));
        await wait(`instance ${name} running`, ec2.waitUntilInstanceRunning as never, { InstanceIds: [i.InstanceId] });
      }
      return vmOf(await mustInstance(name));
    },

    async stopVm(name) {
      const i = await mustInstance(name);
      if (i.State?.Name !== 'stopped') {
        const { ec2 } = await load();
        if (i.State?.Name === 'pending') await wait(`instance ${name} running`, ec2.waitUntilInstanceRunning as never, { InstanceIds: [i.InstanceId] });
        if (i.State?.Name !== 'stopping') await send(`StopInstances ${name}`, new ec2.StopInstancesCommand({ InstanceIds: [i.InstanceId ?? ''] }));
        await wait(`instance ${name} stopped`, ec2.waitUntilInstanceStopped as never, { InstanceIds: [i.InstanceId] });
      }
      return vmOf(await mustInstance(name));
    },

    async destroyVm(name) {
      const i = await instanceByName(name);
      if (!i) return;
      const { ec2 } = await load();
      await send(`TerminateInstances ${name}`, new ec2.TerminateInstancesCommand({ InstanceIds: [i.InstanceId ?? ''] }));
      await wait(`instance ${name} terminated`, ec2.waitUntilInstanceTerminated as never, { InstanceIds: [i.InstanceId] });
    },

    async attachVolume(vmName, volumeId) {
      const i = await mustInstance(vmName);
      const vm = await vmOf(i);
      if (vm.volumes.some((v) => v.volumeId === volumeId)) return vm;
      const v = await volumeById(volumeId);
      if (!v) throw new NotFoundError(`volume ${volumeId} does not exist`);
      const vol = await volumeOf(v);
      if (vol.attachedTo) throw new InUseError(`volume ${volumeId} is attached to ${vol.attachedTo}; a volume is attached to one instance at a time`);
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before attaching the data volume`);
      if (v.AvailabilityZone && i.Placement?.AvailabilityZone && v.AvailabilityZone !== i.Placement.AvailabilityZone) {
        throw new WrongStateError(`volume ${volumeId} is in ${v.AvailabilityZone} but ${vmName} is in ${i.Placement.AvailabilityZone}`);
      }
      const { ec2 } = await load();
      await send(`AttachVolume ${volumeId}`, new ec2.AttachVolumeCommand(req.attachVolume(i.InstanceId ?? '', volumeId)));
      await wait(`volume ${volumeId} in use`, ec2.waitUntilVolumeInUse as never, { VolumeIds: [volumeId] });
      return vmOf(await mustInstance(vmName));
    },

    async detachVolume(vmName, volumeId) {
      const i = await mustInstance(vmName);
      const vm = await vmOf(i);
      if (!vm.volumes.some((v) => v.volumeId === volumeId)) return vm;
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before detaching the data volume`);
      const { ec2 } = await load();
      await send(`DetachVolume ${volumeId}`, new ec2.DetachVolumeCommand(req.detachVolume(i.InstanceId ?? '', volumeId)));
      await wait(`volume ${volumeId} available`, ec2.waitUntilVolumeAvailable as never, { VolumeIds: [volumeId] });
      return vmOf(await mustInstance(vmName));
    },

    async list(): Promise<ListResult> {
      const { ec2 } = await load();
      const managed = [{ Name: `tag:${MANAGED}`, Values: ['true'] }];
      // Both calls page (EC2 returns NextToken past MaxResults; moto pages instances at 100 reservations).
      const instances: Instance[] = [];
      let token: string | undefined;
      do {
        const page: { Reservations?: { Instances?: Instance[] }[]; NextToken?: string } = await send(
          'DescribeInstances',
          new ec2.DescribeInstancesCommand({ Filters: [...managed, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }], MaxResults: 1000, ...(token ? { NextToken: token } : {}) }),
        );
        instances.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []));
        token = page.NextToken;
      } while (token);
      const ebs: Ebs[] = [];
      do {
        const page: { Volumes?: Ebs[]; NextToken?: string } = await send('DescribeVolumes', new ec2.DescribeVolumesCommand({ Filters: managed, MaxResults: 500, ...(token ? { NextToken: token } : {}) }));
        ebs.push(...(page.Volumes ?? []));
        token = page.NextToken;
      } while (token);
      const vms = await Promise.all(instances.map(vmOf));
      const volumes = await Promise.all(ebs.filter((v) => v.State !== 'deleted').map(volumeOf));
      return { vms, volumes };
    },
  };
  return defineProvider(provider);
}
