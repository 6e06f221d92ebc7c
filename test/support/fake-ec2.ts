// A stateful stand-in for the EC2 Query API on a loopback port, for the real @aws-sdk/client-ec2 client
// (`endpoint` option). Its rules follow EC2's API reference: an account with the region's zones, a default VPC and
// one default subnet per zone, and the public AMIs it knows; RunInstances refuses unknown AMIs
// (InvalidAMIID.NotFound), subnets (InvalidSubnetID.NotFound), security groups (InvalidGroup.NotFound) and zones,
// and gives each instance a real root volume (DeleteOnTermination) in its subnet's zone; a volume and its instance
// share a zone; a volume has one attachment; DetachVolume works on a running instance except for its root volume,
// and detaching what is not attached is InvalidAttachment.NotFound; user data is at most 16 KB and changes
// (ModifyInstanceAttribute) only while stopped; states take a few describes (pending→running, stopping→stopped,
// creating→available, attaching→attached); ClientToken makes RunInstances idempotent; Describe* page with
// MaxResults/NextToken. Elastic IPs and security groups are in fake-ec2-network.ts. Answers are EC2's XML.
// With `initramfsIgnoresStop`, a guest that booted without a data volume ignores a graceful StopInstances and
// stays `stopping` (Fedora CoreOS in Ignition's wait for the volume: ../shared/notes/diskless-boot-facts.md) until
// StopInstances with Force, which EC2 accepts for an instance already stopping.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkActions, publicIpOf, type Handler } from './fake-ec2-network.js';
import { esc, fault, filters, isFault, items, matches, numbered, page, tagSet, tagSpecs, type Fault, type Tag } from './fake-ec2-query.js';

export interface FakeVolume {
  id: string;
  az: string;
  size: number;
  type: string;
  encrypted: boolean;
  state: 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted';
  pending?: { to: FakeVolume['state']; after: number };
  attachment?: { instanceId: string; device: string; state: 'attaching' | 'attached' | 'detaching' };
  tags: Tag[];
  bytes: Buffer;
}

export interface FakeInstance {
  id: string;
  imageId: string;
  type: string;
  az: string;
  subnetId: string;
  groupIds: string[];
  rootVolumeId: string;
  privateIp: string;
  /** The public IP: the Elastic IP when one is associated, else an ephemeral one given at each start. */
  publicIp?: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  pending?: { to: FakeInstance['state']; after: number };
  userData: string;
  tags: Tag[];
  clientToken?: string;
  /** This boot began without a data volume (a fresh launch, or a start with none attached). */
  diskless?: boolean;
}

export interface FakeGroup {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  ingress: { protocol: string; port: number; cidr: string }[];
  tags: Tag[];
}

export interface FakeAddress {
  id: string;
  publicIp: string;
  tags: Tag[];
  instanceId?: string;
  associationId?: string;
}

type Failure = '500' | '503' | 'reset' | 'reset-after';

/** The account's state, shared with fake-ec2-network.ts. */
export interface Ec2State {
  region: string;
  zones: string[];
  vpcId: string;
  subnets: Map<string, { id: string; az: string; cidr: string }>;
  images: Map<string, { id: string; name: string }>;
  volumes: Map<string, FakeVolume>;
  instances: Map<string, FakeInstance>;
  groups: Map<string, FakeGroup>;
  addresses: Map<string, FakeAddress>;
  maxPage: number;
  hex(kind: number): string;
  unassociate(a: FakeAddress): void;
}

export interface FakeEc2 extends Ec2State {
  port: number;
  endpoint: string;
  /** What each instance's console printed, by instance id (a fake cannot boot: tests write it). */
  consoles: Map<string, string>;
  /** Actions called, in order. */
  log: string[];
  /** Instances whose guest ignores a graceful StopInstances (hung in shutdown): only Force stops them. */
  hangOnStop: Set<string>;
  /** The instances StopInstances stopped with Force, in order. */
  forced: string[];
  /** Answer the next N calls of this action with RequestLimitExceeded (to exercise throttling retries). */
  throttle(action: string, times: number): void;
  /**
   * Fail the next calls of this action, in order: `500` InternalError, `503` Unavailable, a connection reset before
   * the call is handled (`reset`), or after it took effect with the answer lost (`reset-after`).
   */
  failNext(action: string, faults: Failure[]): void;
  close(): Promise<void>;
}

const STATE_CODE: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };
const USER_DATA_LIMIT = 16 * 1024;
/** The public AMIs every fake account knows (tests may add more). */
export const FAKE_AMIS = ['ami-0aaaaaaaaaaaaaaaa', 'ami-0bbbbbbbbbbbbbbbb', 'ami-0abc1234def567890'];

export interface FakeEc2Options {
  maxPage?: number;
  images?: string[];
  initramfsIgnoresStop?: boolean;
  /** The ephemeral public IPs it hands out (default TEST-NET-2 addresses); a test may give a loopback one. */
  ephemeralIp?: () => string;
}

export async function startFakeEc2(region: string, options: FakeEc2Options = {}): Promise<FakeEc2> {
  let seq = 0;
  const zones = ['a', 'b', 'c'].map((z) => `${region}${z}`);
  const s: Ec2State = {
    region,
    zones,
    vpcId: 'vpc-0def0000000000001',
    subnets: new Map(zones.map((az, n) => [`subnet-0def00000000000${n + 1}`, { id: `subnet-0def00000000000${n + 1}`, az, cidr: `172.31.${n * 16}.0/20` }])),
    images: new Map([...FAKE_AMIS, ...(options.images ?? [])].map((id) => [id, { id, name: `fedora-coreos-${id}` }])),
    volumes: new Map(),
    instances: new Map(),
    groups: new Map(),
    addresses: new Map(),
    maxPage: options.maxPage ?? 1000,
    hex: (n) => `0${(++seq * 16 + n).toString(16).padStart(16, 'a')}`,
    unassociate(a) {
      const inst = a.instanceId ? s.instances.get(a.instanceId) : undefined;
      // Without its Elastic IP a running instance gets a new ephemeral public IP; a stopped one has none.
      if (inst) inst.publicIp = inst.state === 'running' ? ephemeralIp() : undefined;
      delete a.instanceId;
      delete a.associationId;
    },
  };
  const defaultGroup: FakeGroup = { id: 'sg-0def0000000000001', name: 'default', description: 'default VPC security group', vpcId: s.vpcId, ingress: [], tags: [] };
  s.groups.set(defaultGroup.id, defaultGroup);
  let ephemeral = 0;
  const ephemeralIp = options.ephemeralIp ?? ((): string => `198.51.100.${(ephemeral++ % 250) + 1}`);
  const consoles = new Map<string, string>();
  const log: string[] = [];
  const hangOnStop = new Set<string>();
  const forced: string[] = [];
  const throttled = new Map<string, number>();
  const failures = new Map<string, Failure[]>();
  const { volumes, instances } = s;
  const hasEip = (i: FakeInstance): boolean => [...s.addresses.values()].some((a) => a.instanceId === i.id);

  /** Transitions land after a couple of describes, like EC2's eventual state changes. */
  const advance = (r: { state: string; pending?: { to: string; after: number } }): boolean => {
    if (r.pending && --r.pending.after <= 0) {
      r.state = r.pending.to;
      delete r.pending;
      return true;
    }
    return false;
  };
  const settle = (): void => {
    for (const v of volumes.values()) {
      advance(v);
      if (v.attachment?.state === 'attaching') v.attachment.state = 'attached';
      if (v.attachment?.state === 'detaching') {
        v.attachment = undefined;
        v.state = 'available';
      }
    }
    for (const i of instances.values()) {
      if (!advance(i)) continue;
      if (i.state === 'running' && !hasEip(i)) i.publicIp = ephemeralIp();
      if (i.state === 'stopped' && !hasEip(i)) delete i.publicIp;
      if (i.state === 'terminated') {
        volumes.delete(i.rootVolumeId);
        for (const a of s.addresses.values()) if (a.instanceId === i.id) s.unassociate(a);
      }
    }
  };

  const volumeXml = (v: FakeVolume): string =>
    `<volumeId>${v.id}</volumeId><size>${v.size}</size><availabilityZone>${v.az}</availabilityZone><status>${v.state}</status><volumeType>${v.type}</volumeType><encrypted>${v.encrypted}</encrypted>` +
    `<attachmentSet>${v.attachment ? `<item><volumeId>${v.id}</volumeId><instanceId>${v.attachment.instanceId}</instanceId><device>${v.attachment.device}</device><status>${v.attachment.state}</status><deleteOnTermination>${instances.get(v.attachment.instanceId)?.rootVolumeId === v.id}</deleteOnTermination></item>` : ''}</attachmentSet>${tagSet(v.tags)}`;
  const instanceXml = (i: FakeInstance): string => {
    const attached = [...volumes.values()].filter((v) => v.attachment?.instanceId === i.id);
    const ip = publicIpOf(i) ?? (i.state === 'stopped' && hasEip(i) ? i.publicIp : undefined);
    return (
      `<instanceId>${i.id}</instanceId><imageId>${esc(i.imageId)}</imageId><instanceType>${i.type}</instanceType><instanceState><code>${STATE_CODE[i.state]}</code><name>${i.state}</name></instanceState>` +
      `<placement><availabilityZone>${i.az}</availabilityZone></placement>${ip ? `<ipAddress>${ip}</ipAddress>` : ''}<privateIpAddress>${i.privateIp}</privateIpAddress>` +
      `<subnetId>${i.subnetId}</subnetId><vpcId>${s.vpcId}</vpcId><groupSet>${items(i.groupIds.map((g) => `<groupId>${g}</groupId><groupName>${esc(s.groups.get(g)?.name ?? '')}</groupName>`))}</groupSet>` +
      `<rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName><blockDeviceMapping>${items(
        attached.map((v) => `<deviceName>${v.attachment?.device}</deviceName><ebs><volumeId>${v.id}</volumeId><status>${v.attachment?.state}</status><deleteOnTermination>${v.id === i.rootVolumeId}</deleteOnTermination></ebs>`),
      )}</blockDeviceMapping>${tagSet(i.tags)}`
    );
  };
  const stateChange = (i: FakeInstance, previous: string): string =>
    `<item><instanceId>${i.id}</instanceId><currentState><code>${STATE_CODE[i.state]}</code><name>${i.state}</name></currentState><previousState><code>${STATE_CODE[previous]}</code><name>${previous}</name></previousState></item>`;
  const noInstance = (id: string | null): Fault => fault('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
  const noVolume = (id: string | null): Fault => fault('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
  const liveInstance = (id: string | null): FakeInstance | undefined => {
    const i = instances.get(id ?? '');
    return i && i.state !== 'terminated' ? i : undefined;
  };
  const liveVolume = (id: string | null): FakeVolume | undefined => {
    const v = volumes.get(id ?? '');
    return v && v.state !== 'deleted' ? v : undefined;
  };

  function runInstances(p: URLSearchParams): string | Fault {
    const token = p.get('ClientToken') ?? undefined;
    const again = token ? [...instances.values()].find((i) => i.clientToken === token) : undefined;
    if (again) return `<reservationId>r-${s.hex(3)}</reservationId><ownerId>123456789012</ownerId><instancesSet>${items([instanceXml(again)])}</instancesSet>`;
    const imageId = p.get('ImageId') ?? '';
    if (!/^ami-[0-9a-f]{8,17}$/.test(imageId)) return fault('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
    if (!s.images.has(imageId)) return fault('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    const subnetId = p.get('SubnetId');
    const wantedAz = p.get('Placement.AvailabilityZone');
    if (wantedAz && !zones.includes(wantedAz)) return fault('InvalidParameterValue', `Invalid availability zone: [${wantedAz}]`);
    const subnet = subnetId ? s.subnets.get(subnetId) : [...s.subnets.values()].find((n) => n.az === (wantedAz ?? zones[0]));
    if (!subnet) return fault('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    if (wantedAz && wantedAz !== subnet.az) return fault('InvalidParameterValue', `subnet ${subnet.id} is in ${subnet.az}, not in the requested zone ${wantedAz}`);
    const groupIds = numbered(p, 'SecurityGroupId');
    for (const g of groupIds) if (!s.groups.has(g)) return fault('InvalidGroup.NotFound', `The security group '${g}' does not exist`);
    const userData = p.get('UserData') ?? '';
    if (Buffer.from(userData, 'base64').length > USER_DATA_LIMIT) return fault('InvalidParameterValue', 'User data is limited to 16384 bytes');
    const id = `i-${s.hex(2)}`;
    const root: FakeVolume = { id: `vol-${s.hex(7)}`, az: subnet.az, size: 10, type: 'gp3', encrypted: false, state: 'in-use', attachment: { instanceId: id, device: '/dev/xvda', state: 'attached' }, tags: [], bytes: Buffer.alloc(0) };
    volumes.set(root.id, root);
    const i: FakeInstance = {
      id,
      imageId,
      type: p.get('InstanceType') ?? 'm1.small',
      az: subnet.az,
      subnetId: subnet.id,
      groupIds: groupIds.length ? groupIds : [defaultGroup.id],
      rootVolumeId: root.id,
      privateIp: `172.31.${zones.indexOf(subnet.az) * 16}.${(instances.size % 250) + 4}`,
      state: 'pending',
      diskless: true,
      pending: { to: 'running', after: 2 },
      userData,
      tags: tagSpecs(p, 'instance'),
      ...(token ? { clientToken: token } : {}),
    };
    instances.set(i.id, i);
    return `<reservationId>r-${s.hex(3)}</reservationId><ownerId>123456789012</ownerId><instancesSet>${items([instanceXml(i)])}</instancesSet>`;
  }

  function changeStates(action: string, p: URLSearchParams): string | Fault {
    const out: string[] = [];
    for (const id of numbered(p, 'InstanceId')) {
      const i = liveInstance(id);
      if (!i) return noInstance(id);
      const previous = i.state;
      if (action === 'StartInstances') {
        if (i.state === 'stopping') return fault('IncorrectInstanceState', `The instance '${id}' is not in a state from which it can be started.`);
        if (i.state === 'stopped') Object.assign(i, { state: 'pending', pending: { to: 'running', after: 2 }, diskless: ![...volumes.values()].some((v) => v.attachment?.instanceId === id && v.id !== i.rootVolumeId) });
      } else if (action === 'StopInstances') {
        if (i.state === 'pending') return fault('IncorrectInstanceState', `The instance '${id}' is not in a state from which it can be stopped.`);
        const force = p.get('Force') === 'true';
        const ignored = !force && ((options.initramfsIgnoresStop === true && i.diskless === true) || hangOnStop.has(id));
        if (force && (i.state === 'running' || i.state === 'stopping')) forced.push(id);
        if (i.state === 'running') Object.assign(i, { state: 'stopping', ...(ignored ? {} : { pending: { to: 'stopped', after: force ? 1 : 2 } }) });
        else if (i.state === 'stopping' && force) i.pending = { to: 'stopped', after: 1 };
      } else if (i.state !== 'shutting-down') {
        Object.assign(i, { state: 'shutting-down', pending: { to: 'terminated', after: 2 } });
        // Volumes with DeleteOnTermination false (cnvm's data volume) are detached and kept.
        for (const v of volumes.values()) if (v.attachment?.instanceId === id && v.id !== i.rootVolumeId) Object.assign(v, { attachment: undefined, state: 'available' });
      }
      out.push(stateChange(i, previous));
    }
    return `<instancesSet>${out.join('')}</instancesSet>`;
  }

  const actions: Record<string, Handler> = {
    ...networkActions(s),
    CreateVolume: (p) => {
      const az = p.get('AvailabilityZone') ?? '';
      if (!zones.includes(az)) return fault('InvalidZone.NotFound', `The zone '${az}' does not exist.`);
      const v: FakeVolume = { id: `vol-${s.hex(1)}`, az, size: Number(p.get('Size')), type: p.get('VolumeType') ?? 'gp2', encrypted: p.get('Encrypted') === 'true', state: 'creating', pending: { to: 'available', after: 2 }, tags: tagSpecs(p, 'volume'), bytes: Buffer.alloc(64 * 1024) };
      volumes.set(v.id, v);
      return volumeXml(v);
    },
    DescribeVolumes: (p) => {
      settle();
      const ids = numbered(p, 'VolumeId');
      for (const id of ids) if (!liveVolume(id)) return noVolume(id);
      const fs = filters(p);
      const keep = (v: FakeVolume): boolean =>
        v.state !== 'deleted' && (ids.length === 0 || ids.includes(v.id)) && matches(fs, v.tags, (n) => (n === 'status' ? v.state : n === 'availability-zone' ? v.az : n === 'attachment.instance-id' ? v.attachment?.instanceId : n === 'volume-id' ? v.id : undefined));
      const pg = page([...volumes.values()], keep, p, ids, s.maxPage);
      if (isFault(pg)) return pg;
      return `<volumeSet>${items(pg.items.map(volumeXml))}</volumeSet>${pg.next ? `<nextToken>${pg.next}</nextToken>` : ''}`;
    },
    DeleteVolume: (p) => {
      const v = liveVolume(p.get('VolumeId'));
      if (!v) return noVolume(p.get('VolumeId'));
      if (v.attachment || v.state === 'in-use') return fault('VolumeInUse', `Volume ${v.id} is currently attached to ${v.attachment?.instanceId}`);
      v.state = 'deleted';
      return '<return>true</return>';
    },
    RunInstances: runInstances,
    DescribeInstances: (p) => {
      settle();
      const ids = numbered(p, 'InstanceId');
      for (const id of ids) if (!instances.has(id)) return noInstance(id);
      const fs = filters(p);
      const keep = (i: FakeInstance): boolean => (ids.length === 0 || ids.includes(i.id)) && matches(fs, i.tags, (n) => (n === 'instance-state-name' ? i.state : n === 'instance-id' ? i.id : n === 'subnet-id' ? i.subnetId : undefined));
      const pg = page([...instances.values()], keep, p, ids, s.maxPage);
      if (isFault(pg)) return pg;
      return `<reservationSet>${items(pg.items.map((i) => `<reservationId>r-1</reservationId><instancesSet>${items([instanceXml(i)])}</instancesSet>`))}</reservationSet>${pg.next ? `<nextToken>${pg.next}</nextToken>` : ''}`;
    },
    DescribeInstanceAttribute: (p) => {
      const i = liveInstance(p.get('InstanceId'));
      if (!i) return noInstance(p.get('InstanceId'));
      if (p.get('Attribute') !== 'userData') return fault('InvalidParameterValue', `Value (${p.get('Attribute')}) for parameter attribute is invalid. The fake models userData only.`);
      return `<instanceId>${i.id}</instanceId><userData>${i.userData ? `<value>${i.userData}</value>` : ''}</userData>`;
    },
    ModifyInstanceAttribute: (p) => {
      const i = liveInstance(p.get('InstanceId'));
      if (!i) return noInstance(p.get('InstanceId'));
      if (!p.has('UserData.Value')) return fault('InvalidParameterCombination', 'The fake models the userData attribute only');
      // API reference: the instance must be stopped to change its user data.
      if (i.state !== 'stopped') return fault('IncorrectInstanceState', `The instance '${i.id}' is not in the 'stopped' state.`);
      // The attribute's value is the user data in base64 (as RunInstances takes it), sent as a blob, which the
      // query protocol base64-encodes once more.
      const value = Buffer.from(p.get('UserData.Value') ?? '', 'base64').toString('latin1');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return fault('InvalidUserData.Malformed', 'Invalid BASE64 encoding of user data.');
      if (Buffer.from(value, 'base64').length > USER_DATA_LIMIT) return fault('InvalidParameterValue', 'User data is limited to 16384 bytes');
      i.userData = value;
      return '<return>true</return>';
    },
    GetConsoleOutput: (p) => {
      const id = p.get('InstanceId') ?? '';
      if (!instances.has(id)) return noInstance(id);
      const out = Buffer.from(consoles.get(id) ?? '').toString('base64');
      return `<instanceId>${id}</instanceId><timestamp>${new Date().toISOString()}</timestamp><output>${out}</output>`;
    },
    StartInstances: (p) => changeStates('StartInstances', p),
    StopInstances: (p) => changeStates('StopInstances', p),
    TerminateInstances: (p) => changeStates('TerminateInstances', p),
    AttachVolume: (p) => {
      const v = liveVolume(p.get('VolumeId'));
      const i = liveInstance(p.get('InstanceId'));
      if (!v) return noVolume(p.get('VolumeId'));
      if (!i) return noInstance(p.get('InstanceId'));
      if (v.az !== i.az) return fault('InvalidVolume.ZoneMismatch', `The volume '${v.id}' is not in the same availability zone as instance '${i.id}'`);
      if (v.attachment || v.state !== 'available') return fault('VolumeInUse', `${v.id} is already attached to an instance`);
      const device = p.get('Device') ?? '';
      if ([...volumes.values()].some((x) => x.attachment?.instanceId === i.id && x.attachment.device === device)) return fault('InvalidParameterValue', `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`);
      v.attachment = { instanceId: i.id, device, state: 'attaching' };
      v.state = 'in-use';
      return `<volumeId>${v.id}</volumeId><instanceId>${i.id}</instanceId><device>${device}</device><status>attaching</status>`;
    },
    DetachVolume: (p) => {
      const v = liveVolume(p.get('VolumeId'));
      if (!v) return noVolume(p.get('VolumeId'));
      const wanted = p.get('InstanceId');
      if (!v.attachment || (wanted && v.attachment.instanceId !== wanted)) return fault('InvalidAttachment.NotFound', `Volume '${v.id}' is not attached${wanted ? ` to instance '${wanted}'` : ''}.`);
      const i = instances.get(v.attachment.instanceId);
      // API reference: a root volume cannot be detached while its instance runs; other volumes can (the guest
      // should unmount first, which EC2 cannot check). cnvm's "only while stopped" is its own contract's rule.
      if (i && v.id === i.rootVolumeId && i.state !== 'stopped') return fault('IncorrectState', `Unable to detach root volume '${v.id}' from instance '${i.id}' while it is ${i.state}`);
      v.attachment.state = 'detaching';
      return `<volumeId>${v.id}</volumeId><instanceId>${i?.id ?? ''}</instanceId><device>${v.attachment.device}</device><status>detaching</status>`;
    },
    // API reference: adds or overwrites tags (same key: new value) on each resource named; an unknown id is refused.
    CreateTags: (p) => {
      const ids = numbered(p, 'ResourceId');
      const owners = ids.map((id) => volumes.get(id) ?? instances.get(id) ?? s.groups.get(id) ?? s.addresses.get(id));
      const missing = ids.find((_, n) => !owners[n]);
      if (missing) return fault('InvalidID', `The ID '${missing}' is not valid`);
      const tags: Tag[] = [];
      for (let j = 1; p.has(`Tag.${j}.Key`); j++) tags.push({ key: p.get(`Tag.${j}.Key`) as string, value: p.get(`Tag.${j}.Value`) ?? '' });
      for (const o of owners) if (o) o.tags = [...o.tags.filter((t) => !tags.some((n) => n.key === t.key)), ...tags];
      return '<return>true</return>';
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const p = new URLSearchParams(raw);
    const action = p.get('Action') ?? '';
    log.push(action);
    seq++;
    const planned = failures.get(action)?.shift();
    if (planned === 'reset') return void req.socket.destroy();
    if (planned === '500' || planned === '503') return send(res, action, planned === '500' ? fault('InternalError', 'An internal error has occurred', 500) : fault('Unavailable', 'The server is overloaded', 503));
    const left = throttled.get(action) ?? 0;
    if (left > 0) {
      throttled.set(action, left - 1);
      return send(res, action, fault('RequestLimitExceeded', 'Request limit exceeded.', 503));
    }
    const handler = actions[action];
    if (planned === 'reset-after') {
      handler?.(p);
      return void req.socket.destroy();
    }
    send(res, action, handler ? handler(p) : fault('InvalidAction', `The action ${action} is not valid for this web service.`));
  }

  function send(res: ServerResponse, action: string, answer: string | Fault): void {
    res.writeHead(typeof answer === 'string' ? 200 : answer.status, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(
      typeof answer === 'string'
        ? `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-${seq}</requestId>${answer}</${action}Response>`
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${answer.code}</Code><Message>${esc(answer.message)}</Message></Error></Errors><RequestID>req-${seq}</RequestID></Response>`,
    );
  }

  const server: Server = createServer((req, res) => void handle(req, res).catch((err: unknown) => send(res, 'Error', fault('InternalError', String(err), 500))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(s, {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    consoles,
    log,
    hangOnStop,
    forced,
    throttle: (action: string, times: number) => void throttled.set(action, times),
    failNext: (action: string, faults: Failure[]) => void failures.set(action, [...faults]),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
