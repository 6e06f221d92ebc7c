// A stateful stand-in for the Compute Engine REST API on a loopback port, for the real @google-cloud/compute client.
// Bodies are decoded into the API's own message types (gce-protos.ts): an unknown field or enum value is a 400, as
// GCE answers it. It checks what the API reference says (fake-gce-rules.ts: names, labels, zones, machine types,
// one boot disk), and keeps GCE's state rules: a disk attached READ_WRITE to one instance at a time, a static
// address on one instance at a time (status IN_USE/RESERVED, users), one access config per interface, ephemeral
// external IPs that change on stop/start, metadata fingerprints, requestId idempotency, and operations that finish
// asynchronously (the first `wait` returns while still RUNNING). Faults are injected per request (429, 403 rate or
// quota, 503, a dropped connection, resourceNotReady) or per operation (ZONE_RESOURCE_POOL_EXHAUSTED).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeBody } from './gce-protos.js';
import * as rules from './fake-gce-rules.js';
import { handleNetwork, networkHelpers, type NetworkState } from './fake-gce-network.js';
import { handleProject, type ProjectState } from './fake-gce-project.js';
import type { AttachedDisk, Disk, FakeGce, FakeGceOptions, Instance, Operation, OperationFault, RequestFault } from './fake-gce-types.js';

export type { AccessConfig, Disk, FakeGce, FakeGceOptions, Instance, OperationFault, RequestFault } from './fake-gce-types.js';

const STATUS_NAMES: Record<number, string> = { 400: 'INVALID_ARGUMENT', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS', 412: 'FAILED_PRECONDITION', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 502: 'UNAVAILABLE', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };

export async function startFakeGce(project: string, zone: string, options: FakeGceOptions = {}): Promise<FakeGce> {
  const disks = new Map<string, Disk>();
  const instances = new Map<string, Instance>();
  const ops = new Map<string, Operation>();
  const byRequestId = new Map<string, Operation>();
  const serialOutput = new Map<string, string>();
  const log: string[] = [];
  const faultsServed: string[] = [];
  const requestFaults: RequestFault[] = [];
  const operationFaults: OperationFault[] = [];
  let opCounter = 0;
  let idCounter = 1000;
  let ephemeralCounter = 0;
  const region = rules.regionOfZone(zone);
  const api = '/compute/v1';
  const base = `${api}/projects/${project}/zones/${zone}`;
  const selfLink = (kind: string, name: string): string => `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/${kind}/${name}`;
  const netState: NetworkState = {
    project,
    region,
    firewalls: new Map(),
    addresses: new Map(),
    networks: new Map([['default', []], ...Object.entries(options.networks ?? {})]),
    instanceLink: (name) => selfLink('instances', name),
  };
  const net = { ...netState, ...networkHelpers(netState) };
  const projectState: ProjectState = { project, metadata: { items: [], fingerprint: 'project-fp-0' } };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, reason: string, message: string): void =>
    send(res, status, { error: { code: status, message, status: STATUS_NAMES[status], errors: [{ reason, message, domain: status === 403 || status === 429 ? 'usageLimits' : 'global' }] } });
  const refuse = (res: ServerResponse, r: rules.Refusal): void => fail(res, r.reason === 'notFound' ? 404 : 400, r.reason, r.message);

  let currentRequest = '';
  /** Queues a mutation as an operation; its effect (or its error) lands when the operation completes. */
  function operation(requestId: string | null, check: () => string | undefined, apply: () => void): Operation {
    if (requestId && byRequestId.has(requestId)) return byRequestId.get(requestId) as Operation;
    const op: Operation = { name: `operation-${++opCounter}`, status: 'RUNNING', waits: 0, apply: () => {} };
    const fault = operationFaults.find((f) => f.times > 0 && f.match.test(currentRequest));
    if (fault) fault.times--;
    op.apply = () => {
      const problem = fault ? `${fault.code}: ${fault.message}` : check();
      if (problem) op.error = { errors: [{ code: problem.split(':')[0] as string, message: problem.slice(problem.indexOf(':') + 1).trim() }] };
      else apply();
      op.status = 'DONE';
    };
    ops.set(op.name, op);
    if (requestId) byRequestId.set(requestId, op);
    return op;
  }
  const opJson = (op: Operation): unknown => ({ kind: 'compute#operation', name: op.name, status: op.status, zone: `projects/${project}/zones/${zone}`, ...(op.error ? { error: op.error } : {}) });
  const sendOp = (res: ServerResponse, op: Operation): void => send(res, 200, opJson(op));

  const diskRef = (source: string): { zone: string; name: string } => {
    const m = /zones\/([^/]+)\/disks\/([^/]+)$/.exec(source);
    return { zone: m?.[1] ?? '', name: m?.[2] ?? '' };
  };
  const newEphemeral = (): string => `203.0.113.${(++ephemeralCounter % 250) + 1}`;
  const instanceJson = (i: Instance): unknown => ({
    ...i,
    kind: 'compute#instance',
    selfLink: selfLink('instances', i.name),
    networkInterfaces: i.networkInterfaces.map((n) => ({ ...n, accessConfigs: n.accessConfigs.map((a) => ({ kind: 'compute#accessConfig', name: a.name, type: a.type, ...(a.natIP ? { natIP: a.natIP } : {}) })) })),
  });
  const diskJson = (d: Disk): unknown => ({ kind: 'compute#disk', name: d.name, sizeGb: d.sizeGb, labels: d.labels, users: d.users, zone: d.zone, selfLink: selfLink('disks', d.name) });
  const matchesFilter = (labels: Record<string, string>, filter: string | null): boolean => {
    const m = filter ? /labels\.([\w-]+)\s*=\s*"?([^"]*)"?/.exec(filter) : null;
    return !m || labels[m[1] as string] === m[2];
  };
  /** Decodes a body into its message type as GCE's front end does; undefined after answering 400. */
  function decoded<T>(res: ServerResponse, type: string, body: Record<string, unknown>, word: string): T | undefined {
    const { body: out, problems } = decodeBody(type, body, word);
    if (problems.length) {
      fail(res, 400, 'invalid', problems[0] as string);
      return undefined;
    }
    return out as T;
  }
  const releaseAddressesOf = (inst: Instance): void => {
    for (const a of net.addresses.values()) a.users = a.users.filter((u) => u !== selfLink('instances', inst.name));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const path = url.pathname;
    currentRequest = `${req.method} ${path.replace(base, '')}`;
    log.push(currentRequest);
    const fault = requestFaults.find((f) => f.times > 0 && f.match.test(currentRequest));
    if (fault) {
      fault.times--;
      faultsServed.push(`${fault.reset ? 'reset' : fault.status} ${currentRequest}`);
      if (fault.reset) return void req.socket.destroy();
      return fail(res, fault.status, fault.reason, fault.message ?? `${fault.reason}`);
    }
    const requestId = url.searchParams.get('requestId');

    const wait = /^\/compute\/v1\/projects\/[^/]+\/(?:zones\/[^/]+\/|regions\/[^/]+\/|global\/)operations\/([^/]+)\/wait$/.exec(path);
    if (wait) {
      const op = ops.get(wait[1] as string);
      if (!op) return fail(res, 404, 'notFound', `The resource 'operations/${wait[1]}' was not found`);
      // The first wait returns early, as GCE's does after a while; the next one completes the operation.
      if (op.status !== 'DONE' && op.waits++ > 0) op.apply();
      return sendOp(res, op);
    }
    const handled = handleNetwork(netState, { method: req.method ?? 'GET', path: path.slice(`${api}/projects/${project}`.length), query: url.searchParams, body, requestId }, {
      send: (status, json) => send(res, status, json),
      fail: (status, reason, message) => fail(res, status, reason, message),
      decoded: (type, b, word) => decoded(res, type, b, word),
      operation: (check, apply) => sendOp(res, operation(requestId, check, apply)),
    });
    if (handled) return;
    const projectPath = path.startsWith(`${api}/projects/${project}`) ? path.slice(`${api}/projects/${project}`.length) : undefined;
    if (
      projectPath !== undefined &&
      handleProject(projectState, { method: req.method ?? 'GET', path: projectPath, body }, {
        send: (status, json) => send(res, status, json),
        fail: (status, reason, message) => fail(res, status, reason, message),
        decoded: (type, b, word) => decoded(res, type, b, word),
        operation: (check, apply) => sendOp(res, operation(requestId, check, apply)),
      })
    )
      return;

    const zoneMatch = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)(\/.*)?$/.exec(path);
    if (!zoneMatch || zoneMatch[1] !== project) return fail(res, 404, 'notFound', `The resource 'projects/${zoneMatch?.[1] ?? '?'}' was not found`);
    if (!rules.KNOWN_ZONES.includes(zoneMatch[2] as string)) return fail(res, 400, 'invalid', `Invalid value for field 'zone': '${zoneMatch[2]}'. Unknown zone.`);
    if (zoneMatch[2] !== zone) return fail(res, 404, 'notFound', `The resource 'projects/${project}/zones/${zoneMatch[2]}/${(zoneMatch[3] ?? '').slice(1)}' was not found`);
    const [kind, name, action] = (zoneMatch[3] ?? '').split('/').filter(Boolean);

    if (kind === 'disks') {
      if (req.method === 'POST' && !name) {
        const r = decoded<{ name?: string; sizeGb?: string; type?: string; labels?: Record<string, string> }>(res, 'Disk', body, 'disk');
        if (!r) return;
        const bad = rules.checkName('resource.name', r.name) ?? rules.checkLabels('resource.labels', r.labels) ?? rules.checkDiskType(zone, r.type);
        if (bad) return refuse(res, bad);
        const diskName = r.name as string;
        const op = operation(requestId, () => (disks.has(diskName) ? `RESOURCE_ALREADY_EXISTS: The resource '${selfLink('disks', diskName)}' already exists` : undefined), () => {
          disks.set(diskName, { name: diskName, zone, sizeGb: r.sizeGb ?? '10', labels: r.labels ?? {}, users: [], bytes: Buffer.alloc(64 * 1024) });
        });
        return sendOp(res, op);
      }
      if (req.method === 'GET' && !name) return send(res, 200, { items: [...disks.values()].filter((d) => matchesFilter(d.labels, url.searchParams.get('filter'))).map(diskJson) });
      const disk = name ? disks.get(name) : undefined;
      if (!disk) return fail(res, 404, 'notFound', `The resource 'projects/${project}/zones/${zone}/disks/${name}' was not found`);
      if (req.method === 'GET') return send(res, 200, diskJson(disk));
      if (req.method === 'DELETE') {
        return sendOp(res, operation(requestId, () => (disk.users.length ? `RESOURCE_IN_USE_BY_ANOTHER_RESOURCE: The disk resource '${selfLink('disks', disk.name)}' is already being used by '${disk.users[0]}'` : undefined), () => void disks.delete(disk.name)));
      }
    }

    if (kind === 'instances') {
      if (req.method === 'POST' && !name) {
        type Body = Omit<Partial<Instance>, 'networkInterfaces' | 'disks'> & { machineType?: string; disks?: (Partial<AttachedDisk> & { initializeParams?: { sourceImage?: string } })[]; networkInterfaces?: { network?: string; subnetwork?: string; accessConfigs?: { name?: string; type?: string; natIP?: string }[] }[] };
        const r = decoded<Body>(res, 'Instance', body, 'instance');
        if (!r) return;
        const bad =
          rules.checkName('resource.name', r.name) ??
          rules.checkLabels('resource.labels', r.labels) ??
          rules.checkTags('resource.tags', r.tags) ??
          rules.checkMachineType(zone, r.machineType) ??
          rules.checkDisks(r.disks) ??
          rules.checkMetadata(r.metadata?.items) ??
          net.checkInterfaces(r.networkInterfaces);
        if (bad) return refuse(res, bad);
        const instName = r.name as string;
        const data = (r.disks ?? []).filter((d) => !d.boot);
        const op = operation(
          requestId,
          () => {
            if (instances.has(instName)) return `RESOURCE_ALREADY_EXISTS: The resource '${selfLink('instances', instName)}' already exists`;
            for (const d of data) {
              const ref = diskRef(d.source ?? '');
              const disk = disks.get(ref.name);
              if (!disk || ref.zone !== zone) return `RESOURCE_NOT_FOUND: The resource '${d.source}' was not found`;
              if (disk.users.length) return `RESOURCE_IN_USE_BY_ANOTHER_RESOURCE: The disk resource '${d.source}' is already being used by '${disk.users[0]}'`;
            }
            for (const ac of (r.networkInterfaces ?? []).flatMap((n) => n.accessConfigs ?? [])) {
              const problem = ac.natIP ? net.checkStaticIp(ac.natIP, instName) : undefined;
              if (problem) return problem;
            }
            return undefined;
          },
          () => {
            const inst: Instance = {
              id: String(++idCounter),
              name: instName,
              zone,
              status: 'RUNNING',
              labels: r.labels ?? {},
              tags: { items: r.tags?.items ?? [] },
              disks: (r.disks ?? []).map((d) => ({ boot: !!d.boot, source: d.boot ? selfLink('disks', `${instName}-boot`) : (d.source ?? ''), deviceName: d.deviceName ?? (d.boot ? 'persistent-disk-0' : ''), autoDelete: !!d.autoDelete, mode: d.mode ?? 'READ_WRITE' })),
              metadata: { items: (r.metadata?.items ?? []) as { key: string; value: string }[], fingerprint: `fp-${++idCounter}` },
              networkInterfaces: (r.networkInterfaces ?? []).map((n, i) => ({
                name: `nic${i}`,
                network: n.network ?? net.networkOfSubnetwork(n.subnetwork ?? ''),
                ...(n.subnetwork ? { subnetwork: n.subnetwork } : {}),
                networkIP: `10.0.0.${idCounter % 250}`,
                accessConfigs: (n.accessConfigs ?? []).map((a) => ({ name: a.name ?? 'External NAT', type: a.type ?? 'ONE_TO_ONE_NAT', natIP: a.natIP ?? newEphemeral(), ephemeral: !a.natIP })),
              })),
            };
            instances.set(instName, inst);
            for (const d of data) disks.get(diskRef(d.source ?? '').name)?.users.push(selfLink('instances', instName));
            for (const a of inst.networkInterfaces.flatMap((n) => n.accessConfigs)) if (!a.ephemeral && a.natIP) net.useStaticIp(a.natIP, instName);
          },
        );
        return sendOp(res, op);
      }
      if (req.method === 'GET' && !name) return send(res, 200, { items: [...instances.values()].filter((i) => matchesFilter(i.labels, url.searchParams.get('filter'))).map(instanceJson) });
      const inst = name ? instances.get(name) : undefined;
      if (!inst) return fail(res, 404, 'notFound', `The resource 'projects/${project}/zones/${zone}/instances/${name}' was not found`);
      if (req.method === 'GET' && !action) return send(res, 200, instanceJson(inst));
      // instances.getSerialPortOutput: the whole buffer from `start` (Compute API reference: contents, start, next).
      if (req.method === 'GET' && action === 'serialPort') {
        const text = serialOutput.get(inst.name) ?? '';
        const start = Number(url.searchParams.get('start') ?? '0');
        return send(res, 200, { kind: 'compute#serialPortOutput', contents: text.slice(start), start: String(start), next: String(text.length), selfLink: `${selfLink('instances', inst.name)}/serialPort` });
      }
      if (req.method === 'DELETE' && !action) {
        inst.status = 'STOPPING';
        return sendOp(res, operation(requestId, () => undefined, () => {
          instances.delete(inst.name);
          releaseAddressesOf(inst);
          for (const d of disks.values()) d.users = d.users.filter((u) => u !== selfLink('instances', inst.name));
          for (const a of inst.disks) if (a.autoDelete && !a.boot) disks.delete(diskRef(a.source).name);
        }));
      }
      if (req.method === 'POST' && action === 'stop') {
        if (inst.status === 'RUNNING') inst.status = 'STOPPING';
        return sendOp(res, operation(requestId, () => undefined, () => {
          inst.status = 'TERMINATED';
          // An ephemeral external IP is released when the instance stops (a static address stays assigned).
          for (const a of inst.networkInterfaces.flatMap((n) => n.accessConfigs)) if (a.ephemeral) delete a.natIP;
        }));
      }
      if (req.method === 'POST' && action === 'start') {
        if (inst.status === 'TERMINATED') inst.status = 'STAGING';
        return sendOp(res, operation(requestId, () => undefined, () => {
          inst.status = 'RUNNING';
          for (const a of inst.networkInterfaces.flatMap((n) => n.accessConfigs)) if (a.ephemeral && !a.natIP) a.natIP = newEphemeral();
        }));
      }
      if (req.method === 'POST' && action === 'attachDisk') {
        const a = decoded<AttachedDisk>(res, 'AttachedDisk', body, 'attachedDisk');
        if (!a) return;
        const ref = diskRef(a.source ?? '');
        return sendOp(res, operation(
          requestId,
          () => {
            const disk = disks.get(ref.name);
            if (!disk || ref.zone !== zone) return `RESOURCE_NOT_FOUND: The resource '${a.source}' was not found`;
            if (disk.users.length) return `RESOURCE_IN_USE_BY_ANOTHER_RESOURCE: The disk resource '${a.source}' is already being used by '${disk.users[0]}'`;
            if (inst.disks.some((d) => d.deviceName === a.deviceName)) return `INVALID_USAGE: deviceName ${a.deviceName} is already used on ${inst.name}`;
            return undefined;
          },
          () => {
            inst.disks.push({ boot: false, source: a.source, deviceName: a.deviceName, autoDelete: !!a.autoDelete, mode: a.mode ?? 'READ_WRITE' });
            disks.get(ref.name)?.users.push(selfLink('instances', inst.name));
          },
        ));
      }
      if (req.method === 'POST' && action === 'detachDisk') {
        const deviceName = url.searchParams.get('deviceName') ?? '';
        if (!inst.disks.some((d) => d.deviceName === deviceName && !d.boot)) return fail(res, 400, 'invalid', `Invalid value for field 'deviceName': '${deviceName}'. No attached disk of that name on ${inst.name}`);
        return sendOp(res, operation(requestId, () => undefined, () => {
          const a = inst.disks.find((d) => d.deviceName === deviceName);
          inst.disks = inst.disks.filter((d) => d !== a);
          const disk = a ? disks.get(diskRef(a.source).name) : undefined;
          if (disk) disk.users = disk.users.filter((u) => u !== selfLink('instances', inst.name));
        }));
      }
      if (req.method === 'POST' && action === 'setDiskAutoDelete') {
        const deviceName = url.searchParams.get('deviceName');
        const autoDelete = url.searchParams.get('autoDelete') === 'true';
        return sendOp(res, operation(requestId, () => undefined, () => inst.disks.filter((d) => d.deviceName === deviceName).forEach((d) => (d.autoDelete = autoDelete))));
      }
      // instances.setMetadata: replaces all items; refused unless the fingerprint is the current one. Works running.
      if (req.method === 'POST' && action === 'setMetadata') {
        const m = decoded<{ fingerprint?: string; items?: { key: string; value: string }[] }>(res, 'Metadata', body, 'metadata');
        if (!m) return;
        if (m.fingerprint !== inst.metadata.fingerprint) return fail(res, 412, 'conditionNotMet', `Supplied fingerprint does not match current metadata fingerprint.`);
        const bad = rules.checkMetadata(m.items);
        if (bad) return refuse(res, bad);
        return sendOp(res, operation(requestId, () => undefined, () => void (inst.metadata = { items: m.items ?? [], fingerprint: `fp-${++idCounter}` })));
      }
      if (req.method === 'POST' && (action === 'addAccessConfig' || action === 'deleteAccessConfig')) {
        const nic = inst.networkInterfaces.find((n) => n.name === url.searchParams.get('networkInterface'));
        if (!nic) return fail(res, 400, 'invalid', `Invalid value for field 'networkInterface': '${url.searchParams.get('networkInterface') ?? ''}'. No such network interface on ${inst.name}`);
        if (!['RUNNING', 'TERMINATED'].includes(inst.status)) return fail(res, 400, 'resourceNotReady', `The resource '${selfLink('instances', inst.name)}' is not ready`);
        if (action === 'deleteAccessConfig') {
          const name = url.searchParams.get('accessConfig');
          const ac = nic.accessConfigs.find((a) => a.name === name);
          if (!ac) return fail(res, 400, 'invalid', `Invalid value for field 'accessConfig': '${name ?? ''}'. No such access config on ${nic.name}`);
          return sendOp(res, operation(requestId, () => undefined, () => {
            nic.accessConfigs = nic.accessConfigs.filter((a) => a !== ac);
            if (ac.natIP && !ac.ephemeral) net.freeStaticIp(ac.natIP, inst.name);
          }));
        }
        const a = decoded<{ name?: string; type?: string; natIP?: string }>(res, 'AccessConfig', body, 'accessConfig');
        if (!a) return;
        if (nic.accessConfigs.length) return fail(res, 400, 'invalid', 'At most one access config currently supported.');
        return sendOp(res, operation(requestId, () => (a.natIP ? net.checkStaticIp(a.natIP, inst.name) : undefined), () => {
          nic.accessConfigs.push({ name: a.name ?? 'External NAT', type: a.type ?? 'ONE_TO_ONE_NAT', natIP: a.natIP ?? newEphemeral(), ephemeral: !a.natIP });
          if (a.natIP) net.useStaticIp(a.natIP, inst.name);
        }));
      }
    }
    return fail(res, 400, 'invalid', `unsupported ${req.method} ${path}`);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => fail(res, 500, 'backendError', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    project,
    zone,
    disks,
    instances,
    firewalls: net.firewalls,
    addresses: net.addresses,
    serialOutput,
    log,
    faultsServed,
    injectFault: (f) => void requestFaults.push({ ...f }),
    failOperation: (f) => void operationFaults.push({ ...f }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
