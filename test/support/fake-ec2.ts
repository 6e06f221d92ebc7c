// A stateful stand-in for the EC2 Query API on a loopback port, for the real @aws-sdk/client-ec2 client
// (`endpoint` option). It enforces EC2's rules: volume and instance in the same availability zone, a volume
// attached to at most one instance, detach only from a stopped instance unless forced, state transitions that take
// a few describes (pending→running, stopping→stopped, creating→available, attaching→in-use), the 16 KB user data
// limit, ClientToken idempotency and tag filters. Answers are EC2's XML.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Tag {
  key: string;
  value: string;
}

interface FakeVolume {
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

interface FakeInstance {
  id: string;
  imageId: string;
  type: string;
  az: string;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  pending?: { to: FakeInstance['state']; after: number };
  userData: string;
  tags: Tag[];
  clientToken?: string;
}

export interface FakeEc2 {
  port: number;
  endpoint: string;
  volumes: Map<string, FakeVolume>;
  instances: Map<string, FakeInstance>;
  /** What each instance's console printed, by instance id (a fake cannot boot: tests write it). */
  consoles: Map<string, string>;
  groups: Map<string, { id: string; name: string; vpcId: string; ingress: string[] }>;
  /** Actions called, in order. */
  log: string[];
  /** Answer the next N calls of this action with RequestLimitExceeded (to exercise throttling retries). */
  throttle(action: string, times: number): void;
  close(): Promise<void>;
}

const STATE_CODE: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };
const USER_DATA_LIMIT = 16 * 1024;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const items = (xs: string[]): string => xs.map((x) => `<item>${x}</item>`).join('');
const tagSet = (tags: Tag[]): string => `<tagSet>${items(tags.map((t) => `<key>${esc(t.key)}</key><value>${esc(t.value)}</value>`))}</tagSet>`;

/** `Filter.1.Name=tag:Name&Filter.1.Value.1=x` → [{ name, values }]; likewise numbered lists like `InstanceId.1`. */
function numbered(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`) as string);
  return out;
}
function filters(params: URLSearchParams): { name: string; values: string[] }[] {
  const out: { name: string; values: string[] }[] = [];
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) out.push({ name: params.get(`Filter.${i}.Name`) as string, values: numbered(params, `Filter.${i}.Value`) });
  return out;
}
function tagSpecs(params: URLSearchParams, resource: string): Tag[] {
  const tags: Tag[] = [];
  for (let i = 1; params.has(`TagSpecification.${i}.ResourceType`); i++) {
    if (params.get(`TagSpecification.${i}.ResourceType`) !== resource) continue;
    for (let j = 1; params.has(`TagSpecification.${i}.Tag.${j}.Key`); j++) {
      tags.push({ key: params.get(`TagSpecification.${i}.Tag.${j}.Key`) as string, value: params.get(`TagSpecification.${i}.Tag.${j}.Value`) ?? '' });
    }
  }
  return tags;
}
function matches(fs: { name: string; values: string[] }[], get: (name: string) => string | string[] | undefined): boolean {
  return fs.every((f) => {
    const v = get(f.name);
    const vs = Array.isArray(v) ? v : v === undefined ? [] : [v];
    return vs.some((x) => f.values.includes(x));
  });
}

/**
 * EC2's paging (API reference: MaxResults 5–1000 for DescribeInstances/DescribeVolumes, with NextToken for the
 * next page; MaxResults cannot be combined with ids). `maxPage` caps a page lower, as EC2 may, so that paging
 * clients are exercised with few resources.
 */
function page<T>(list: T[], p: URLSearchParams, maxPage: number): { items: T[]; next?: string } | { error: string } {
  const max = p.get('MaxResults');
  if (max !== null && (!/^\d+$/.test(max) || Number(max) < 5 || Number(max) > 1000)) return { error: `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.` };
  const size = Math.min(max === null ? 1000 : Number(max), maxPage);
  const start = Number(p.get('NextToken') ?? '0');
  const next = start + size < list.length ? String(start + size) : undefined;
  return { items: list.slice(start, start + size), ...(next ? { next } : {}) };
}

export async function startFakeEc2(region: string, options: { maxPage?: number } = {}): Promise<FakeEc2> {
  const maxPage = options.maxPage ?? 1000;
  const volumes = new Map<string, FakeVolume>();
  const instances = new Map<string, FakeInstance>();
  const groups = new Map<string, { id: string; name: string; vpcId: string; ingress: string[] }>();
  const consoles = new Map<string, string>();
  const log: string[] = [];
  const throttled = new Map<string, number>();
  let seq = 0;
  const hex = (n: number): string => `0${(++seq * 16 + n).toString(16).padStart(16, 'a')}`;

  /** Transitions land after a couple of describes, like EC2's eventual state changes. */
  const advance = (r: { state: string; pending?: { to: string; after: number } }): void => {
    if (r.pending && --r.pending.after <= 0) {
      r.state = r.pending.to;
      delete r.pending;
    }
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
    for (const i of instances.values()) advance(i);
  };

  const reply = (res: ServerResponse, action: string, body: string): void => {
    res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-${seq}</requestId>${body}</${action}Response>`);
  };
  const error = (res: ServerResponse, status: number, code: string, message: string): void => {
    res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>req-${seq}</RequestID></Response>`);
  };

  const volumeXml = (v: FakeVolume): string =>
    `<volumeId>${v.id}</volumeId><size>${v.size}</size><availabilityZone>${v.az}</availabilityZone><status>${v.state}</status><volumeType>${v.type}</volumeType><encrypted>${v.encrypted}</encrypted>` +
    `<attachmentSet>${v.attachment ? `<item><volumeId>${v.id}</volumeId><instanceId>${v.attachment.instanceId}</instanceId><device>${v.attachment.device}</device><status>${v.attachment.state}</status><deleteOnTermination>false</deleteOnTermination></item>` : ''}</attachmentSet>${tagSet(v.tags)}`;
  const instanceXml = (i: FakeInstance): string => {
    const attached = [...volumes.values()].filter((v) => v.attachment?.instanceId === i.id);
    const running = i.state === 'running';
    return (
      `<instanceId>${i.id}</instanceId><imageId>${esc(i.imageId)}</imageId><instanceType>${i.type}</instanceType><instanceState><code>${STATE_CODE[i.state]}</code><name>${i.state}</name></instanceState>` +
      `<placement><availabilityZone>${i.az}</availabilityZone></placement>${running ? `<ipAddress>198.51.100.${Number.parseInt(i.id.slice(-2), 16) % 250}</ipAddress>` : ''}<privateIpAddress>10.1.0.${Number.parseInt(i.id.slice(-2), 16) % 250}</privateIpAddress>` +
      `<rootDeviceName>/dev/xvda</rootDeviceName><blockDeviceMapping>${items([
        `<deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-root${i.id.slice(2)}</volumeId><status>attached</status><deleteOnTermination>true</deleteOnTermination></ebs>`,
        ...attached.map((v) => `<deviceName>${v.attachment?.device}</deviceName><ebs><volumeId>${v.id}</volumeId><status>${v.attachment?.state}</status><deleteOnTermination>false</deleteOnTermination></ebs>`),
      ])}</blockDeviceMapping>${tagSet(i.tags)}`
    );
  };
  const stateChange = (i: FakeInstance, previous: string): string =>
    `<item><instanceId>${i.id}</instanceId><currentState><code>${STATE_CODE[i.state]}</code><name>${i.state}</name></currentState><previousState><code>${STATE_CODE[previous]}</code><name>${previous}</name></previousState></item>`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const p = new URLSearchParams(raw);
    const action = p.get('Action') ?? '';
    log.push(action);
    const left = throttled.get(action) ?? 0;
    if (left > 0) {
      throttled.set(action, left - 1);
      return error(res, 503, 'RequestLimitExceeded', 'Request limit exceeded.');
    }
    seq++;
    const tagValue = (tags: Tag[], name: string): string | undefined => (name.startsWith('tag:') ? tags.find((t) => t.key === name.slice(4))?.value : undefined);

    switch (action) {
      case 'CreateVolume': {
        const az = p.get('AvailabilityZone') ?? '';
        if (!az.startsWith(region)) return error(res, 400, 'InvalidParameterValue', `availability zone ${az} is not in ${region}`);
        const v: FakeVolume = {
          id: `vol-${hex(1)}`,
          az,
          size: Number(p.get('Size')),
          type: p.get('VolumeType') ?? 'gp2',
          encrypted: p.get('Encrypted') === 'true',
          state: 'creating',
          pending: { to: 'available', after: 2 },
          tags: tagSpecs(p, 'volume'),
          bytes: Buffer.alloc(64 * 1024),
        };
        volumes.set(v.id, v);
        return reply(res, action, volumeXml(v));
      }
      case 'DescribeVolumes': {
        settle();
        const ids = numbered(p, 'VolumeId');
        for (const id of ids) if (!volumes.has(id)) return error(res, 400, 'InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
        const fs = filters(p);
        const list = [...volumes.values()].filter(
          (v) => v.state !== 'deleted' && (ids.length === 0 || ids.includes(v.id)) && matches(fs, (n) => (n === 'status' ? v.state : n === 'availability-zone' ? v.az : n === 'attachment.instance-id' ? v.attachment?.instanceId : tagValue(v.tags, n))),
        );
        const pg = page(list, p, maxPage);
        if ('error' in pg) return error(res, 400, 'InvalidParameterValue', pg.error);
        return reply(res, action, `<volumeSet>${items(pg.items.map(volumeXml))}</volumeSet>${pg.next ? `<nextToken>${pg.next}</nextToken>` : ''}`);
      }
      case 'DeleteVolume': {
        const v = volumes.get(p.get('VolumeId') ?? '');
        if (!v || v.state === 'deleted') return error(res, 400, 'InvalidVolume.NotFound', `The volume '${p.get('VolumeId')}' does not exist.`);
        if (v.attachment || v.state === 'in-use') return error(res, 400, 'VolumeInUse', `Volume ${v.id} is currently attached to ${v.attachment?.instanceId}`);
        v.state = 'deleted';
        return reply(res, action, '<return>true</return>');
      }
      case 'RunInstances': {
        const token = p.get('ClientToken') ?? undefined;
        const again = token ? [...instances.values()].find((i) => i.clientToken === token) : undefined;
        const userData = p.get('UserData') ?? '';
        if (Buffer.from(userData, 'base64').length > USER_DATA_LIMIT) return error(res, 400, 'InvalidParameterValue', 'User data is limited to 16384 bytes');
        const i: FakeInstance = again ?? {
          id: `i-${hex(2)}`,
          imageId: p.get('ImageId') ?? '',
          type: p.get('InstanceType') ?? 'm1.small',
          az: p.get('Placement.AvailabilityZone') ?? (p.get('SubnetId') ? `${region}b` : `${region}a`),
          state: 'pending',
          pending: { to: 'running', after: 2 },
          userData,
          tags: tagSpecs(p, 'instance'),
          ...(token ? { clientToken: token } : {}),
        };
        instances.set(i.id, i);
        return reply(res, action, `<reservationId>r-${hex(3)}</reservationId><ownerId>123456789012</ownerId><instancesSet>${items([instanceXml(i)])}</instancesSet>`);
      }
      case 'DescribeInstanceAttribute': {
        const i = instances.get(p.get('InstanceId') ?? '');
        if (!i || i.state === 'terminated') return error(res, 400, 'InvalidInstanceID.NotFound', `The instance ID '${p.get('InstanceId')}' does not exist`);
        if (p.get('Attribute') !== 'userData') return error(res, 400, 'InvalidParameterValue', `Value (${p.get('Attribute')}) for parameter attribute is invalid. The fake models userData only.`);
        return reply(res, action, `<instanceId>${i.id}</instanceId><userData>${i.userData ? `<value>${i.userData}</value>` : ''}</userData>`);
      }
      case 'GetConsoleOutput': {
        // API reference: InstanceId required; the output comes base64-encoded, with its instance id and a timestamp.
        const id = p.get('InstanceId') ?? '';
        if (!instances.has(id)) return error(res, 400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
        const out = Buffer.from(consoles.get(id) ?? '').toString('base64');
        return reply(res, action, `<instanceId>${id}</instanceId><timestamp>${new Date().toISOString()}</timestamp><output>${out}</output>`);
      }
      case 'DescribeInstances': {
        settle();
        const ids = numbered(p, 'InstanceId');
        for (const id of ids) if (!instances.has(id)) return error(res, 400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
        const fs = filters(p);
        const list = [...instances.values()].filter((i) => (ids.length === 0 || ids.includes(i.id)) && matches(fs, (n) => (n === 'instance-state-name' ? i.state : tagValue(i.tags, n))));
        const pg = page(list, p, maxPage);
        if ('error' in pg) return error(res, 400, 'InvalidParameterValue', pg.error);
        return reply(res, action, `<reservationSet>${items(pg.items.map((i) => `<reservationId>r-1</reservationId><instancesSet>${items([instanceXml(i)])}</instancesSet>`))}</reservationSet>${pg.next ? `<nextToken>${pg.next}</nextToken>` : ''}`);
      }
      case 'StartInstances':
      case 'StopInstances':
      case 'TerminateInstances': {
        const out: string[] = [];
        for (const id of numbered(p, 'InstanceId')) {
          const i = instances.get(id);
          if (!i || i.state === 'terminated') return error(res, 400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
          const previous = i.state;
          if (action === 'StartInstances') {
            if (i.state === 'stopping') return error(res, 400, 'IncorrectInstanceState', `The instance '${id}' is not in a state from which it can be started.`);
            if (i.state === 'stopped') Object.assign(i, { state: 'pending', pending: { to: 'running', after: 2 } });
          } else if (action === 'StopInstances') {
            if (i.state === 'pending') return error(res, 400, 'IncorrectInstanceState', `The instance '${id}' is not in a state from which it can be stopped.`);
            if (i.state === 'running') Object.assign(i, { state: 'stopping', pending: { to: 'stopped', after: 2 } });
          } else {
            Object.assign(i, { state: 'shutting-down', pending: { to: 'terminated', after: 2 } });
            // The data volume has DeleteOnTermination false: it is detached and kept.
            for (const v of volumes.values()) if (v.attachment?.instanceId === id) Object.assign(v, { attachment: undefined, state: 'available' });
          }
          out.push(stateChange(i, previous));
        }
        return reply(res, action, `<instancesSet>${out.join('')}</instancesSet>`);
      }
      case 'AttachVolume': {
        const v = volumes.get(p.get('VolumeId') ?? '');
        const i = instances.get(p.get('InstanceId') ?? '');
        if (!v || v.state === 'deleted') return error(res, 400, 'InvalidVolume.NotFound', `The volume '${p.get('VolumeId')}' does not exist.`);
        if (!i || i.state === 'terminated') return error(res, 400, 'InvalidInstanceID.NotFound', `The instance ID '${p.get('InstanceId')}' does not exist`);
        if (v.az !== i.az) return error(res, 400, 'InvalidVolume.ZoneMismatch', `The volume '${v.id}' is not in the same availability zone as instance '${i.id}'`);
        if (v.attachment || v.state !== 'available') return error(res, 400, 'VolumeInUse', `${v.id} is already attached to an instance`);
        v.attachment = { instanceId: i.id, device: p.get('Device') ?? '/dev/sdf', state: 'attaching' };
        v.state = 'in-use';
        return reply(res, action, `<volumeId>${v.id}</volumeId><instanceId>${i.id}</instanceId><device>${v.attachment.device}</device><status>attaching</status>`);
      }
      case 'DetachVolume': {
        const v = volumes.get(p.get('VolumeId') ?? '');
        if (!v || v.state === 'deleted') return error(res, 400, 'InvalidVolume.NotFound', `The volume '${p.get('VolumeId')}' does not exist.`);
        if (!v.attachment) return error(res, 400, 'IncorrectState', `Volume '${v.id}' is in the 'available' state.`);
        const i = instances.get(v.attachment.instanceId);
        if (i && i.state !== 'stopped' && p.get('Force') !== 'true') return error(res, 400, 'IncorrectState', `Instance ${i.id} must be stopped to detach its data volume (or use Force)`);
        v.attachment.state = 'detaching';
        return reply(res, action, `<volumeId>${v.id}</volumeId><instanceId>${i?.id ?? ''}</instanceId><device>/dev/sdf</device><status>detaching</status>`);
      }
      case 'DescribeVpcs':
        return reply(res, action, `<vpcSet>${items([`<vpcId>vpc-0default0000000</vpcId><isDefault>true</isDefault><cidrBlock>172.31.0.0/16</cidrBlock><state>available</state>`])}</vpcSet>`);
      case 'DescribeSubnets': {
        const ids = numbered(p, 'SubnetId');
        return reply(res, action, `<subnetSet>${items(ids.map((id) => `<subnetId>${id}</subnetId><vpcId>vpc-0sub000000000000</vpcId><availabilityZone>${region}b</availabilityZone><state>available</state>`))}</subnetSet>`);
      }
      case 'DescribeSecurityGroups': {
        const fs = filters(p);
        const list = [...groups.values()].filter((g) => matches(fs, (n) => (n === 'group-name' ? g.name : n === 'vpc-id' ? g.vpcId : undefined)));
        return reply(res, action, `<securityGroupInfo>${items(list.map((g) => `<ownerId>123456789012</ownerId><groupId>${g.id}</groupId><groupName>${g.name}</groupName><groupDescription>cnvm</groupDescription><vpcId>${g.vpcId}</vpcId>`))}</securityGroupInfo>`);
      }
      case 'CreateSecurityGroup': {
        const name = p.get('GroupName') ?? '';
        const vpcId = p.get('VpcId') ?? '';
        if ([...groups.values()].some((g) => g.name === name && g.vpcId === vpcId)) return error(res, 400, 'InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
        const g = { id: `sg-${hex(4)}`, name, vpcId, ingress: [] as string[] };
        groups.set(g.id, g);
        return reply(res, action, `<return>true</return><groupId>${g.id}</groupId>`);
      }
      case 'AuthorizeSecurityGroupIngress': {
        const g = groups.get(p.get('GroupId') ?? '');
        if (!g) return error(res, 400, 'InvalidGroup.NotFound', `The security group '${p.get('GroupId')}' does not exist`);
        for (let i = 1; p.has(`IpPermissions.${i}.FromPort`); i++) {
          for (let j = 1; p.has(`IpPermissions.${i}.IpRanges.${j}.CidrIp`); j++) g.ingress.push(`tcp/${p.get(`IpPermissions.${i}.FromPort`)} from ${p.get(`IpPermissions.${i}.IpRanges.${j}.CidrIp`)}`);
        }
        return reply(res, action, '<return>true</return>');
      }
      case 'CreateTags':
        return reply(res, action, '<return>true</return>');
      default:
        return error(res, 400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res).catch((err: unknown) => error(res, 500, 'InternalError', String(err))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    volumes,
    instances,
    groups,
    consoles,
    log,
    throttle: (action, times) => void throttled.set(action, times),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
