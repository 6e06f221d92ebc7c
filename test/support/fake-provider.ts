// A stateful in-memory provider for lifecycle tests and the downtime benchmark. It enforces the rules the real
// adapters do (one attachment per volume, attach/detach only while stopped, state transitions) and can inject a
// latency per operation and a crash at any call, before or after the operation takes effect.
import { InUseError, NotFoundError, WrongStateError } from '../../src/provider/errors.js';
import { defineProvider } from '../../src/provider/contract.js';
import type { PlannedAction, Provider, VmInfo, VmOwner, VmSpec, Volume, VolumeSpec } from '../../src/provider/types.js';

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
  memoryMiB?: number;
}

interface FakeVolume {
  id: string;
  name: string;
  sizeGiB: number;
  deviceName: string;
  bytes: Buffer;
}

export type Operation = 'createVolume' | 'deleteVolume' | 'createVm' | 'startVm' | 'stopVm' | 'destroyVm' | 'attachVolume' | 'detachVolume';

export interface FakeOptions {
  /** Milliseconds each operation takes. */
  latencyMs?: Partial<Record<Operation, number>>;
}

export interface FakeProvider extends Provider {
  /** Crash on the n-th (1-based) mutating call from now, before or after it takes effect. */
  crashAt(n: number, when: 'before' | 'after'): void;
  /** Every mutating call made, in order (for asserting what an upgrade did). */
  readonly calls: string[];
  /** The largest number of VMs that ever had one volume attached at the same time. */
  readonly maxAttachments: number;
  volumeBytes(id: string): Buffer;
  /** What createVm was given for a VM (its Ignition config and memory), for assertions. */
  spec(name: string): { ignition: string; memoryMiB?: number } | undefined;
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

  const holderOf = (id: string): string | undefined => [...vms.values()].find((vm) => vm.volumes.some((a) => a.volumeId === id))?.name;
  const info = (vm: FakeVm): VmInfo => ({
    name: vm.name,
    id: vm.name,
    state: vm.state,
    image: vm.image,
    volumes: vm.volumes.map((v) => ({ ...v })),
    addresses: vm.state === 'running' ? ['192.0.2.10'] : [],
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

  const primitives: Provider = {
    name: 'libvirt',
    addressing: { kind: 'implicit', describe: 'fake: addresses never change' },
    dataDisk: (volume) => ({ provider: 'libvirt', serial: volume.deviceName }),
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
      return mutate('startVm', name, () => ((vm.state = 'running'), info(vm)));
    },
    async stopVm(name) {
      const vm = mustVm(name);
      if (vm.state === 'stopped') return info(vm);
      return mutate('stopVm', name, () => ((vm.state = 'stopped'), info(vm)));
    },
    async destroyVm(name) {
      if (!vms.has(name)) return;
      await mutate('destroyVm', name, () => vms.delete(name));
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
      return vm ? { ignition: vm.ignition, ...(vm.memoryMiB ? { memoryMiB: vm.memoryMiB } : {}) } : undefined;
    },
  };
  // defineProperties, not Object.assign: maxAttachments must stay a live getter.
  return Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(extras)) as FakeProvider;
}
