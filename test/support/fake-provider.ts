// A stateful in-memory provider for lifecycle tests and the downtime benchmark. It enforces the rules the real
// adapters do (one attachment per volume, attach/detach only while stopped, state transitions) and can inject a
// latency per operation and a crash at any call, before or after the operation takes effect.
// With `addressing: 'reserved'` it also keeps stable addresses as EC2's Elastic IPs and GCE's static external
// addresses behave: an address is on at most one VM, assigning it takes it from its holder, deleting the holder
// leaves it reserved and unassigned, and a VM without one gets an ephemeral IP that changes on every create.
import { InUseError, NotFoundError, WrongStateError } from '../../src/provider/errors.js';
import { defineProvider } from '../../src/provider/contract.js';
import type { AddressPrimitives, ProviderPrimitives } from '../../src/provider/primitives.js';
import type { LeasePrimitives, StoredLease, PlannedAction, Provider, StableAddress, VmInfo, VmOwner, VmSpec, Volume, VolumeSpec } from '../../src/provider/types.js';

export class InjectedCrash extends Error {
  constructor(readonly at: string) {
    super(`injected crash ${at}`);
    this.name = 'InjectedCrash';
  }
}

interface FakeVm {
  name: string;
  image: string;
  state: 'running' | 'stopped';
  volumes: { volumeId: string; deviceName: string }[];
  owner?: VmOwner;
  record?: string;
  ignition: string;
  /** The config Ignition ran with: the stored one at the VM's first start (later replacements never run). */
  firstBootIgnition?: string;
  memoryMiB?: number;
  /** The IP a VM without a stable address gets; a new one on every create. */
  ephemeralIp: string;
}

interface FakeAddress {
  id: string;
  name: string;
  ip: string;
  owner: string;
  assignedTo?: string;
}

interface FakeVolume {
  id: string;
  name: string;
  sizeGiB: number;
  deviceName: string;
  bytes: Buffer;
}

export type Operation =
  | 'createVolume'
  | 'deleteVolume'
  | 'createVm'
  | 'startVm'
  | 'stopVm'
  | 'destroyVm'
  | 'attachVolume'
  | 'detachVolume'
  | 'reserveAddress'
  | 'assignAddress'
  | 'releaseAddress'
  | 'replaceIgnition';

export interface FakeOptions {
  /** Milliseconds each operation takes. */
  latencyMs?: Partial<Record<Operation, number>>;
  /** `implicit` (default): every VM answers on 192.0.2.10, as libvirt's kept MAC does. `reserved`: stable addresses. */
  addressing?: 'implicit' | 'reserved';
  /** The address every VM reports in `implicit` mode (default 192.0.2.10); `127.0.0.1:PORT` puts a stand-in behind it. */
  implicitAddress?: string;
  /** `while-stopped`: the stored config can be replaced only while the VM is stopped (EC2 user data). */
  replaceIgnition?: 'always' | 'while-stopped' | 'unsupported';
  /** Keep VM leases in memory (a map with a version per lease, as a conditional store would). */
  leases?: boolean;
}

/** In-memory lease primitives: create fails when one exists; renew and remove only the version given. */
function memoryLeases(): LeasePrimitives {
  const store = new Map<string, StoredLease>();
  let version = 0;
  return {
    where: (key) => `fake lease ${key}`,
    read: async (key) => store.get(key),
    async create(key, lease) {
      if (store.has(key)) return false;
      store.set(key, { lease, version: String(++version) });
      return true;
    },
    async renew(key, current, lease) {
      if (store.get(key)?.version !== current.version) return undefined;
      const next = { lease, version: String(++version) };
      store.set(key, next);
      return next;
    },
    async remove(key, current) {
      if (store.get(key)?.version === current.version) store.delete(key);
    },
  };
}

export interface FakeProvider extends Provider {
  /** Crash on the n-th (1-based) mutating call from now, before or after it takes effect. */
  crashAt(n: number, when: 'before' | 'after'): void;
  /** Every mutating call made, in order (for asserting what an upgrade did). */
  readonly calls: string[];
  /** The largest number of VMs that ever had one volume attached at the same time. */
  readonly maxAttachments: number;
  volumeBytes(id: string): Buffer;
  /** What a VM holds: its stored Ignition config (replaceable), the one its first boot ran, and its memory. */
  spec(name: string): { ignition: string; firstBootIgnition?: string; memoryMiB?: number } | undefined;
  /** Every reserved address (reserved mode), for the invariant that it sits on the VM holding the volume. */
  addresses(): StableAddress[];
  /** Make the next createVm leave the VM running and fail, as a run killed between launch and stop would. */
  crashInsideCreate(): void;
}

export function createFakeProvider(options: FakeOptions = {}): FakeProvider {
  const vms = new Map<string, FakeVm>();
  const volumes = new Map<string, FakeVolume>();
  const calls: string[] = [];
  let crash: { n: number; when: 'before' | 'after' } | undefined;
  let counter = 0;
  let maxAttachments = 0;
  let crashInCreate = false;
  const addresses = new Map<string, FakeAddress>();
  let ipCounter = 0;
  /** TEST-NET-2 for ephemeral IPs, TEST-NET-3 for reserved ones: never routable, never confused. */
  const nextIp = (net: string): string => `${net}.${(++ipCounter % 250) + 1}`;

  const sleep = (op: Operation): Promise<void> => new Promise((r) => setTimeout(r, options.latencyMs?.[op] ?? 0));

  async function mutate<T>(op: Operation, label: string, effect: () => T): Promise<T> {
    counter++;
    calls.push(`${op} ${label}`);
    if (crash && crash.n === counter && crash.when === 'before') {
      crash = undefined;
      throw new InjectedCrash(`before ${op} ${label}`);
    }
    await sleep(op);
    const result = effect();
    for (const v of volumes.values()) {
      const holders = [...vms.values()].filter((vm) => vm.volumes.some((a) => a.volumeId === v.id)).length;
      maxAttachments = Math.max(maxAttachments, holders);
    }
    if (crash && crash.n === counter && crash.when === 'after') {
      crash = undefined;
      throw new InjectedCrash(`after ${op} ${label}`);
    }
    return result;
  }

  const addressOf = (vmName: string): FakeAddress | undefined => [...addresses.values()].find((a) => a.assignedTo === vmName);
  const addressInfo = (a: FakeAddress): StableAddress => ({ id: a.id, name: a.name, ip: a.ip, ...(a.assignedTo ? { assignedTo: a.assignedTo } : {}) });
  const holderOf = (id: string): string | undefined => [...vms.values()].find((vm) => vm.volumes.some((a) => a.volumeId === id))?.name;
  const info = (vm: FakeVm): VmInfo => ({
    name: vm.name,
    id: vm.name,
    state: vm.state,
    image: vm.image,
    volumes: vm.volumes.map((v) => ({ ...v })),
    addresses: vm.state !== 'running' ? [] : options.addressing !== 'reserved' ? [options.implicitAddress ?? '192.0.2.10'] : [addressOf(vm.name)?.ip ?? vm.ephemeralIp],
    ...(vm.owner ? { owner: { ...vm.owner } } : {}),
    ...(vm.record ? { record: vm.record } : {}),
  });
  const volumeInfo = (v: FakeVolume): Volume => {
    const attachedTo = holderOf(v.id);
    return { id: v.id, name: v.name, sizeGiB: v.sizeGiB, deviceName: v.deviceName, ...(attachedTo ? { attachedTo } : {}) };
  };
  const mustVm = (name: string): FakeVm => {
    const vm = vms.get(name);
    if (!vm) throw new NotFoundError(`no VM ${name}`);
    return vm;
  };
  const mustVolume = (id: string): FakeVolume => {
    const v = volumes.get(id);
    if (!v) throw new NotFoundError(`no volume ${id}`);
    return v;
  };
  const planned = (action: string, detail: string[]): PlannedAction[] => [{ action, detail, effect: action }];

  const reserved = options.addressing === 'reserved';
  const addressPrimitives: { address?: AddressPrimitives } = !reserved
    ? {}
    : {
        address: {
          async find(nameOrId) {
            const a = addresses.get(nameOrId) ?? [...addresses.values()].find((x) => x.name === nameOrId);
            return a ? addressInfo(a) : undefined;
          },
          async reserve(name, owner) {
            const existing = [...addresses.values()].find((x) => x.name === name);
            if (existing) return addressInfo(existing);
            return mutate('reserveAddress', name, () => {
              const a: FakeAddress = { id: `fakeaddr-${name}`, name, ip: nextIp('203.0.113'), owner };
              addresses.set(a.id, a);
              return addressInfo(a);
            });
          },
          async assign(id, vmName) {
            const a = addresses.get(id);
            if (!a) throw new NotFoundError(`no address ${id}`);
            mustVm(vmName);
            // Moving it takes it from the holder (EC2 AllowReassociation; GCE deletes the old access config first).
            return mutate('assignAddress', `${a.name} ${vmName}`, () => ((a.assignedTo = vmName), addressInfo(a)));
          },
          async release(id) {
            const a = addresses.get(id);
            if (!a) return;
            if (a.assignedTo) throw new InUseError(`address ${a.ip} is assigned to ${a.assignedTo}`);
            await mutate('releaseAddress', a.name, () => addresses.delete(id));
          },
        },
      };
  const replaceMode = options.replaceIgnition ?? 'always';
  const replacePrimitive: Pick<ProviderPrimitives, 'replaceIgnition'> =
    replaceMode === 'unsupported'
      ? {}
      : {
          async replaceIgnition(vmName, ignition) {
            const vm = mustVm(vmName);
            if (replaceMode === 'while-stopped' && vm.state !== 'stopped') return 'deferred';
            return mutate('replaceIgnition', vmName, () => ((vm.ignition = ignition), 'replaced' as const));
          },
        };

  const primitives: ProviderPrimitives = {
    name: 'libvirt',
    addressing: reserved
      ? { kind: 'reserved', describe: 'fake reserved address, moved to the new VM inside the downtime window' }
      : { kind: 'implicit', describe: 'fake: addresses never change' },
    ...addressPrimitives,
    ...replacePrimitive,
    ...(options.leases ? { leases: memoryLeases() } : {}),
    holderOf: async (id) => holderOf(id),
    async preflight(spec) {
      // The fake's "images" are names; a name starting with `missing` stands for an image that does not exist.
      if (spec.image.id.startsWith('missing')) throw new NotFoundError(`base image ${spec.image.id} does not exist`);
    },
    plan: {
      createVolume: (s: VolumeSpec) => planned('fake:createVolume', [s.name]),
      deleteVolume: (id: string) => planned('fake:deleteVolume', [id]),
      createVm: (s: VmSpec) => planned('fake:createVm', [s.name]),
      startVm: (n: string) => planned('fake:startVm', [n]),
      stopVm: (n: string) => planned('fake:stopVm', [n]),
      destroyVm: (n: string) => planned('fake:destroyVm', [n]),
      attachVolume: (n: string, id: string) => planned('fake:attachVolume', [n, id]),
      detachVolume: (n: string, id: string) => planned('fake:detachVolume', [n, id]),
      ...(reserved
        ? {
            reserveAddress: (name: string) => planned('fake:reserveAddress', [name]),
            assignAddress: (id: string, vm: string) => planned('fake:assignAddress', [id, vm]),
            releaseAddress: (id: string) => planned('fake:releaseAddress', [id]),
          }
        : {}),
    },
    async findVolume(name) {
      const v = [...volumes.values()].find((x) => x.name === name);
      return v ? volumeInfo(v) : undefined;
    },
    async createVolume(spec) {
      const existing = await this.findVolume(spec.name);
      if (existing) return existing;
      return mutate('createVolume', spec.name, () => {
        const v: FakeVolume = { id: `fakevol-${spec.name}`, name: spec.name, sizeGiB: spec.sizeGiB, deviceName: spec.deviceName, bytes: Buffer.alloc(64 * 1024) };
        volumes.set(v.id, v);
        return volumeInfo(v);
      });
    },
    async deleteVolume(id) {
      if (!volumes.has(id)) return;
      const holder = holderOf(id);
      if (holder) throw new InUseError(`volume ${id} is attached to ${holder}`);
      await mutate('deleteVolume', id, () => volumes.delete(id));
    },
    async findVm(name) {
      const vm = vms.get(name);
      return vm ? info(vm) : undefined;
    },
    async createVm(spec) {
      const existing = vms.get(spec.name);
      if (existing) return info(existing);
      if (spec.dataVolumeId) {
        mustVolume(spec.dataVolumeId);
        const holder = holderOf(spec.dataVolumeId);
        if (holder) throw new InUseError(`volume ${spec.dataVolumeId} is attached to ${holder}`);
      }
      return mutate('createVm', spec.name, () => {
        const vm: FakeVm = {
          name: spec.name,
          image: spec.image.id,
          state: crashInCreate ? 'running' : 'stopped',
          ignition: spec.ignition,
          // Launched running (as EC2 and GCE do): its first boot runs this config.
          ...(crashInCreate ? { firstBootIgnition: spec.ignition } : {}),
          ephemeralIp: nextIp('198.51.100'),
          ...(spec.memoryMiB ? { memoryMiB: spec.memoryMiB } : {}),
          ...(spec.owner ? { owner: spec.owner } : {}),
          ...(spec.record ? { record: spec.record } : {}),
          volumes: spec.dataVolumeId ? [{ volumeId: spec.dataVolumeId, deviceName: mustVolume(spec.dataVolumeId).deviceName }] : [],
        };
        vms.set(spec.name, vm);
        if (crashInCreate) {
          crashInCreate = false;
          throw new InjectedCrash(`inside createVm ${spec.name}, after the launch and before the stop`);
        }
        return info(vm);
      });
    },
    async startVm(name) {
      const vm = mustVm(name);
      if (vm.state === 'running') return info(vm);
      return mutate('startVm', name, () => ((vm.firstBootIgnition ??= vm.ignition), (vm.state = 'running'), info(vm)));
    },
    async stopVm(name) {
      const vm = mustVm(name);
      if (vm.state === 'stopped') return info(vm);
      return mutate('stopVm', name, () => ((vm.state = 'stopped'), info(vm)));
    },
    async destroyVm(name) {
      if (!vms.has(name)) return;
      await mutate('destroyVm', name, () => {
        // The address stays reserved, unassigned (EC2 disassociates an Elastic IP from a terminated instance).
        const a = addressOf(name);
        if (a) delete a.assignedTo;
        return vms.delete(name);
      });
    },
    async attachVolume(name, id) {
      const vm = mustVm(name);
      const v = mustVolume(id);
      if (vm.volumes.some((a) => a.volumeId === id)) return info(vm);
      const holder = holderOf(id);
      if (holder) throw new InUseError(`volume ${id} is attached to ${holder}`);
      if (vm.state !== 'stopped') throw new WrongStateError(`${name} is ${vm.state}`);
      return mutate('attachVolume', `${name} ${v.name}`, () => (vm.volumes.push({ volumeId: id, deviceName: v.deviceName }), info(vm)));
    },
    async detachVolume(name, id) {
      const vm = mustVm(name);
      if (!vm.volumes.some((a) => a.volumeId === id)) return info(vm);
      if (vm.state !== 'stopped') throw new WrongStateError(`${name} is ${vm.state}`);
      return mutate('detachVolume', `${name} ${id}`, () => ((vm.volumes = vm.volumes.filter((a) => a.volumeId !== id)), info(vm)));
    },
    async list() {
      return { vms: [...vms.values()].map(info), volumes: [...volumes.values()].map(volumeInfo) };
    },
  };
  // The fake's rules are checked twice: by the fake itself (above) and by the contract wrapper every adapter has.
  const wrapped = defineProvider(primitives);
  const extras = {
    calls,
    get maxAttachments() {
      return maxAttachments;
    },
    crashAt(n: number, when: 'before' | 'after') {
      crash = { n: counter + n, when };
    },
    crashInsideCreate() {
      crashInCreate = true;
    },
    volumeBytes: (id: string) => mustVolume(id).bytes,
    spec: (name: string) => {
      const vm = vms.get(name);
      return vm ? { ignition: vm.ignition, ...(vm.firstBootIgnition ? { firstBootIgnition: vm.firstBootIgnition } : {}), ...(vm.memoryMiB ? { memoryMiB: vm.memoryMiB } : {}) } : undefined;
    },
    addresses: () => [...addresses.values()].map(addressInfo),
  };
  // defineProperties, not Object.assign: maxAttachments must stay a live getter.
  return Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(extras)) as FakeProvider;
}
