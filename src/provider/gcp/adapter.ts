// The Google Compute Engine adapter (@google-cloud/compute, imported only when this provider is used). Data volumes
// are persistent disks labelled as cnvm's, attached READ_WRITE under an explicit deviceName (the guest sees
// /dev/disk/by-id/google-<deviceName>) with autoDelete off; boot disks auto-delete. Ignition goes in the
// `user-data` metadata key. By default each cnvm VM has a static regional external address that every generation
// gets in turn, and its own firewall rule. Calls, retries and operations: api.ts; requests: requests.ts.
import { defineProvider } from '../contract.js';
import { gceApi, type ApiOptions } from './api.js';
import { gcpLeases } from './lease.js';
import { gcpNetwork } from './network.js';
import { GCE_NAME, gcpRequests, MANAGED_LABEL, regionOf, type GcpPlacement } from './requests.js';
import { InUseError, NotFoundError, ProviderError } from '../errors.js';
import { fitIgnition } from '../ignition-size.js';
import type { ProviderPrimitives } from '../primitives.js';
import type { AccessRule, ListResult, PlannedAction, Provider, VmInfo, VmState, Volume } from '../types.js';

export { firewallName, gcpRequests, vmTag } from './requests.js';

/** GCE's limit for one metadata value. */
export const GCE_METADATA_LIMIT = 256 * 1024;

export interface GcpOptions extends GcpPlacement, Omit<ApiOptions, 'project' | 'zone'> {
  /** The CIDRs allowed to reach 443 and 22 (repeatable --allow-from); none: this machine's public address. */
  firewallSourceRanges?: string[];
  /** The echo service operatorCidr asks (default: CNVM_PUBLIC_IP_URL or checkip.amazonaws.com). */
  publicIpUrl?: string;
}

type Json = Record<string, unknown>;
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

const metadataItems = (inst: Json): { key: string; value: string }[] => ((inst.metadata as Json | undefined)?.items ?? []) as { key: string; value: string }[];

const vmOf = (inst: Json): VmInfo => {
  const disks = (Array.isArray(inst.disks) ? inst.disks : []) as Json[];
  const meta = metadataItems(inst);
  const nics = (Array.isArray(inst.networkInterfaces) ? inst.networkInterfaces : []) as Json[];
  const labels = (inst.labels ?? {}) as Record<string, string>;
  const owner = labels['cnvm-owner'];
  const generation = Number(labels['cnvm-generation']);
  const record = meta.find((m) => m.key === 'cnvm-record')?.value;
  const running = vmState(inst.status) === 'running';
  // The external IP first (what PMM's clients use); a static one is reported even while the VM is stopped.
  const external = nics.flatMap((n) => ((n.accessConfigs as Json[] | undefined) ?? []).map((a) => a.natIP).filter((x): x is string => typeof x === 'string' && x !== ''));
  const internal = running ? nics.map((n) => n.networkIP).filter((x): x is string => typeof x === 'string' && x !== '') : [];
  return {
    name: String(inst.name),
    id: String(inst.id ?? inst.name),
    state: vmState(inst.status),
    image: meta.find((m) => m.key === 'cnvm-image')?.value ?? '',
    volumes: disks.filter((d) => !d.boot).map((d) => ({ volumeId: lastSegment(d.source), deviceName: String(d.deviceName ?? '') })),
    addresses: [...external, ...internal],
    ...(owner && Number.isInteger(generation) ? { owner: { name: owner, generation } } : {}),
    ...(record ? { record } : {}),
  };
};

export function createGcpProvider(options: GcpOptions): Provider {
  const req = gcpRequests(options);
  const api = gceApi(options);
  const region = regionOf(options.zone);
  const net = gcpNetwork(api, req, { ...options, region, ...(options.firewallSourceRanges ? { allowFrom: options.firewallSourceRanges } : {}) });
  const staticAddress = options.address !== 'ephemeral';
  const where = `${options.project}/${options.zone}`;

  const getDisk = (name: string): Promise<Json | undefined> => api.get<Json>(`disks.get ${name}`, (c) => c.disks.get!(req.disk(name)));
  const getInstance = (name: string): Promise<Json | undefined> => api.get<Json>(`instances.get ${name}`, (c) => c.instances.get!(req.instance(name)));

  async function mustInstance(name: string): Promise<Json> {
    const inst = await getInstance(name);
    if (!inst) throw new NotFoundError(`no instance ${name} in ${where}`);
    return inst;
  }
  const mustVm = async (name: string): Promise<VmInfo> => vmOf(await mustInstance(name));

  const planned = (action: string, detail: Json, effect: string): PlannedAction[] => [{ action, detail, effect }];
  const sourcesShown = options.firewallSourceRanges?.length ? options.firewallSourceRanges : ["<this machine's public IPv4>/32"];

  const primitives: ProviderPrimitives = {
    addressing: staticAddress
      ? { kind: 'reserved', describe: 'static external address, moved to the new instance (deleteAccessConfig/addAccessConfig) inside the downtime window' }
      : { kind: 'implicit', describe: 'ephemeral external IP (changes on every stop, upgrade and rollback)' },
    name: 'gcp',
    leases: gcpLeases(api, options.project, options.zone),
    plan: {
      createVolume: (spec) => planned('compute.disks.insert', req.diskInsert(spec), `new ${spec.sizeGiB} GiB persistent disk ${spec.name}, labelled ${MANAGED_LABEL}`),
      deleteVolume: (id) => planned('compute.disks.delete', req.disk(id), `delete disk ${id} and everything on it`),
      createVm: (spec) => {
        const vm = spec.owner?.name ?? spec.name;
        return [
          ...planned('compute.firewalls.insert', req.firewallInsert(vm, sourcesShown), `let ${sourcesShown.join(', ')} reach tcp:443 and tcp:22 on ${vm} (if the rule is missing)`),
          ...planned('compute.firewalls.patch', req.firewallPatch(vm, sourcesShown), `set the rule's sources to ${sourcesShown.join(', ')} (if it exists with others)`),
          ...planned('compute.instances.insert', req.instanceInsert(spec, '<ignition>', spec.dataVolumeId ? { name: spec.dataVolumeId, deviceName: '<deviceName>' } : undefined), `instance ${spec.name}${staticAddress ? ' with no external IP until its static address is assigned' : ''}`),
          ...planned('compute.instances.stop', req.instance(spec.name), 'stop it again until it is wanted (GCE starts new instances)'),
        ];
      },
      startVm: (name) => planned('compute.instances.start', req.instance(name), `start ${name}`),
      stopVm: (name) => planned('compute.instances.stop', req.instance(name), `stop ${name}`),
      destroyVm: (name) => [
        ...planned('compute.instances.delete', req.instance(name), `delete ${name} and its boot disk (data disks have autoDelete off)`),
        // The rule is named after the cnvm VM (the instance's owner label), known only when applying.
        ...planned('compute.firewalls.delete', { project: options.project, firewall: `<rule of ${name}'s cnvm VM>` }, "delete the cnvm VM's firewall rule when no instance of it is left"),
      ],
      attachVolume: (vm, id) => planned('compute.instances.attachDisk', req.attachDisk(vm, id, '<deviceName>'), `attach ${id} READ_WRITE to stopped ${vm}`),
      detachVolume: (vm, id) => planned('compute.instances.detachDisk', req.detachDisk(vm, '<deviceName>'), `detach ${id} from stopped ${vm}`),
      ...(staticAddress
        ? {
            reserveAddress: (name: string) => planned('compute.addresses.insert', req.addressInsert(name, '<vm>'), `reserve static external address ${name} in ${region} (kept across upgrades)`),
            assignAddress: (id: string, vm: string) => [
              ...planned('compute.instances.deleteAccessConfig', req.deleteAccessConfig('<holder>', 'External NAT'), `take ${id} off the instance holding it, if any`),
              ...planned('compute.instances.addAccessConfig', req.addAccessConfig(vm, `<address of ${id}>`), `give ${vm} the address ${id}`),
            ],
            releaseAddress: (id: string) => planned('compute.addresses.delete', req.address(id), `release static address ${id} (the IP is gone for good)`),
          }
        : {}),
    },

    async findVolume(name) {
      const disk = await getDisk(name);
      return disk ? volumeOf(disk) : undefined;
    },

    async createVolume(spec) {
      if (!GCE_NAME.test(spec.deviceName)) throw new ProviderError('invalid', `GCE deviceName ${JSON.stringify(spec.deviceName)} is not valid`);
      await api.mutate(`disks.insert ${spec.name}`, (c, r) => c.disks.insert!(r), req.diskInsert(spec));
      const disk = await getDisk(spec.name);
      if (!disk) throw new ProviderError('failed', `disks.insert ${spec.name}: done, but the disk is not there`);
      return volumeOf(disk);
    },

    async deleteVolume(id) {
      const disk = await getDisk(id);
      if (!disk) return;
      const v = volumeOf(disk);
      if (v.attachedTo) throw new InUseError(`disk ${id} is attached to ${v.attachedTo}; detach it first`);
      await api.mutate(`disks.delete ${id}`, (c, r) => c.disks.delete!(r), req.disk(id));
    },

    async holderOf(id) {
      const disk = await getDisk(id);
      return disk ? volumeOf(disk).attachedTo : undefined;
    },

    async findVm(name) {
      const inst = await getInstance(name);
      return inst ? vmOf(inst) : undefined;
    },

    async consoleOutput(name) {
      const out = await api.get<{ contents?: string }>(`instances.getSerialPortOutput ${name}`, (c) => c.instances.getSerialPortOutput!(req.instance(name)));
      return out?.contents ?? undefined;
    },

    async preflight(spec) {
      if (!GCE_NAME.test(spec.name)) throw new ProviderError('invalid', `${JSON.stringify(spec.name)} is not a valid GCE instance name (lowercase letters, digits, dashes; ≤ 63; starts with a letter)`);
      fitIgnition(spec.ignition, GCE_METADATA_LIMIT, 'a GCE metadata value');
      // Read-only, before any side effect: the subnetwork exists in the region, and who the firewall rule admits.
      await net.networkUrl();
      await net.sourceRanges();
    },

    async createVm(spec) {
      let dataDisk: { name: string; deviceName: string } | undefined;
      if (spec.dataVolumeId) {
        const disk = await getDisk(spec.dataVolumeId);
        if (!disk) throw new NotFoundError(`disk ${spec.dataVolumeId} does not exist in ${options.zone}`);
        // The wrapper made sure no instance holds it (an insert naming a disk in use would fail).
        const v = volumeOf(disk);
        dataDisk = { name: v.name, deviceName: v.deviceName };
      }
      const { text } = fitIgnition(spec.ignition, GCE_METADATA_LIMIT, 'a GCE metadata value');
      const vm = spec.owner?.name ?? spec.name;
      await net.ensureFirewall(vm, await net.sourceRanges());
      await api.mutate(`instances.insert ${spec.name}`, (c, r) => c.instances.insert!(r), req.instanceInsert(spec, text, dataDisk));
      // GCE starts what it creates; the contract is "created, not started", so the lifecycle decides when it runs.
      await api.mutate(`instances.stop ${spec.name}`, (c, r) => c.instances.stop!(r), req.instance(spec.name));
      return mustVm(spec.name);
    },

    async replaceIgnition(vmName, ignition) {
      const { text } = fitIgnition(ignition, GCE_METADATA_LIMIT, 'a GCE metadata value');
      // setMetadata replaces every item and needs the fingerprint last read: a concurrent change makes it fail
      // (412 conditionNotMet) instead of being lost, and a retry reads again.
      for (let attempt = 0; ; attempt++) {
        const inst = await mustInstance(vmName);
        const fingerprint = String((inst.metadata as Json | undefined)?.fingerprint ?? '');
        const items = metadataItems(inst).map((i) => (i.key === 'user-data' ? { key: i.key, value: text } : i));
        try {
          await api.mutate(`instances.setMetadata ${vmName}`, (c, r) => c.instances.setMetadata!(r), req.setMetadata(vmName, fingerprint, items));
          return 'replaced';
        } catch (err) {
          if (attempt < 2 && /fingerprint|conditionNotMet|412/i.test((err as Error).message)) continue;
          throw err;
        }
      }
    },

    async startVm(name) {
      await mustInstance(name);
      await api.mutate(`instances.start ${name}`, (c, r) => c.instances.start!(r), req.instance(name));
      return mustVm(name);
    },

    async stopVm(name) {
      await mustInstance(name);
      await api.mutate(`instances.stop ${name}`, (c, r) => c.instances.stop!(r), req.instance(name));
      return mustVm(name);
    },

    async destroyVm(name) {
      const inst = await getInstance(name);
      if (!inst) return;
      // Safety net: whatever the attachment says, a data disk must survive the instance.
      for (const d of ((inst.disks as Json[] | undefined) ?? []).filter((x) => !x.boot && x.autoDelete)) {
        await api.mutate(`instances.setDiskAutoDelete ${name}`, (c, r) => c.instances.setDiskAutoDelete!(r), req.setDiskAutoDelete(name, String(d.deviceName)));
      }
      await api.mutate(`instances.delete ${name}`, (c, r) => c.instances.delete!(r), req.instance(name));
      const labels = (inst.labels ?? {}) as Record<string, string>;
      await net.dropFirewallIfUnused(labels['cnvm-owner'] ?? name);
    },

    async attachVolume(vmName, id) {
      await mustInstance(vmName);
      const disk = await getDisk(id);
      if (!disk) throw new NotFoundError(`disk ${id} does not exist in ${options.zone}`);
      const v = volumeOf(disk);
      await api.mutate(`instances.attachDisk ${vmName}`, (c, r) => c.instances.attachDisk!(r), req.attachDisk(vmName, id, v.deviceName));
      return mustVm(vmName);
    },

    async detachVolume(vmName, id) {
      const vm = await mustVm(vmName);
      const attached = vm.volumes.find((v) => v.volumeId === id);
      // The wrapper calls this only for an attached volume; one detached meanwhile leaves nothing to do.
      if (!attached) return vm;
      await api.mutate(`instances.detachDisk ${vmName}`, (c, r) => c.instances.detachDisk!(r), req.detachDisk(vmName, attached.deviceName));
      return mustVm(vmName);
    },

    access: { rules: (owner: string) => net.accessRules(owner), restore: (owner: string, rules: AccessRule[]) => net.restoreAccess(owner, rules) },

    async list(): Promise<ListResult> {
      const filter = `labels.${MANAGED_LABEL} = "true"`;
      const instances = await api.call<Json[]>('instances.list', (c) => c.instances.list!(req.list(filter)));
      const disks = await api.call<Json[]>('disks.list', (c) => c.disks.list!(req.list(filter)));
      return { vms: (instances ?? []).map(vmOf), volumes: (disks ?? []).map(volumeOf) };
    },

    ...(staticAddress
      ? {
          address: {
            async find(nameOrId: string) {
              // GCE's id for an address is its name.
              const address = await net.getAddress(nameOrId);
              return address ? net.addressOf(address) : undefined;
            },
            async reserve(name: string, owner: string) {
              await api.mutate(`addresses.insert ${name}`, (c, r) => c.addresses.insert!(r), req.addressInsert(name, owner), 'region');
              const address = await net.getAddress(name);
              if (!address) throw new ProviderError('failed', `addresses.insert ${name}: done, but the address is not there`);
              return net.addressOf(address);
            },
            async assign(addressId: string, vmName: string) {
              const address = await net.getAddress(addressId);
              if (!address) throw new NotFoundError(`no static address ${addressId} in ${options.project}/${region}`);
              await mustInstance(vmName);
              await net.moveAddress(address, vmName);
              return net.addressOf((await net.getAddress(addressId)) ?? address);
            },
            async release(addressId: string) {
              if (!(await net.getAddress(addressId))) return;
              await api.mutate(`addresses.delete ${addressId}`, (c, r) => c.addresses.delete!(r), req.address(addressId), 'region');
            },
          },
        }
      : {}),
  };
  return defineProvider(primitives);
}
