// The Google Compute Engine adapter (@google-cloud/compute, imported only when this provider is used). Data volumes
// are persistent disks labelled as cnvm's, attached READ_WRITE under an explicit deviceName (the guest sees
// /dev/disk/by-id/google-<deviceName>) with autoDelete off; boot disks auto-delete. Ignition goes in the
// `user-data` metadata key. Every mutation is a zone operation that cnvm waits on until DONE and checks for errors,
// with a requestId so a retried request is not applied twice; rate and quota errors are retried with backoff.
import { randomUUID } from 'node:crypto';
import { defineProvider } from './contract.js';
import { InUseError, NotFoundError, PermissionError, ProviderError, TimeoutError, WrongStateError } from './errors.js';
import { fitIgnition } from './ignition-size.js';
import { importSdk } from './sdk.js';
import type { ListResult, PlannedAction, Provider, VmInfo, VmSpec, VmState, Volume, VolumeSpec } from './types.js';

/** GCE's limit for one metadata value. */
export const GCE_METADATA_LIMIT = 256 * 1024;
const MANAGED_LABEL = 'cnvm-managed';

export interface GcpOptions {
  project: string;
  zone: string;
  machineType?: string;
  /** VPC network (default `default`) and optional subnetwork. */
  network?: string;
  subnetwork?: string;
  /** Network tags (default `https-server`, as the design proposal). */
  tags?: string[];
  diskType?: string;
  /** When given, make sure a firewall rule lets these source ranges reach tcp:443 on the instances' tags. */
  firewallSourceRanges?: string[];
  /** Passed to every client: endpoint, auth (tests point this at a local fake). */
  clientOptions?: Record<string, unknown>;
  pollIntervalMs?: number;
  operationTimeoutSec?: number;
  retryBaseMs?: number;
}

type Json = Record<string, unknown>;
interface Clients {
  instances: Json & Record<string, (req: Json) => Promise<unknown[]>>;
  disks: Json & Record<string, (req: Json) => Promise<unknown[]>>;
  operations: Json & Record<string, (req: Json) => Promise<unknown[]>>;
  firewalls: Json & Record<string, (req: Json) => Promise<unknown[]>>;
  globalOperations: Json & Record<string, (req: Json) => Promise<unknown[]>>;
}

/** Pure request builders: what --dry-run prints and what the adapter sends. */
export function gcpRequests(o: Required<Pick<GcpOptions, 'project' | 'zone'>> & GcpOptions) {
  const zoneUrl = `projects/${o.project}/zones/${o.zone}`;
  return {
    diskInsert: (spec: VolumeSpec): Json => ({
      project: o.project,
      zone: o.zone,
      diskResource: {
        name: spec.name,
        sizeGb: String(spec.sizeGiB),
        type: `${zoneUrl}/diskTypes/${o.diskType ?? 'pd-balanced'}`,
        labels: { [MANAGED_LABEL]: 'true', ...(spec.vmName ? { 'cnvm-vm': spec.vmName } : {}), 'cnvm-device': spec.deviceName },
      },
    }),
    instanceInsert: (spec: VmSpec, userData: string, dataDisk?: { name: string; deviceName: string }): Json => ({
      project: o.project,
      zone: o.zone,
      instanceResource: {
        name: spec.name,
        machineType: `${zoneUrl}/machineTypes/${o.machineType ?? 'e2-standard-4'}`,
        // Labels hold the owner (values: lowercase, ≤ 63 characters, as cnvm's names are); the record is metadata.
        labels: { [MANAGED_LABEL]: 'true', ...(spec.owner ? { 'cnvm-owner': spec.owner.name, 'cnvm-generation': String(spec.owner.generation) } : {}) },
        tags: { items: o.tags ?? ['https-server'] },
        disks: [
          { boot: true, autoDelete: true, initializeParams: { sourceImage: spec.image.id, diskSizeGb: '20' } },
          ...(dataDisk ? [{ source: `${zoneUrl}/disks/${dataDisk.name}`, deviceName: dataDisk.deviceName, mode: 'READ_WRITE', autoDelete: false }] : []),
        ],
        networkInterfaces: [
          {
            network: `projects/${o.project}/global/networks/${o.network ?? 'default'}`,
            ...(o.subnetwork ? { subnetwork: `projects/${o.project}/regions/${o.zone.replace(/-[a-z]$/, '')}/subnetworks/${o.subnetwork}` } : {}),
            accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }],
          },
        ],
        metadata: { items: [{ key: 'user-data', value: userData }, { key: 'cnvm-image', value: spec.image.id }, ...(spec.record ? [{ key: 'cnvm-record', value: spec.record }] : [])] },
      },
    }),
    attachDisk: (instance: string, disk: string, deviceName: string): Json => ({
      project: o.project,
      zone: o.zone,
      instance,
      attachedDiskResource: { source: `${zoneUrl}/disks/${disk}`, deviceName, mode: 'READ_WRITE', autoDelete: false },
    }),
    detachDisk: (instance: string, deviceName: string): Json => ({ project: o.project, zone: o.zone, instance, deviceName }),
    firewallInsert: (sourceRanges: string[]): Json => ({
      project: o.project,
      firewallResource: {
        name: firewallName(o.network ?? 'default'),
        network: `projects/${o.project}/global/networks/${o.network ?? 'default'}`,
        direction: 'INGRESS',
        allowed: [{ IPProtocol: 'tcp', ports: ['443'] }],
        sourceRanges,
        targetTags: o.tags ?? ['https-server'],
        description: 'PMM over HTTPS (created by cnvm)',
      },
    }),
    instance: (instance: string): Json => ({ project: o.project, zone: o.zone, instance }),
    disk: (disk: string): Json => ({ project: o.project, zone: o.zone, disk }),
  };
}

export const firewallName = (network: string): string => `cnvm-allow-https-${network}`.slice(0, 63);

const lastSegment = (url: unknown): string => (typeof url === 'string' ? url.slice(url.lastIndexOf('/') + 1) : '');

function vmState(status: unknown): VmState {
  switch (status) {
    case 'PROVISIONING':
    case 'STAGING':
    case 'REPAIRING':
      return 'pending';
    case 'RUNNING':
      return 'running';
    case 'STOPPING':
    case 'SUSPENDING':
      return 'stopping';
    case 'TERMINATED':
    case 'STOPPED':
    case 'SUSPENDED':
      return 'stopped';
    default:
      return 'unknown';
  }
}

/** An API or operation error → a typed provider error; GCE's message is kept as the cause. */
function classify(what: string, code: string | number | undefined, message: string): ProviderError {
  const cause = new Error(message);
  const text = `${what}: ${message}`;
  const c = String(code ?? '');
  if (c === '404' || c === '5' || /NOT_FOUND|notFound/i.test(c) || /was not found/i.test(message)) return new NotFoundError(text, { cause });
  if (/RESOURCE_IN_USE|resourceInUseByAnotherResource/i.test(`${c} ${message}`)) return new InUseError(text, { cause });
  if (c === '403' || c === '7' || /PERMISSION|forbidden/i.test(c)) return new PermissionError(text, { cause });
  if (/NOT_READY|resourceNotReady|UNSUPPORTED_OPERATION/i.test(`${c} ${message}`)) return new WrongStateError(text, { cause });
  return new ProviderError('failed', text, { cause });
}

function isRetryable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: string };
  return [429, 503, 8, 14, '429', '503'].includes(e.code as number) || /rateLimitExceeded|RESOURCE_EXHAUSTED|quotaExceeded|backendError/i.test(e.message ?? '');
}

export function createGcpProvider(options: GcpOptions): Provider {
  const o = { ...options, project: options.project, zone: options.zone };
  const req = gcpRequests(o);
  const pollMs = options.pollIntervalMs ?? 2000;
  const opTimeoutMs = (options.operationTimeoutSec ?? 600) * 1000;
  let clients: Promise<Clients> | undefined;

  function getClients(): Promise<Clients> {
    clients ??= (async () => {
      process.env.METADATA_SERVER_DETECTION ??= 'none';
      const compute = await importSdk('gcp', '@google-cloud/compute', () => import('@google-cloud/compute'));
      const opts = { fallback: true, ...(options.clientOptions ?? {}) };
      return {
        instances: new compute.InstancesClient(opts) as unknown as Clients['instances'],
        disks: new compute.DisksClient(opts) as unknown as Clients['disks'],
        operations: new compute.ZoneOperationsClient(opts) as unknown as Clients['operations'],
        firewalls: new compute.FirewallsClient(opts) as unknown as Clients['firewalls'],
        globalOperations: new compute.GlobalOperationsClient(opts) as unknown as Clients['globalOperations'],
      };
    })();
    return clients;
  }

  /** One API call with retries on rate/quota errors (exponential backoff), errors made typed. */
  async function call<T>(what: string, fn: () => Promise<unknown[]>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await fn())[0] as T;
      } catch (err) {
        if (isRetryable(err) && attempt < 5) {
          await new Promise((r) => setTimeout(r, (options.retryBaseMs ?? 500) * 2 ** attempt));
          continue;
        }
        const e = err as { code?: string | number; message?: string };
        throw classify(what, e.code, e.message ?? String(err));
      }
    }
  }

  /** Sends a mutation with a requestId (reused on retry) and waits for its zone (or global) operation to be DONE. */
  async function mutate(what: string, method: (c: Clients, r: Json) => Promise<unknown[]>, request: Json, scope: 'zone' | 'global' = 'zone'): Promise<void> {
    const c = await getClients();
    const requestId = randomUUID();
    const response = await call<{ latestResponse?: { name?: string }; name?: string }>(what, () => method(c, { ...request, requestId }));
    const name = response?.latestResponse?.name ?? response?.name;
    if (!name) throw new ProviderError('failed', `${what}: no operation returned`);
    const deadline = Date.now() + opTimeoutMs;
    // `wait` returns when the operation is done or after a while regardless: loop until DONE.
    for (;;) {
      const op = await call<{ status?: string; error?: { errors?: { code?: string; message?: string }[] } }>(`${what} (operation ${name})`, () =>
        scope === 'zone' ? c.operations.wait!({ project: o.project, zone: o.zone, operation: name }) : c.globalOperations.wait!({ project: o.project, operation: name }),
      );
      if (op?.status === 'DONE') {
        const first = op.error?.errors?.[0];
        if (first) throw classify(what, first.code, first.message ?? first.code ?? 'operation failed');
        return;
      }
      if (Date.now() > deadline) throw new TimeoutError(`${what}: operation ${name} not done after ${opTimeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async function getDisk(name: string): Promise<Json | undefined> {
    const c = await getClients();
    try {
      return await call<Json>(`disks.get ${name}`, () => c.disks.get!(req.disk(name)));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async function getInstance(name: string): Promise<Json | undefined> {
    const c = await getClients();
    try {
      return await call<Json>(`instances.get ${name}`, () => c.instances.get!(req.instance(name)));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  const volumeOf = (disk: Json): Volume => {
    const users = Array.isArray(disk.users) ? (disk.users as string[]) : [];
    const labels = (disk.labels ?? {}) as Record<string, string>;
    return {
      id: String(disk.name),
      name: String(disk.name),
      sizeGiB: Number(disk.sizeGb ?? 0),
      deviceName: labels['cnvm-device'] ?? String(disk.name),
      ...(users[0] ? { attachedTo: lastSegment(users[0]) } : {}),
    };
  };

  const vmOf = (inst: Json): VmInfo => {
    const disks = (Array.isArray(inst.disks) ? inst.disks : []) as Json[];
    const meta = ((inst.metadata as Json | undefined)?.items ?? []) as { key: string; value: string }[];
    const nics = (Array.isArray(inst.networkInterfaces) ? inst.networkInterfaces : []) as Json[];
    const labels = (inst.labels ?? {}) as Record<string, string>;
    const owner = labels['cnvm-owner'];
    const generation = Number(labels['cnvm-generation']);
    const record = meta.find((m) => m.key === 'cnvm-record')?.value;
    const addresses = nics.flatMap((n) => [
      ...((n.accessConfigs as Json[] | undefined) ?? []).map((a) => a.natIP).filter((x): x is string => typeof x === 'string'),
      ...(typeof n.networkIP === 'string' ? [n.networkIP] : []),
    ]);
    return {
      name: String(inst.name),
      id: String(inst.id ?? inst.name),
      state: vmState(inst.status),
      image: meta.find((m) => m.key === 'cnvm-image')?.value ?? '',
      volumes: disks.filter((d) => !d.boot).map((d) => ({ volumeId: lastSegment(d.source), deviceName: String(d.deviceName ?? '') })),
      addresses: vmState(inst.status) === 'running' ? addresses : [],
      ...(owner && Number.isInteger(generation) ? { owner: { name: owner, generation } } : {}),
      ...(record ? { record } : {}),
    };
  };

  async function mustVm(name: string): Promise<VmInfo> {
    const inst = await getInstance(name);
    if (!inst) throw new NotFoundError(`no instance ${name} in ${o.project}/${o.zone}`);
    return vmOf(inst);
  }

  const planned = (action: string, detail: Json, effect: string): PlannedAction[] => [{ action, detail, effect }];

  /** The HTTPS firewall rule, created once per network when asked for; an existing rule of that name is kept. */
  async function ensureFirewall(): Promise<void> {
    if (!options.firewallSourceRanges?.length) return;
    const c = await getClients();
    const name = firewallName(o.network ?? 'default');
    try {
      await call(`firewalls.get ${name}`, () => c.firewalls.get!({ project: o.project, firewall: name }));
      return;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    await mutate(`firewalls.insert ${name}`, (cl, r) => cl.firewalls.insert!(r), req.firewallInsert(options.firewallSourceRanges), 'global');
  }

  return defineProvider({
    // Until static addresses: the external IP is ephemeral and changes when the VM is replaced.
    addressing: { kind: 'implicit', describe: 'ephemeral external IP (changes on upgrade)' },
    name: 'gcp',
    // The attachment's deviceName: /dev/disk/by-id/google-<deviceName>.
    dataDisk: (volume) => ({ provider: 'gcp', deviceName: volume.deviceName }),
    plan: {
      createVolume: (spec) => planned('compute.disks.insert', req.diskInsert(spec), `new ${spec.sizeGiB} GiB persistent disk ${spec.name}, labelled ${MANAGED_LABEL}`),
      deleteVolume: (id) => planned('compute.disks.delete', req.disk(id), `delete disk ${id} and everything on it`),
      createVm: (spec) => [
        ...(options.firewallSourceRanges?.length ? planned('compute.firewalls.insert', req.firewallInsert(options.firewallSourceRanges), 'allow tcp:443 to the instances (if the rule is missing)') : []),
        ...planned('compute.instances.insert', req.instanceInsert(spec, '<ignition>', spec.dataVolumeId ? { name: spec.dataVolumeId, deviceName: '<deviceName>' } : undefined), `instance ${spec.name}`),
        ...planned('compute.instances.stop', req.instance(spec.name), 'stop it again until it is wanted (GCE starts new instances)'),
      ],
      startVm: (name) => planned('compute.instances.start', req.instance(name), `start ${name}`),
      stopVm: (name) => planned('compute.instances.stop', req.instance(name), `stop ${name}`),
      destroyVm: (name) => planned('compute.instances.delete', req.instance(name), `delete ${name} and its boot disk (data disks have autoDelete off)`),
      attachVolume: (vm, id) => planned('compute.instances.attachDisk', req.attachDisk(vm, id, '<deviceName>'), `attach ${id} READ_WRITE to stopped ${vm}`),
      detachVolume: (vm, id) => planned('compute.instances.detachDisk', req.detachDisk(vm, '<deviceName>'), `detach ${id} from stopped ${vm}`),
    },

    async findVolume(name) {
      const disk = await getDisk(name);
      return disk ? volumeOf(disk) : undefined;
    },

    async createVolume(spec) {
      const existing = await this.findVolume(spec.name);
      if (existing) return existing;
      if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(spec.deviceName)) throw new ProviderError('invalid', `GCE deviceName ${JSON.stringify(spec.deviceName)} is not valid`);
      await mutate(`disks.insert ${spec.name}`, (c, r) => c.disks.insert!(r), req.diskInsert(spec));
      return (await this.findVolume(spec.name)) as Volume;
    },

    async deleteVolume(id) {
      const disk = await getDisk(id);
      if (!disk) return;
      const v = volumeOf(disk);
      if (v.attachedTo) throw new InUseError(`disk ${id} is attached to ${v.attachedTo}; detach it first`);
      await mutate(`disks.delete ${id}`, (c, r) => c.disks.delete!(r), req.disk(id));
    },

    async findVm(name) {
      const inst = await getInstance(name);
      return inst ? vmOf(inst) : undefined;
    },

    async consoleOutput(name) {
      const c = await getClients();
      const out = await call<{ contents?: string } | undefined>(`instances.getSerialPortOutput ${name}`, () => c.instances.getSerialPortOutput!(req.instance(name))).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      return out?.contents ?? undefined;
    },

    async preflight(spec) {
      if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(spec.name)) throw new ProviderError('invalid', `${JSON.stringify(spec.name)} is not a valid GCE instance name (lowercase letters, digits, dashes; ≤ 63; starts with a letter)`);
      fitIgnition(spec.ignition, GCE_METADATA_LIMIT, 'a GCE metadata value');
    },

    async createVm(spec) {
      const existing = await this.findVm(spec.name);
      if (existing) return existing;
      let dataDisk: { name: string; deviceName: string } | undefined;
      if (spec.dataVolumeId) {
        const disk = await getDisk(spec.dataVolumeId);
        if (!disk) throw new NotFoundError(`disk ${spec.dataVolumeId} does not exist in ${o.zone}`);
        const v = volumeOf(disk);
        // An insert naming a disk attached elsewhere fails with resourceInUseByAnotherResource: never send one.
        if (v.attachedTo) throw new InUseError(`disk ${v.name} is attached to ${v.attachedTo}; a disk is attached READ_WRITE to one instance at a time`);
        dataDisk = { name: v.name, deviceName: v.deviceName };
      }
      const { text } = fitIgnition(spec.ignition, GCE_METADATA_LIMIT, 'a GCE metadata value');
      await ensureFirewall();
      await mutate(`instances.insert ${spec.name}`, (c, r) => c.instances.insert!(r), req.instanceInsert(spec, text, dataDisk));
      // GCE starts what it creates; the contract is "created, not started", so the lifecycle decides when it runs.
      await mutate(`instances.stop ${spec.name}`, (c, r) => c.instances.stop!(r), req.instance(spec.name));
      return mustVm(spec.name);
    },

    async startVm(name) {
      const vm = await mustVm(name);
      if (vm.state === 'running') return vm;
      await mutate(`instances.start ${name}`, (c, r) => c.instances.start!(r), req.instance(name));
      return mustVm(name);
    },

    async stopVm(name) {
      const vm = await mustVm(name);
      if (vm.state === 'stopped') return vm;
      await mutate(`instances.stop ${name}`, (c, r) => c.instances.stop!(r), req.instance(name));
      return mustVm(name);
    },

    async destroyVm(name) {
      const inst = await getInstance(name);
      if (!inst) return;
      // Safety net: whatever the attachment says, a data disk must survive the instance.
      for (const d of ((inst.disks as Json[] | undefined) ?? []).filter((x) => !x.boot && x.autoDelete)) {
        await mutate(`instances.setDiskAutoDelete ${name}`, (c, r) => c.instances.setDiskAutoDelete!(r), { ...req.instance(name), autoDelete: false, deviceName: d.deviceName });
      }
      await mutate(`instances.delete ${name}`, (c, r) => c.instances.delete!(r), req.instance(name));
    },

    async attachVolume(vmName, id) {
      const vm = await mustVm(vmName);
      if (vm.volumes.some((v) => v.volumeId === id)) return vm;
      const disk = await getDisk(id);
      if (!disk) throw new NotFoundError(`disk ${id} does not exist in ${o.zone}`);
      const v = volumeOf(disk);
      if (v.attachedTo) throw new InUseError(`disk ${id} is attached to ${v.attachedTo}; a disk is attached READ_WRITE to one instance at a time`);
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before attaching the data disk`);
      await mutate(`instances.attachDisk ${vmName}`, (c, r) => c.instances.attachDisk!(r), req.attachDisk(vmName, id, v.deviceName));
      return mustVm(vmName);
    },

    async detachVolume(vmName, id) {
      const vm = await mustVm(vmName);
      const attached = vm.volumes.find((v) => v.volumeId === id);
      if (!attached) return vm;
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before detaching the data disk`);
      await mutate(`instances.detachDisk ${vmName}`, (c, r) => c.instances.detachDisk!(r), req.detachDisk(vmName, attached.deviceName));
      return mustVm(vmName);
    },

    async list(): Promise<ListResult> {
      const c = await getClients();
      const filter = `labels.${MANAGED_LABEL} = "true"`;
      const instances = await call<Json[]>('instances.list', () => c.instances.list!({ project: o.project, zone: o.zone, filter }));
      const disks = await call<Json[]>('disks.list', () => c.disks.list!({ project: o.project, zone: o.zone, filter }));
      return { vms: (instances ?? []).map(vmOf), volumes: (disks ?? []).map(volumeOf) };
    },
  });
}
