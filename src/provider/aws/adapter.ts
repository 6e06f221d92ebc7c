// The AWS EC2 adapter (@aws-sdk/client-ec2, imported only when this provider is used). Credentials and region come
// from the standard chain (env, profile, SSO, instance role). Data volumes are encrypted gp3 EBS volumes in the
// instance's availability zone, tagged as cnvm's; they are attached after the instance exists, as /dev/sdf, and
// never deleted on termination. The guest finds one as /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol<id>.
// Ignition is the instance's user data (wrapped and compressed above EC2's 16 KB). Each VM has its own security
// group and (unless --address ephemeral) an Elastic IP that moves to every new generation (network.ts). Waits
// use the SDK's waiters; retries are the SDK's (aws-client.ts).
import { awsLeases } from './lease.js';
import { randomUUID } from 'node:crypto';
import { operatorCidr } from '../operator-address.js';
import { ec2Session } from './client.js';
import { awsNetwork, MANAGED, planGroup, networkRequests, type AddressView } from './network.js';
import { createOnce, settle } from './repeat-safe.js';
import { stopInstance } from './stop.js';
import { defineProvider } from '../contract.js';
import { InUseError, NotFoundError, ProviderError } from '../errors.js';
import { fitIgnition } from '../ignition-size.js';
import { recordFromTags } from '../record-tags.js';
import { addressingOf, awsRequests, cnvmGroup, DATA_DEVICE, RECORD_TAG_PREFIX, type AwsOptions } from './requests.js';
import type { ProviderPrimitives } from '../primitives.js';
import type { AccessRule, ListResult, PlannedAction, Provider, VmInfo, VmSpec, VmState, Volume } from '../types.js';

export { awsRequests, DATA_DEVICE, type AwsOptions };

export const EC2_USER_DATA_LIMIT = 16 * 1024;
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

interface Tag {
  Key?: string;
  Value?: string;
}
type Instance = { InstanceId?: string; VpcId?: string; State?: { Name?: string }; Tags?: Tag[]; ImageId?: string; PublicIpAddress?: string; PrivateIpAddress?: string; Placement?: { AvailabilityZone?: string } };
type Ebs = { VolumeId?: string; Size?: number; State?: string; AvailabilityZone?: string; Tags?: Tag[]; Attachments?: { InstanceId?: string; State?: string }[] };

const tag = (tags: Tag[] | undefined, key: string): string | undefined => tags?.find((t) => t.Key === key)?.Value;
const ownerOf = (spec: Pick<VmSpec, 'name' | 'owner'>): string => spec.owner?.name ?? spec.name;

function ownerAndRecord(tags: Tag[] | undefined): Pick<VmInfo, 'owner' | 'record'> {
  const owner = tag(tags, 'cnvm:owner');
  const generation = Number(tag(tags, 'cnvm:generation'));
  const record = recordFromTags(RECORD_TAG_PREFIX, tags);
  return { ...(owner && Number.isInteger(generation) ? { owner: { name: owner, generation } } : {}), ...(record ? { record } : {}) };
}

function vmState(name: string | undefined): VmState {
  if (name === 'pending' || name === 'running' || name === 'stopped') return name;
  if (name === 'stopping' || name === 'shutting-down') return 'stopping';
  return 'unknown';
}

export function createAwsProvider(options: AwsOptions): Provider {
  const req = awsRequests(options);
  const session = ec2Session(options);
  const { load, send, sendOnce, all, wait } = session;
  const net = awsNetwork(session, options.region);
  const addressing = addressingOf(options);
  let placement: Promise<{ az: string; vpcId: string; subnetId: string }> | undefined;

  const live = { Name: 'instance-state-name', Values: LIVE_STATES };
  const managed = { Name: `tag:${MANAGED}`, Values: ['true'] };

  async function instances(what: string, filters: { Name: string; Values: string[] }[]): Promise<Instance[]> {
    const { ec2 } = await load();
    return all<Instance>(what, (t) => new ec2.DescribeInstancesCommand({ Filters: filters, MaxResults: 1000, ...(t ? { NextToken: t } : {}) }), (p) => (p.Reservations as { Instances?: Instance[] }[] | undefined)?.flatMap((r) => r.Instances ?? []));
  }
  async function volumes(what: string, filters: { Name: string; Values: string[] }[]): Promise<Ebs[]> {
    const { ec2 } = await load();
    const found = await all<Ebs>(what, (t) => new ec2.DescribeVolumesCommand({ Filters: filters, MaxResults: 500, ...(t ? { NextToken: t } : {}) }), (p) => p.Volumes as Ebs[]);
    return found.filter((v) => v.State !== 'deleting' && v.State !== 'deleted');
  }
  const instanceByName = async (name: string): Promise<Instance | undefined> => (await instances(`DescribeInstances ${name}`, [{ Name: 'tag:Name', Values: [name] }, managed, live]))[0];
  /** The live instances of a cnvm VM: its generations (owner tag) and a first one named like the VM. */
  const ownerInstances = async (owner: string): Promise<Instance[]> => {
    const tagged = await instances(`DescribeInstances of ${owner}`, [{ Name: 'tag:cnvm:owner', Values: [owner] }, managed, live]);
    const named = await instances(`DescribeInstances ${owner}`, [{ Name: 'tag:Name', Values: [owner] }, managed, live]);
    return [...new Map([...tagged, ...named].map((x) => [x.InstanceId, x])).values()];
  };
  const volumeByName = async (name: string): Promise<Ebs | undefined> => (await volumes(`DescribeVolumes ${name}`, [{ Name: 'tag:Name', Values: [name] }, managed]))[0];

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

  /** cnvm's name of a live (not terminated) instance; undefined for none. */
  const nameOfInstance = async (instanceId: string | undefined): Promise<string | undefined> => {
    if (!instanceId) return undefined;
    const { ec2 } = await load();
    const out = await send<{ Reservations?: { Instances?: Instance[] }[] }>(`DescribeInstances ${instanceId}`, new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const inst = out.Reservations?.flatMap((r) => r.Instances ?? [])[0];
    if (inst && !LIVE_STATES.includes(inst.State?.Name ?? '')) return undefined;
    return tag(inst?.Tags, 'Name') ?? instanceId;
  };

  /** `live`: instances already read (list()), whose names need no second DescribeInstances. */
  async function volumeOf(v: Ebs, live: Instance[] = []): Promise<Volume> {
    const holder = v.Attachments?.find((a) => a.State !== 'detached');
    const known = holder?.InstanceId ? live.find((i) => i.InstanceId === holder.InstanceId) : undefined;
    const attachedTo = known ? (tag(known.Tags, 'Name') ?? holder?.InstanceId) : await nameOfInstance(holder?.InstanceId);
    return { id: v.VolumeId ?? '', name: tag(v.Tags, 'Name') ?? v.VolumeId ?? '', sizeGiB: v.Size ?? 0, deviceName: tag(v.Tags, 'cnvm:device') ?? '', ...(attachedTo ? { attachedTo } : {}) };
  }

  /** `known`: what list() read once for all instances (their volumes, the Elastic IPs), instead of reads per VM. */
  async function vmOf(i: Instance, known?: { volumes: Ebs[]; addresses: AddressView | undefined }): Promise<VmInfo> {
    const id = i.InstanceId ?? '';
    const attached = known
      ? known.volumes.filter((v) => v.Attachments?.some((a) => a.InstanceId === id))
      : await volumes(`DescribeVolumes attached to ${id}`, [{ Name: 'attachment.instance-id', Values: [id] }, managed]);
    const state = vmState(i.State?.Name);
    const reserved = addressing.kind === 'reserved';
    // The Elastic IP first: it is the address clients use, and a stopped instance still holds it.
    const eip = reserved ? (known?.addresses ? known.addresses.addressOf(id) : await net.addressOf(id)) : undefined;
    const heldElsewhere = async (ip: string): Promise<boolean> => reserved && (known?.addresses ? known.addresses.heldElsewhere(ip, id) : await net.elasticIpHeldElsewhere(ip, id));
    const publicIp = state === 'running' && i.PublicIpAddress && i.PublicIpAddress !== eip && !(await heldElsewhere(i.PublicIpAddress)) ? i.PublicIpAddress : undefined;
    const own = state === 'running' ? [publicIp, i.PrivateIpAddress] : [];
    return {
      name: tag(i.Tags, 'Name') ?? id,
      id,
      state,
      image: tag(i.Tags, 'cnvm:image') ?? i.ImageId ?? '',
      volumes: attached.filter((v) => v.Attachments?.some((a) => a.InstanceId === id && a.State !== 'detached')).map((v) => ({ volumeId: v.VolumeId ?? '', deviceName: tag(v.Tags, 'cnvm:device') ?? '' })),
      addresses: [...new Set([eip, ...own].filter((x): x is string => !!x))],
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
   * Read-only checks of where instances go, before any side effect: the zone exists, the subnet exists (and is in
   * the zone, when both are given), the user's security groups exist. Resolves the zone, subnet and VPC once.
   */
  function placed(): Promise<{ az: string; vpcId: string; subnetId: string }> {
    placement ??= (async () => {
      const { ec2 } = await load();
      const zones = await send<{ AvailabilityZones?: { ZoneName?: string }[] }>('DescribeAvailabilityZones', new ec2.DescribeAvailabilityZonesCommand({}));
      const known = (zones.AvailabilityZones ?? []).map((z) => z.ZoneName ?? '');
      if (options.availabilityZone && !known.includes(options.availabilityZone)) {
        throw new ProviderError('invalid', `--zone ${options.availabilityZone}: no such availability zone in ${options.region} (there: ${known.join(', ')})`);
      }
      type Subnet = { SubnetId?: string; AvailabilityZone?: string; VpcId?: string };
      let subnet: Subnet | undefined;
      if (options.subnetId) {
        try {
          subnet = (await send<{ Subnets?: Subnet[] }>(`DescribeSubnets ${options.subnetId}`, new ec2.DescribeSubnetsCommand({ SubnetIds: [options.subnetId] }))).Subnets?.[0];
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
        if (!subnet) throw new ProviderError('invalid', `--subnet ${options.subnetId}: no such subnet in ${options.region}`);
        if (options.availabilityZone && subnet.AvailabilityZone !== options.availabilityZone) {
          throw new ProviderError('invalid', `--subnet ${options.subnetId} is in ${subnet.AvailabilityZone}, not in --zone ${options.availabilityZone}: give one of them, or both agreeing`);
        }
      } else {
        const az = options.availabilityZone ?? known.find((z) => z === `${options.region}a`) ?? known[0] ?? '';
        const defaults = await all<Subnet>('DescribeSubnets', (t) => new ec2.DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }, { Name: 'availability-zone', Values: [az] }], MaxResults: 1000, ...(t ? { NextToken: t } : {}) }), (p) => p.Subnets as Subnet[]);
        subnet = defaults[0];
        if (!subnet) throw new ProviderError('invalid', `no default subnet in ${az} (${options.region} has no default VPC there): give --subnet`);
      }
      if (options.securityGroupIds?.length) {
        try {
          await send('DescribeSecurityGroups', new ec2.DescribeSecurityGroupsCommand({ GroupIds: options.securityGroupIds }));
        } catch (err) {
          if (err instanceof NotFoundError) throw new ProviderError('invalid', `--security-group ${options.securityGroupIds.join(',')}: ${(err.cause as Error).message}`, { cause: err });
          throw err;
        }
      }
      return { az: subnet.AvailabilityZone ?? '', vpcId: subnet.VpcId ?? '', subnetId: subnet.SubnetId ?? '' };
    })();
    placement.catch(() => (placement = undefined));
    return placement;
  }

  async function checkImage(imageId: string): Promise<void> {
    const { ec2 } = await load();
    const found = await send<{ Images?: unknown[] }>(`DescribeImages ${imageId}`, new ec2.DescribeImagesCommand({ ImageIds: [imageId] })).catch((err: unknown) => {
      if (err instanceof NotFoundError) return { Images: [] };
      throw err;
    });
    if (!found.Images?.length) throw new ProviderError('invalid', `--image ${imageId}: no such AMI in ${options.region} (AMIs are per region)`);
  }

  async function groupsFor(spec: VmSpec, vpcId: string): Promise<string[]> {
    if (!cnvmGroup(options)) return options.securityGroupIds ?? [];
    const exact = !!options.allowCidrs?.length;
    const cidrs = exact ? (options.allowCidrs as string[]) : [await (options.operatorCidr ?? operatorCidr)()];
    const own = await net.ensureGroup(ownerOf(spec), vpcId, cidrs, exact);
    return [own, ...(options.securityGroupIds ?? [])];
  }

  const primitives: ProviderPrimitives = {
    name: 'aws',
    leases: awsLeases(session, async () => (await placed()).vpcId, options.region),
    addressing,
    plan: {
      createVolume: (spec) => planned('ec2:CreateVolume', req.createVolume(spec), `encrypted gp3 volume ${spec.name}, ${spec.sizeGiB} GiB`),
      deleteVolume: (id) => planned('ec2:DeleteVolume', { VolumeId: id }, `delete ${id} and everything on it`),
      createVm: (spec) => [
        ...(cnvmGroup(options) ? planGroup(ownerOf(spec), options.allowCidrs) : []),
        ...planned('ec2:RunInstances', { ...req.runInstances(spec, '<ignition>'), UserData: '<base64 Ignition>', ClientToken: '<uuid>' }, `instance ${spec.name}`),
        ...planned('ec2:StopInstances', { InstanceIds: ['<new instance>'] }, 'stop it until it is wanted (EC2 starts new instances)'),
        ...(spec.dataVolumeId ? planned('ec2:AttachVolume', req.attachVolume('<new instance>', spec.dataVolumeId), `attach the data volume as ${DATA_DEVICE}`) : []),
      ],
      startVm: (name) => planned('ec2:StartInstances', { InstanceIds: [`<${name}>`] }, `start ${name}`),
      stopVm: (name) => planned('ec2:StopInstances', { InstanceIds: [`<${name}>`] }, `stop ${name}`),
      destroyVm: (name) => planned('ec2:TerminateInstances', { InstanceIds: [`<${name}>`] }, `terminate ${name}; its root volume goes, the data volume stays (DeleteOnTermination false)`),
      attachVolume: (vm, id) => planned('ec2:AttachVolume', req.attachVolume(`<${vm}>`, id), `attach ${id} to stopped ${vm}`),
      detachVolume: (vm, id) => planned('ec2:DetachVolume', req.detachVolume(`<${vm}>`, id), `detach ${id} from stopped ${vm}`),
      ...(addressing.kind === 'reserved'
        ? {
            reserveAddress: (name: string) => planned('ec2:AllocateAddress', networkRequests.allocate(name, '<owner>'), `Elastic IP ${name}, kept across upgrades (if missing)`),
            assignAddress: (id: string, vm: string) => planned('ec2:AssociateAddress', networkRequests.associate(id, `<${vm}>`), `move the Elastic IP to ${vm}`),
            releaseAddress: (id: string) => planned('ec2:ReleaseAddress', { AllocationId: id }, `release the Elastic IP ${id}: clients lose the address`),
          }
        : {}),
    },

    async findVolume(name) {
      const v = await volumeByName(name);
      return v ? volumeOf(v) : undefined;
    },

    async createVolume(spec) {
      const { ec2 } = await load();
      const { az } = await placed();
      // The same ClientToken on every attempt; a lost reply is also found by the volume's Name tag.
      const command = new ec2.CreateVolumeCommand({ ...awsRequests(options, { az }).createVolume(spec), ClientToken: randomUUID() } as never);
      const volumeId = await createOnce(
        async () => (await sendOnce<{ VolumeId?: string }>(`CreateVolume ${spec.name}`, command)).VolumeId ?? '',
        async () => (await volumeByName(spec.name))?.VolumeId,
      );
      await wait(`volume ${spec.name} available`, ec2.waitUntilVolumeAvailable as never, { VolumeIds: [volumeId] });
      const v = await volumeByName(spec.name);
      if (!v) throw new ProviderError('failed', `CreateVolume ${spec.name}: done, but the volume is not there`);
      return volumeOf(v);
    },

    async holderOf(id) {
      const v = await volumeById(id);
      return v ? (await volumeOf(v)).attachedTo : undefined;
    },

    async deleteVolume(id) {
      const v = await volumeById(id);
      if (!v) return;
      const { ec2 } = await load();
      // A retry whose first attempt landed finds no volume: deleted is what was asked.
      await settle(() => send(`DeleteVolume ${id}`, new ec2.DeleteVolumeCommand({ VolumeId: id })), async (err) => err instanceof NotFoundError);
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
      if (spec.image.id.startsWith('<')) return;
      if (!/^ami-[0-9a-f]{8,17}$/.test(spec.image.id)) throw new ProviderError('invalid', `${spec.image.id} is not an AMI id (ami-…)`);
      await placed();
      await checkImage(spec.image.id);
    },

    async createVm(spec) {
      const { ec2 } = await load();
      {
        // Everything RunInstances could refuse is checked first, so a refusal never leaves an instance behind.
        const { text } = fitIgnition(spec.ignition, EC2_USER_DATA_LIMIT, 'EC2 user data');
        const where = await placed();
        if (spec.dataVolumeId) {
          const v = await volumeById(spec.dataVolumeId);
          if (!v) throw new NotFoundError(`volume ${spec.dataVolumeId} does not exist`);
          if (v.AvailabilityZone !== where.az) throw new ProviderError('invalid', `volume ${spec.dataVolumeId} is in ${v.AvailabilityZone}, but instances go to ${where.az}: an EBS volume attaches only in its own zone`);
        }
        const securityGroupIds = await groupsFor(spec, where.vpcId);
        const request = awsRequests({ ...options, subnetId: where.subnetId }, { az: where.az, securityGroupIds }).runInstances(spec, text);
        // The same ClientToken on every attempt (EC2 answers a repeat with the first launch); a lost reply is also
        // found by the Name tag the instance was launched with, so a peer without ClientToken launches one too.
        const command = new ec2.RunInstancesCommand({ ...request, ClientToken: randomUUID() } as never);
        const id = await createOnce(
          async () => (await sendOnce<{ Instances?: Instance[] }>(`RunInstances ${spec.name}`, command)).Instances?.[0]?.InstanceId ?? '',
          async () => (await instanceByName(spec.name))?.InstanceId,
        );
        await wait(`instance ${spec.name} running`, ec2.waitUntilInstanceRunning as never, { InstanceIds: [id] });
      }
      // EC2 starts what it launches: the wrapper stops it and attaches the data volume (the contract's "created,
      // not started, with its volume").
      return vmOf(await mustInstance(spec.name));
    },

    async replaceIgnition(vmName, ignition) {
      const i = await mustInstance(vmName);
      // EC2 changes user data only on a stopped instance.
      if (i.State?.Name !== 'stopped') return 'deferred';
      const { text } = fitIgnition(ignition, EC2_USER_DATA_LIMIT, 'EC2 user data');
      const { ec2 } = await load();
      // The value is the user data in base64, as RunInstances takes it; the SDK encodes the blob once more on the
      // wire (the AWS CLI's documented "base64-encode the file first" for this call).
      const value = Buffer.from(Buffer.from(text).toString('base64'));
      await send(`ModifyInstanceAttribute ${vmName} userData`, new ec2.ModifyInstanceAttributeCommand({ InstanceId: i.InstanceId ?? '', UserData: { Value: value } }));
      return 'replaced';
    },

    // Called for an instance not yet in the wanted state; one on its way there (pending, stopping) is waited for.
    async startVm(name) {
      const i = await mustInstance(name);
      const { ec2 } = await load();
      if (i.State?.Name === 'stopping') await wait(`instance ${name} stopped`, ec2.waitUntilInstanceStopped as never, { InstanceIds: [i.InstanceId] });
      if (i.State?.Name !== 'pending') await send(`StartInstances ${name}`, new ec2.StartInstancesCommand({ InstanceIds: [i.InstanceId ?? ''] }));
      await wait(`instance ${name} running`, ec2.waitUntilInstanceRunning as never, { InstanceIds: [i.InstanceId] });
      return vmOf(await mustInstance(name));
    },

    async stopVm(name, how = {}) {
      const i = await mustInstance(name);
      await stopInstance(session, { id: i.InstanceId ?? '', name, state: i.State?.Name }, { ...how, ...(options.stopGraceSec !== undefined ? { graceSec: options.stopGraceSec } : {}) });
      return vmOf(await mustInstance(name));
    },

    async destroyVm(name) {
      const i = await instanceByName(name);
      if (!i) return;
      const { ec2 } = await load();
      await send(`TerminateInstances ${name}`, new ec2.TerminateInstancesCommand({ InstanceIds: [i.InstanceId ?? ''] }));
      await wait(`instance ${name} terminated`, ec2.waitUntilInstanceTerminated as never, { InstanceIds: [i.InstanceId] });
      // The VM's own group goes with its last instance (destroy); an upgrade's or rollback's terminate keeps it.
      const owner = tag(i.Tags, 'cnvm:owner') ?? name;
      if (cnvmGroup(options) && i.VpcId) await net.dropGroupIfUnused(owner, i.VpcId, async () => (await ownerInstances(owner)).length);
    },

    // The contract wrapper enforces cnvm's rules (one holder, attach and detach only while stopped, nothing to do
    // twice); EC2's own (same zone, root volume stays) come back as typed errors.
    async attachVolume(vmName, volumeId) {
      const i = await mustInstance(vmName);
      const { ec2 } = await load();
      // A retried attach whose first attempt landed is "in use": by this instance, that is the call's success.
      const onThis = async (): Promise<boolean> => !!(await volumeById(volumeId))?.Attachments?.some((a) => a.InstanceId === i.InstanceId && a.State !== 'detached' && a.State !== 'detaching');
      await settle(() => send(`AttachVolume ${volumeId}`, new ec2.AttachVolumeCommand(req.attachVolume(i.InstanceId ?? '', volumeId))), async (err) => err instanceof InUseError && (await onThis()));
      await wait(`volume ${volumeId} in use`, ec2.waitUntilVolumeInUse as never, { VolumeIds: [volumeId] });
      return vmOf(await mustInstance(vmName));
    },

    async detachVolume(vmName, volumeId) {
      const i = await mustInstance(vmName);
      const { ec2 } = await load();
      // A retried detach whose first attempt landed finds no attachment (or one detaching): the call's success.
      const offThis = async (): Promise<boolean> => !(await volumeById(volumeId))?.Attachments?.some((a) => a.InstanceId === i.InstanceId && a.State !== 'detached' && a.State !== 'detaching');
      await settle(() => send(`DetachVolume ${volumeId}`, new ec2.DetachVolumeCommand(req.detachVolume(i.InstanceId ?? '', volumeId))), async () => offThis());
      await wait(`volume ${volumeId} available`, ec2.waitUntilVolumeAvailable as never, { VolumeIds: [volumeId] });
      return vmOf(await mustInstance(vmName));
    },

    ...(cnvmGroup(options) ? { access: { rules: async (owner: string) => net.accessRules(owner, (await placed()).vpcId), restore: async (owner: string, rules: AccessRule[]) => net.setRules(owner, (await placed()).vpcId, rules) } } : {}),

    async list(): Promise<ListResult> {
      const found = await instances('DescribeInstances', [managed, live]);
      const ebs = await volumes('DescribeVolumes', [managed]);
      // Three reads for the whole region, however many VMs: their volumes and addresses come from these.
      const known = { volumes: ebs, addresses: addressing.kind === 'reserved' && found.length > 0 ? await net.addressView() : undefined };
      return { vms: await Promise.all(found.map((i) => vmOf(i, known))), volumes: await Promise.all(ebs.map((v) => volumeOf(v, found))) };
    },

    ...(addressing.kind === 'reserved'
      ? {
          address: {
            find: (nameOrId: string) => net.findAddress(nameOrId, nameOfInstance),
            async reserve(name: string, owner: string) {
              const id = await net.reserveAddress(name, owner);
              return (await net.findAddress(id, nameOfInstance)) ?? { id, name, ip: '' };
            },
            async assign(addressId: string, vmName: string) {
              const i = await mustInstance(vmName);
              await net.assignAddress(addressId, i.InstanceId ?? '');
              const a = await net.findAddress(addressId, nameOfInstance);
              if (!a) throw new NotFoundError(`Elastic IP ${addressId} disappeared while being assigned to ${vmName}`);
              return a;
            },
            release: (addressId: string) => net.releaseAddress(addressId, nameOfInstance),
          },
        }
      : {}),
  };
  return defineProvider(primitives);
}

