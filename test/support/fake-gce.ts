// A stateful stand-in for the Compute Engine REST API on a loopback port, for the real @google-cloud/compute client.
// It enforces GCE's rules: a disk attached READ_WRITE to one instance at a time (resourceInUseByAnotherResource),
// zone match, instance states (PROVISIONING→RUNNING, STOPPING→TERMINATED), metadata value size, requestId
// idempotency, and operations that complete asynchronously (the first `wait` returns while still RUNNING).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Disk {
  name: string;
  zone: string;
  sizeGb: string;
  labels: Record<string, string>;
  users: string[];
  bytes: Buffer;
}

interface AttachedDisk {
  boot: boolean;
  source: string;
  deviceName: string;
  autoDelete: boolean;
  mode: string;
}

interface Instance {
  id: string;
  name: string;
  zone: string;
  status: string;
  labels: Record<string, string>;
  disks: AttachedDisk[];
  metadata: { items: { key: string; value: string }[] };
  networkInterfaces: unknown[];
}

interface Operation {
  name: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  waits: number;
  apply: () => void;
  error?: { errors: { code: string; message: string }[] };
}

export interface FakeGce {
  port: number;
  disks: Map<string, Disk>;
  instances: Map<string, Instance>;
  firewalls: Map<string, Record<string, unknown>>;
  /** What each instance's serial port 1 printed (a fake cannot boot: tests write it). */
  serialOutput: Map<string, string>;
  /** Requests seen, `METHOD path` (for asserting what an operation sent). */
  log: string[];
  close(): Promise<void>;
}

const METADATA_LIMIT = 256 * 1024;

export async function startFakeGce(project: string, zone: string): Promise<FakeGce> {
  const disks = new Map<string, Disk>();
  const instances = new Map<string, Instance>();
  const firewalls = new Map<string, Record<string, unknown>>();
  const ops = new Map<string, Operation>();
  const byRequestId = new Map<string, Operation>();
  const serialOutput = new Map<string, string>();
  const log: string[] = [];
  let opCounter = 0;
  let idCounter = 1000;
  const base = `/compute/v1/projects/${project}/zones/${zone}`;
  const selfLink = (kind: string, name: string): string => `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/${kind}/${name}`;

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, reason: string, message: string): void =>
    send(res, status, { error: { code: status, message, errors: [{ reason, message, domain: 'global' }] } });

  /** Queues a mutation as an operation; its effect (or its error) lands when the operation completes. */
  function operation(requestId: string | null, check: () => string | undefined, apply: () => void): Operation {
    if (requestId && byRequestId.has(requestId)) return byRequestId.get(requestId) as Operation;
    const op: Operation = { name: `operation-${++opCounter}`, status: 'RUNNING', waits: 0, apply: () => {} };
    op.apply = () => {
      const problem = check();
      if (problem) op.error = { errors: [{ code: problem.split(':')[0] as string, message: problem }] };
      else apply();
      op.status = 'DONE';
    };
    ops.set(op.name, op);
    if (requestId) byRequestId.set(requestId, op);
    return op;
  }
  const opJson = (op: Operation): unknown => ({ kind: 'compute#operation', name: op.name, status: op.status, zone: `projects/${project}/zones/${zone}`, ...(op.error ? { error: op.error } : {}) });

  const diskNameFromSource = (source: string): { zone: string; name: string } => {
    const m = /zones\/([^/]+)\/disks\/([^/]+)$/.exec(source);
    return { zone: m?.[1] ?? '', name: m?.[2] ?? '' };
  };
  const instanceJson = (i: Instance): unknown => ({ ...i, kind: 'compute#instance', selfLink: selfLink('instances', i.name) });
  const diskJson = (d: Disk): unknown => ({ kind: 'compute#disk', name: d.name, sizeGb: d.sizeGb, labels: d.labels, users: d.users, zone: d.zone, selfLink: selfLink('disks', d.name) });
  const matchesFilter = (labels: Record<string, string>, filter: string | null): boolean => {
    const m = filter ? /labels\.([\w-]+)\s*=\s*"?([^"]*)"?/.exec(filter) : null;
    return !m || labels[m[1] as string] === m[2];
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const path = url.pathname;
    log.push(`${req.method} ${path.replace(base, '')}`);
    const requestId = url.searchParams.get('requestId');
    const globalBase = `/compute/v1/projects/${project}/global`;
    if (path.startsWith(`${globalBase}/operations/`) && path.endsWith('/wait')) {
      const op = ops.get(path.split('/').at(-2) ?? '');
      if (!op) return fail(res, 404, 'notFound', `operation was not found`);
      if (op.status !== 'DONE' && op.waits++ > 0) op.apply();
      return send(res, 200, opJson(op));
    }
    if (path.startsWith(`${globalBase}/firewalls`)) {
      const fwName = path.slice(`${globalBase}/firewalls`.length + 1);
      if (req.method === 'GET') {
        const fw = firewalls.get(fwName);
        return fw ? send(res, 200, fw) : fail(res, 404, 'notFound', `The resource 'projects/${project}/global/firewalls/${fwName}' was not found`);
      }
      if (req.method === 'POST' && !fwName) {
        const op = operation(requestId, () => (firewalls.has(String(body.name)) ? `ALREADY_EXISTS: firewall ${String(body.name)}` : undefined), () => void firewalls.set(String(body.name), body));
        return send(res, 200, opJson(op));
      }
    }
    if (!path.startsWith(base)) return fail(res, 404, 'notFound', `unknown project or zone in ${path}`);
    const rest = path.slice(base.length).split('/').filter(Boolean);
    const [kind, name, action] = rest;

    if (kind === 'operations' && name && action === 'wait') {
      const op = ops.get(name);
      if (!op) return fail(res, 404, 'notFound', `operation ${name} was not found`);
      // The first wait returns early, as GCE's does after a while; the next one completes the operation.
      if (op.status !== 'DONE' && op.waits++ > 0) op.apply();
      return send(res, 200, opJson(op));
    }

    if (kind === 'disks') {
      if (req.method === 'POST' && !name) {
        const r = body as { name: string; sizeGb: string; labels?: Record<string, string> };
        const op = operation(requestId, () => (disks.has(r.name) ? `ALREADY_EXISTS: disk ${r.name} already exists` : undefined), () => {
          disks.set(r.name, { name: r.name, zone, sizeGb: r.sizeGb, labels: r.labels ?? {}, users: [], bytes: Buffer.alloc(64 * 1024) });
        });
        return send(res, 200, opJson(op));
      }
      if (req.method === 'GET' && !name) return send(res, 200, { items: [...disks.values()].filter((d) => matchesFilter(d.labels, url.searchParams.get('filter'))).map(diskJson) });
      const disk = name ? disks.get(name) : undefined;
      if (!disk) return fail(res, 404, 'notFound', `The resource 'projects/${project}/zones/${zone}/disks/${name}' was not found`);
      if (req.method === 'GET') return send(res, 200, diskJson(disk));
      if (req.method === 'DELETE') {
        const op = operation(requestId, () => (disk.users.length ? `RESOURCE_IN_USE_BY_ANOTHER_RESOURCE: disk ${disk.name} is in use by ${disk.users[0]}` : undefined), () => disks.delete(disk.name));
        return send(res, 200, opJson(op));
      }
    }

    if (kind === 'instances') {
      if (req.method === 'POST' && !name) {
        const r = body as unknown as Instance & { machineType: string };
        const size = (r.metadata?.items ?? []).reduce((n, i) => Math.max(n, Buffer.byteLength(i.value)), 0);
        if (size > METADATA_LIMIT) return fail(res, 400, 'invalid', `metadata value is ${size} bytes, more than ${METADATA_LIMIT}`);
        const data = (r.disks ?? []).filter((d) => !d.boot);
        const op = operation(
          requestId,
          () => {
            if (instances.has(r.name)) return `ALREADY_EXISTS: instance ${r.name} already exists`;
            for (const d of data) {
              const ref = diskNameFromSource(d.source);
              const disk = disks.get(ref.name);
              if (!disk || ref.zone !== zone) return `RESOURCE_NOT_FOUND: disk ${d.source} was not found in zone ${zone}`;
              if (disk.users.length) return `RESOURCE_IN_USE_BY_ANOTHER_RESOURCE: The disk resource '${d.source}' is already being used by '${disk.users[0]}'`;
            }
            return undefined;
          },
          () => {
            const inst: Instance = {
              id: String(++idCounter),
              name: r.name,
              zone,
              status: 'RUNNING',
              labels: r.labels ?? {},
              disks: (r.disks ?? []).map((d) => ({ boot: !!d.boot, source: d.boot ? selfLink('disks', `${r.name}-boot`) : d.source, deviceName: d.deviceName ?? (d.boot ? 'persistent-disk-0' : ''), autoDelete: !!d.autoDelete, mode: d.mode ?? 'READ_WRITE' })),
              metadata: r.metadata ?? { items: [] },
              networkInterfaces: [{ networkIP: `10.0.0.${idCounter % 250}`, accessConfigs: [{ name: 'External NAT', natIP: `203.0.113.${idCounter % 250}` }] }],
            };
            instances.set(r.name, inst);
            for (const d of data) disks.get(diskNameFromSource(d.source).name)?.users.push(selfLink('instances', r.name));
          },
        );
        return send(res, 200, opJson(op));
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
        const op = operation(requestId, () => undefined, () => {
          instances.delete(inst.name);
          for (const d of disks.values()) d.users = d.users.filter((u) => u !== selfLink('instances', inst.name));
          for (const a of inst.disks) if (a.autoDelete && !a.boot) disks.delete(diskNameFromSource(a.source).name);
        });
        return send(res, 200, opJson(op));
      }
      if (req.method === 'POST' && action === 'stop') {
        if (inst.status === 'RUNNING') inst.status = 'STOPPING';
        return send(res, 200, opJson(operation(requestId, () => undefined, () => void (inst.status = 'TERMINATED'))));
      }
      if (req.method === 'POST' && action === 'start') {
        if (inst.status === 'TERMINATED') inst.status = 'STAGING';
        return send(res, 200, opJson(operation(requestId, () => undefined, () => void (inst.status = 'RUNNING'))));
      }
      if (req.method === 'POST' && action === 'attachDisk') {
        const a = body as unknown as AttachedDisk;
        const ref = diskNameFromSource(a.source);
        const op = operation(
          requestId,
          () => {
            const disk = disks.get(ref.name);
            if (!disk || ref.zone !== zone) return `RESOURCE_NOT_FOUND: disk ${a.source} was not found in zone ${zone}`;
            if (disk.users.length) return `RESOURCE_IN_USE_BY_ANOTHER_RESOURCE: The disk resource '${a.source}' is already being used by '${disk.users[0]}'`;
            if (inst.disks.some((d) => d.deviceName === a.deviceName)) return `INVALID_USAGE: deviceName ${a.deviceName} is already used on ${inst.name}`;
            return undefined;
          },
          () => {
            inst.disks.push({ boot: false, source: a.source, deviceName: a.deviceName, autoDelete: !!a.autoDelete, mode: a.mode ?? 'READ_WRITE' });
            disks.get(ref.name)?.users.push(selfLink('instances', inst.name));
          },
        );
        return send(res, 200, opJson(op));
      }
      if (req.method === 'POST' && action === 'detachDisk') {
        const deviceName = url.searchParams.get('deviceName') ?? '';
        if (!inst.disks.some((d) => d.deviceName === deviceName && !d.boot)) return fail(res, 400, 'invalid', `no disk with deviceName ${deviceName} on ${inst.name}`);
        const op = operation(requestId, () => undefined, () => {
          const a = inst.disks.find((d) => d.deviceName === deviceName);
          inst.disks = inst.disks.filter((d) => d !== a);
          const disk = a ? disks.get(diskNameFromSource(a.source).name) : undefined;
          if (disk) disk.users = disk.users.filter((u) => u !== selfLink('instances', inst.name));
        });
        return send(res, 200, opJson(op));
      }
      if (req.method === 'POST' && action === 'setDiskAutoDelete') {
        const deviceName = url.searchParams.get('deviceName');
        const autoDelete = url.searchParams.get('autoDelete') === 'true';
        return send(res, 200, opJson(operation(requestId, () => undefined, () => inst.disks.filter((d) => d.deviceName === deviceName).forEach((d) => (d.autoDelete = autoDelete)))));
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
    disks,
    instances,
    firewalls,
    serialOutput,
    log,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
