// The DigitalOcean adapter: droplets boot the Ignition config from user data; the data volume is a block-storage
// volume tagged as cnvm's, attached by DigitalOcean under /dev/disk/by-id/scsi-0DO_Volume_<name> (cnvm's id for a
// volume is its name, unique per region, so the guest's mount unit is known before the volume exists); the
// stable address is a reserved IP; each cnvm VM has its own cloud firewall for 443 and 22. DigitalOcean starts
// what it creates: the contract's wrapper stops it again. Calls, retries, actions: api.ts; bodies: requests.ts.
import { defineProvider } from '../contract.js';
import { doApi, type DoAction, type DoApiOptions } from './api.js';
import { DO_VOLUME_NAME } from './disk.js';
import { doNetwork } from './network.js';
import { doRequests, MANAGED_TAG, ownerTag, recordFromTags, tagValue, type DoPlacement } from './requests.js';
import { InUseError, NotFoundError, ProviderError } from '../errors.js';
import { fitIgnition } from '../ignition-size.js';
import type { ProviderPrimitives } from '../primitives.js';
import type { ListResult, PlannedAction, Provider, VmInfo, VmState, Volume } from '../types.js';

/** DigitalOcean's limit for a droplet's user data. */
export const DO_USER_DATA_LIMIT = 64 * 1024;
/** Droplet names: letters, digits, dots and dashes (a hostname). */
const DROPLET_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,253}[a-zA-Z0-9])?$/;

export interface DoOptions extends DoPlacement, DoApiOptions {
  /** The CIDRs allowed to reach 443 and 22 (repeatable --allow-from); none: this machine's public address. */
  allowFrom?: string[];
  publicIpUrl?: string;
  /** `stable` (default): a reserved IP kept across upgrades; `ephemeral`: the droplet's own public IP. */
  address?: 'stable' | 'ephemeral';
}

interface DoDroplet {
  id: number;
  name: string;
  status: string;
  locked?: boolean;
  tags?: string[];
  volume_ids?: string[];
  region?: { slug?: string };
  image?: { id?: number; slug?: string | null };
  networks?: { v4?: { ip_address: string; type: string }[] };
}

interface DoVolume {
  id: string;
  name: string;
  size_gigabytes: number;
  droplet_ids?: number[] | null;
  tags?: string[];
  region?: { slug?: string };
}

function vmState(status: string): VmState {
  if (status === 'new') return 'pending';
  if (status === 'active') return 'running';
  if (status === 'off') return 'stopped';
  return 'unknown';
}

export function createDigitalOceanProvider(options: DoOptions): Provider {
  const api = doApi(options);
  const req = doRequests(options);
  const net = doNetwork(api, req, { region: options.region, ...(options.allowFrom ? { allowFrom: options.allowFrom } : {}), ...(options.publicIpUrl ? { publicIpUrl: options.publicIpUrl } : {}) });
  const stable = options.address !== 'ephemeral';
  const region = options.region;
  const enc = api.enc;

  const volumeOf = (v: DoVolume, holder?: string): Volume => ({
    id: v.name,
    name: v.name,
    sizeGiB: v.size_gigabytes,
    deviceName: tagValue(v.tags, 'cnvm-device') ?? v.name,
    ...(holder ? { attachedTo: holder } : {}),
  });

  async function getVolume(name: string): Promise<DoVolume | undefined> {
    const found = await api.list<DoVolume>(`volumes.list ${name}`, `/v2/volumes?name=${enc(name)}&region=${enc(region)}`, 'volumes');
    return found.find((v) => v.name === name);
  }

  async function getDroplet(name: string): Promise<DoDroplet | undefined> {
    const found = await api.list<DoDroplet>(`droplets.list ${name}`, `/v2/droplets?name=${enc(name)}`, 'droplets');
    return found.find((d) => d.name === name && (d.region?.slug ?? region) === region);
  }

  async function mustDroplet(name: string): Promise<DoDroplet> {
    const d = await getDroplet(name);
    if (!d) throw new NotFoundError(`no droplet ${name} in ${region}`);
    return d;
  }

  async function vmOf(d: DoDroplet, volumes?: Map<string, DoVolume>, ips?: Map<number, string>): Promise<VmInfo> {
    const attached: { volumeId: string; deviceName: string }[] = [];
    for (const uuid of d.volume_ids ?? []) {
      const v = volumes?.get(uuid) ?? (await api.get<{ volume: DoVolume }>(`volumes.get ${uuid}`, `/v2/volumes/${enc(uuid)}`))?.volume;
      if (v) attached.push({ volumeId: v.name, deviceName: tagValue(v.tags, 'cnvm-device') ?? v.name });
    }
    const reserved = stable ? (ips ?? (await net.ipsByDroplet())).get(d.id) : undefined;
    const v4 = d.networks?.v4 ?? [];
    const running = vmState(d.status) === 'running';
    const owner = tagValue(d.tags, 'cnvm-vm');
    const generation = Number(tagValue(d.tags, 'cnvm-gen'));
    const record = recordFromTags(d.tags);
    return {
      name: d.name,
      id: String(d.id),
      state: vmState(d.status),
      image: tagValue(d.tags, 'cnvm-image') ?? String(d.image?.id ?? ''),
      volumes: attached,
      // The reserved IP first (what PMM's clients use); it is the droplet's while off, too.
      addresses: [...(reserved ? [reserved] : []), ...v4.filter((n) => n.type === 'public' && n.ip_address !== reserved).map((n) => n.ip_address), ...(running ? v4.filter((n) => n.type === 'private').map((n) => n.ip_address) : [])],
      ...(owner && Number.isInteger(generation) && tagValue(d.tags, 'cnvm-gen') !== undefined ? { owner: { name: owner, generation } } : {}),
      ...(record ? { record } : {}),
    };
  }

  const mustVm = async (name: string): Promise<VmInfo> => vmOf(await mustDroplet(name));

  /** The droplet once no action runs on it (undefined if it is gone). */
  async function unlocked(name: string): Promise<DoDroplet | undefined> {
    let d: DoDroplet | undefined;
    await api.until(`droplets.get ${name}`, async () => {
      d = await getDroplet(name);
      return !d?.locked;
    });
    return d;
  }

  /** Runs a droplet action and waits for it; `reached` says (after a lost reply) whether it already happened. */
  async function dropletAction(name: string, type: 'power_on' | 'shutdown' | 'power_off', reached: (d: DoDroplet) => boolean): Promise<void> {
    const what = `droplets.${type} ${name}`;
    // DigitalOcean refuses an action while another runs (a create left by a killed run, say): wait for it first.
    let d = await mustDroplet(name);
    await api.until(what, async () => {
      d = await mustDroplet(name);
      return d.status !== 'new' && !d.locked;
    });
    if (reached(d)) return;
    // After a lost reply the action may be running: wait for the droplet's lock to go before judging whether it
    // landed (sending it again meanwhile would be refused as a pending event).
    const recover = async (): Promise<{ action: DoAction } | undefined> => {
      const now = await unlocked(name);
      return now && reached(now) ? { action: { id: 0, status: 'completed', type } } : undefined;
    };
    const r = await api.request<{ action: DoAction }>(what, 'POST', `/v2/droplets/${d.id}/actions`, req.dropletAction(type), recover);
    await api.waitAction(what, r.action);
  }

  async function volumeAction(vmName: string, volumeName: string, type: 'attach' | 'detach'): Promise<void> {
    const d = await mustDroplet(vmName);
    const v = await getVolume(volumeName);
    if (!v) throw new NotFoundError(`volume ${volumeName} does not exist in ${region}`);
    const what = `volumes.${type} ${volumeName} ${type === 'attach' ? 'to' : 'from'} ${vmName}`;
    const recover = async (): Promise<{ action: DoAction } | undefined> => {
      // A volume action locks the droplet while it runs.
      await unlocked(vmName);
      const now = await getVolume(volumeName);
      const on = (now?.droplet_ids ?? []).includes(d.id);
      return (type === 'attach') === on ? { action: { id: 0, status: 'completed', type } } : undefined;
    };
    const r = await api.request<{ action: DoAction }>(what, 'POST', `/v2/volumes/${enc(v.id)}/actions`, req.volumeAction(type, d.id), recover);
    await api.waitAction(what, r.action);
  }

  async function dropletName(id: number): Promise<string | undefined> {
    return (await api.get<{ droplet: DoDroplet }>(`droplets.get ${id}`, `/v2/droplets/${id}`))?.droplet.name;
  }

  const planned = (action: string, detail: Record<string, unknown>, effect: string): PlannedAction[] => [{ action, detail, effect }];
  const sourcesShown = options.allowFrom?.length ? options.allowFrom : ["<this machine's public IPv4>/32"];

  const primitives: ProviderPrimitives = {
    name: 'digitalocean',
    addressing: stable
      ? { kind: 'reserved', describe: 'reserved IP, moved to the new droplet (unassign/assign) inside the downtime window' }
      : { kind: 'implicit', describe: "the droplet's own public IP (a new one on every upgrade and rollback)" },
    plan: {
      createVolume: (spec) => planned('POST /v2/volumes', req.volumeCreate(spec), `new ${spec.sizeGiB} GiB volume ${spec.name} in ${region}, unformatted, tagged ${MANAGED_TAG}`),
      deleteVolume: (id) => planned('DELETE /v2/volumes/{id}', { name: id, region }, `delete volume ${id} and everything on it`),
      createVm: (spec) => {
        const vm = spec.owner?.name ?? spec.name;
        return [
          ...planned('POST /v2/firewalls', req.firewall(vm, sourcesShown), `let ${sourcesShown.join(', ')} reach tcp:443 and tcp:22 on ${vm}'s droplets (if the firewall is missing; PUT if its sources differ)`),
          ...planned('POST /v2/droplets', req.dropletCreate(spec, '<ignition>', spec.dataVolumeId ? `<id of ${spec.dataVolumeId}>` : undefined), `droplet ${spec.name} (${options.size ?? 's-2vcpu-4gb'}) in ${region}${spec.dataVolumeId ? ` with ${spec.dataVolumeId} attached` : ''}`),
          ...planned('POST /v2/droplets/{id}/actions', req.dropletAction('shutdown'), 'shut it down again until it is wanted (DigitalOcean starts new droplets)'),
        ];
      },
      startVm: (name) => planned('POST /v2/droplets/{id}/actions', req.dropletAction('power_on'), `power on ${name}`),
      stopVm: (name) => planned('POST /v2/droplets/{id}/actions', req.dropletAction('shutdown'), `shut ${name} down (power_off if the guest does not)`),
      destroyVm: (name) => [
        ...planned('DELETE /v2/droplets/{id}', { name }, `delete droplet ${name} and its boot disk (volumes are detached, kept)`),
        ...planned('DELETE /v2/firewalls/{id}', { name: `<firewall of ${name}'s cnvm VM>` }, "delete the cnvm VM's firewall when no droplet of it is left"),
      ],
      attachVolume: (vm, id) => planned('POST /v2/volumes/{id}/actions', { type: 'attach', volume: id, droplet: vm, region }, `attach ${id} to stopped ${vm}`),
      detachVolume: (vm, id) => planned('POST /v2/volumes/{id}/actions', { type: 'detach', volume: id, droplet: vm, region }, `detach ${id} from stopped ${vm}`),
      ...(stable
        ? {
            reserveAddress: (name: string) => [
              ...planned('POST /v2/reserved_ips', req.reservedIpCreate(), `reserve an IP in ${region} (kept across upgrades)`),
              ...planned('POST /v2/tags', { name: `cnvm-addr:${name}:<ip>` }, `name it ${name}`),
            ],
            assignAddress: (id: string, vm: string) => [
              ...planned('POST /v2/reserved_ips/{ip}/actions', req.reservedIpUnassign(), `take ${id} off the droplet holding it, if any`),
              ...planned('POST /v2/reserved_ips/{ip}/actions', req.reservedIpAssign(0), `give ${vm} the address ${id}`),
            ],
            releaseAddress: (id: string) => planned('DELETE /v2/reserved_ips/{ip}', { ip: id }, `release reserved IP ${id} (the IP is gone for good)`),
          }
        : {}),
    },

    async findVolume(name) {
      const v = await getVolume(name);
      if (!v) return undefined;
      const holderId = (v.droplet_ids ?? [])[0];
      return volumeOf(v, holderId === undefined ? undefined : await dropletName(holderId));
    },

    async holderOf(volumeId) {
      const holderId = ((await getVolume(volumeId))?.droplet_ids ?? [])[0];
      return holderId === undefined ? undefined : dropletName(holderId);
    },

    async createVolume(spec) {
      if (!DO_VOLUME_NAME.test(spec.name)) throw new ProviderError('invalid', `volume name ${JSON.stringify(spec.name)} is not one DigitalOcean takes (lowercase letters, digits, dashes; starts with a letter; ≤ 64)`);
      const recover = async (): Promise<{ volume: DoVolume } | undefined> => {
        const found = await getVolume(spec.name);
        return found ? { volume: found } : undefined;
      };
      const r = await api.request<{ volume: DoVolume }>(`volumes.create ${spec.name}`, 'POST', '/v2/volumes', req.volumeCreate(spec), recover);
      return volumeOf(r.volume);
    },

    async deleteVolume(id) {
      const v = await getVolume(id);
      if (!v) return;
      const holder = (v.droplet_ids ?? [])[0];
      if (holder !== undefined) throw new InUseError(`volume ${id} is attached to ${(await dropletName(holder)) ?? `droplet ${holder}`}; detach it first`);
      await api.del(`volumes.delete ${id}`, `/v2/volumes/${enc(v.id)}`);
    },

    async findVm(name) {
      const d = await getDroplet(name);
      return d ? vmOf(d) : undefined;
    },

    async preflight(spec) {
      if (!DROPLET_NAME.test(spec.name)) throw new ProviderError('invalid', `${JSON.stringify(spec.name)} is not a valid droplet name (letters, digits, dots, dashes)`);
      fitIgnition(spec.ignition, DO_USER_DATA_LIMIT, "a droplet's user data");
      if (/^\d+$/.test(spec.image.id) && !(await api.get(`images.get ${spec.image.id}`, `/v2/images/${spec.image.id}`))) {
        throw new ProviderError('invalid', `--image ${spec.image.id}: no such image on this account (import Fedora CoreOS's DigitalOcean image, or leave --image out)`);
      }
      if (options.vpcUuid && !(await api.get(`vpcs.get ${options.vpcUuid}`, `/v2/vpcs/${enc(options.vpcUuid)}`))) throw new ProviderError('invalid', `--vpc ${options.vpcUuid}: no such VPC`);
      await net.sources();
    },

    async createVm(spec) {
      let volumeUuid: string | undefined;
      if (spec.dataVolumeId) {
        const v = await getVolume(spec.dataVolumeId);
        if (!v) throw new NotFoundError(`volume ${spec.dataVolumeId} does not exist in ${region}`);
        volumeUuid = v.id;
      }
      await net.ensureFirewall(spec.owner?.name ?? spec.name, await net.sources());
      const userData = fitIgnition(spec.ignition, DO_USER_DATA_LIMIT, "a droplet's user data").text;
      const recover = async (): Promise<{ droplet: DoDroplet } | undefined> => {
        const found = await getDroplet(spec.name);
        return found ? { droplet: found } : undefined;
      };
      const r = await api.request<{ droplet: DoDroplet; links?: { actions?: DoAction[] } }>(`droplets.create ${spec.name}`, 'POST', '/v2/droplets', req.dropletCreate(spec, userData, volumeUuid), recover);
      for (const a of r.links?.actions ?? []) await api.waitAction(`droplets.create ${spec.name}`, { ...a, status: a.status ?? 'in-progress' });
      // Found after a lost reply (no action to follow), or created by a run that was killed: `new` until it is up,
      // and DigitalOcean refuses any other action on it until then.
      await api.until(`droplets.create ${spec.name}`, async () => (await mustDroplet(spec.name)).status !== 'new');
      return mustVm(spec.name);
    },

    async startVm(name) {
      await dropletAction(name, 'power_on', (d) => d.status === 'active');
      return mustVm(name);
    },

    async stopVm(name) {
      try {
        await dropletAction(name, 'shutdown', (d) => d.status === 'off');
      } catch (err) {
        // A guest that does not act on the ACPI shutdown: the action errors, and power_off cuts it.
        if (!(err instanceof ProviderError) || err.code !== 'failed' || !/errored/.test(err.message)) throw err;
        await dropletAction(name, 'power_off', (d) => d.status === 'off');
      }
      return mustVm(name);
    },

    async destroyVm(name) {
      const d = await getDroplet(name);
      if (!d) return;
      await api.del(`droplets.delete ${name}`, `/v2/droplets/${d.id}`);
      const owner = tagValue(d.tags, 'cnvm-vm') ?? name;
      await net.dropFirewallIfUnused(owner);
    },

    async attachVolume(vmName, id) {
      await volumeAction(vmName, id, 'attach');
      return mustVm(vmName);
    },

    async detachVolume(vmName, id) {
      await volumeAction(vmName, id, 'detach');
      return mustVm(vmName);
    },

    async list(): Promise<ListResult> {
      const droplets = await api.list<DoDroplet>('droplets.list', `/v2/droplets?tag_name=${MANAGED_TAG}`, 'droplets');
      const all = await api.list<DoVolume>('volumes.list', `/v2/volumes?region=${enc(region)}`, 'volumes');
      const mine = all.filter((v) => (v.tags ?? []).includes(MANAGED_TAG));
      const byUuid = new Map(all.map((v) => [v.id, v]));
      const ips = stable ? await net.ipsByDroplet() : new Map<number, string>();
      const inRegion = droplets.filter((d) => (d.region?.slug ?? region) === region);
      const names = new Map(inRegion.map((d) => [d.id, d.name]));
      const vms = await Promise.all(inRegion.map((d) => vmOf(d, byUuid, ips)));
      return { vms, volumes: mine.map((v) => volumeOf(v, names.get((v.droplet_ids ?? [])[0] ?? -1))) };
    },

    ...(stable
      ? {
          address: {
            find: (nameOrId: string) => net.findAddress(nameOrId),
            async reserve(name: string) {
              const ip = await net.reserve(name);
              return { id: ip, name, ip };
            },
            async assign(addressId: string, vmName: string) {
              const d = await mustDroplet(vmName);
              await net.assign(addressId, d.id);
              const now = await net.findAddress(addressId);
              if (!now) throw new NotFoundError(`no reserved IP ${addressId}`);
              return now;
            },
            release: (addressId: string) => net.release(addressId),
          },
        }
      : {}),
  };
  return defineProvider(primitives);
}

export { ownerTag };
