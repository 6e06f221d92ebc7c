// How a droplet is reached: its cloud firewall (one per cnvm VM, applied by the VM's tag, so each generation is
// covered and other VMs' firewalls are never touched) and its reserved IP (moved between generations with the
// unassign / assign actions, which DigitalOcean accepts on a droplet that is off). A reserved IP has no name or
// tags of its own; the free-standing tag `cnvm-addr:<name>:<ip>` says which one is cnvm's `<vm>-address`.
import type { DoAction, DoApi } from './api.js';
import { addressTag, addressTagPrefix, firewallName, ipOfAddressTag, ownerTag, type DoRequests } from './requests.js';
import { NotFoundError, ProviderError } from '../errors.js';
import { operatorCidr } from '../operator-address.js';
import type { StableAddress } from '../types.js';

type Json = Record<string, unknown>;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export interface DoReservedIp {
  ip: string;
  region?: { slug?: string };
  droplet?: { id: number; name: string } | null;
  locked?: boolean;
}

interface DoFirewall {
  id: string;
  name: string;
  inbound_rules?: { protocol: string; ports: string; sources?: { addresses?: string[] } }[];
}

export interface DoNetworkOptions {
  region: string;
  allowFrom?: string[];
  publicIpUrl?: string;
}

export function doNetwork(api: DoApi, req: DoRequests, o: DoNetworkOptions) {
  let operator: Promise<string> | undefined;
  const tagNames = async (): Promise<string[]> => (await api.list<{ name: string }>('tags.list', '/v2/tags', 'tags')).map((t) => t.name);

  async function firewallOf(vm: string): Promise<DoFirewall | undefined> {
    const all = await api.list<DoFirewall>('firewalls.list', '/v2/firewalls', 'firewalls');
    return all.find((f) => f.name === firewallName(vm));
  }

  const getIp = (ip: string): Promise<{ reserved_ip: DoReservedIp } | undefined> => api.get(`reserved_ips.get ${ip}`, `/v2/reserved_ips/${api.enc(ip)}`);

  async function ipAction(ip: string, body: Json, done: (r: DoReservedIp) => boolean): Promise<void> {
    const what = `reserved_ips.${String(body.type)} ${ip}`;
    const recover = async (): Promise<{ action: DoAction } | undefined> => {
      // The action may be running after a lost reply: judge once the IP's lock is gone.
      let now: { reserved_ip: DoReservedIp } | undefined;
      await api.until(what, async () => !(now = await getIp(ip))?.reserved_ip.locked);
      return now && done(now.reserved_ip) ? { action: { id: 0, status: 'completed', type: String(body.type) } } : undefined;
    };
    const r = await api.request<{ action: DoAction }>(what, 'POST', `/v2/reserved_ips/${api.enc(ip)}/actions`, body, recover);
    await api.waitAction(what, r.action);
  }

  return {
    /** --allow-from, or this machine's public address (asked once: preflight does, before any side effect). */
    async sources(): Promise<string[]> {
      if (o.allowFrom?.length) return o.allowFrom;
      operator ??= operatorCidr(o.publicIpUrl ? { url: o.publicIpUrl } : {});
      return [await operator];
    },

    /** Creates the VM's firewall, or replaces its inbound sources when they differ from what is wanted now. */
    async ensureFirewall(vm: string, sources: string[]): Promise<void> {
      const existing = await firewallOf(vm);
      const body = req.firewall(vm, sources);
      if (!existing) {
        const recover = async (): Promise<{ firewall: DoFirewall } | undefined> => {
          const found = await firewallOf(vm);
          return found ? { firewall: found } : undefined;
        };
        await api.request(`firewalls.create ${body.name}`, 'POST', '/v2/firewalls', body, recover);
        return;
      }
      const current = (existing.inbound_rules ?? []).flatMap((r) => r.sources?.addresses ?? []);
      const want = body.inbound_rules.flatMap((r) => r.sources.addresses);
      if ([...current].sort().join() !== [...want].sort().join()) await api.request(`firewalls.update ${body.name}`, 'PUT', `/v2/firewalls/${existing.id}`, body);
    },

    /** Deletes the VM's firewall once no droplet of it is left (destroy); an upgrade's or rollback's delete keeps it. */
    async dropFirewallIfUnused(vm: string): Promise<void> {
      const left = await api.list<Json>(`droplets.list tag ${ownerTag(vm)}`, `/v2/droplets?tag_name=${api.enc(ownerTag(vm))}`, 'droplets');
      if (left.length) return;
      const fw = await firewallOf(vm);
      if (fw) await api.del(`firewalls.delete ${fw.name}`, `/v2/firewalls/${fw.id}`);
    },

    /** A reserved IP by cnvm's name or by the IP itself (DigitalOcean's id for it). */
    async findAddress(nameOrIp: string): Promise<StableAddress | undefined> {
      const tags = (await tagNames()).filter((t) => t.startsWith('cnvm-addr:'));
      const tag = IPV4.test(nameOrIp) ? tags.find((t) => ipOfAddressTag(t) === nameOrIp) : tags.find((t) => t.startsWith(addressTagPrefix(nameOrIp)));
      const ip = tag ? ipOfAddressTag(tag) : IPV4.test(nameOrIp) ? nameOrIp : undefined;
      if (!ip) return undefined;
      const found = await getIp(ip);
      if (!found) return undefined;
      const name = tag ? tag.slice('cnvm-addr:'.length, tag.lastIndexOf(':')) : ip;
      const holder = found.reserved_ip.droplet;
      return { id: ip, name, ip, ...(holder ? { assignedTo: holder.name } : {}) };
    },

    /**
     * Reserves an IP in the region and names it with its tag. A reserved IP has no name of its own to look for
     * after a lost reply, so the IPs of the region are read first: one that appeared since, held by no droplet and
     * named by no cnvm tag, is the one this call made (reserving in the same region at the same moment from another
     * client is the case this cannot tell apart).
     */
    async reserve(name: string): Promise<string> {
      const inRegion = async (): Promise<DoReservedIp[]> => (await api.list<DoReservedIp>('reserved_ips.list', '/v2/reserved_ips', 'reserved_ips')).filter((r) => (r.region?.slug ?? o.region) === o.region);
      const before = new Set((await inRegion()).map((r) => r.ip));
      const made = async (): Promise<{ reserved_ip: DoReservedIp } | undefined> => {
        const named = new Set((await tagNames()).filter((t) => t.startsWith('cnvm-addr:')).map(ipOfAddressTag));
        const fresh = (await inRegion()).filter((r) => !before.has(r.ip) && !r.droplet && !named.has(r.ip));
        return fresh.length === 1 ? { reserved_ip: fresh[0] as DoReservedIp } : undefined;
      };
      const r = await api.request<{ reserved_ip: DoReservedIp }>(`reserved_ips.create ${name}`, 'POST', '/v2/reserved_ips', req.reservedIpCreate(), made);
      const tag = addressTag(name, r.reserved_ip.ip);
      const tagged = async (): Promise<Json | undefined> => ((await tagNames()).includes(tag) ? {} : undefined);
      await api.request(`tags.create ${tag}`, 'POST', '/v2/tags', req.tagCreate(tag), tagged);
      return r.reserved_ip.ip;
    },

    /** Takes the IP off whichever droplet holds it, then gives it to `dropletId`. */
    async assign(ip: string, dropletId: number): Promise<void> {
      const found = await getIp(ip);
      if (!found) throw new NotFoundError(`no reserved IP ${ip}`);
      const regionOfIp = found.reserved_ip.region?.slug;
      if (regionOfIp && regionOfIp !== o.region) throw new ProviderError('invalid', `reserved IP ${ip} is in ${regionOfIp}, the droplets in ${o.region}; a reserved IP moves only within its region`);
      if (found.reserved_ip.droplet && found.reserved_ip.droplet.id !== dropletId) await ipAction(ip, req.reservedIpUnassign(), (r) => !r.droplet);
      if (found.reserved_ip.droplet?.id !== dropletId) await ipAction(ip, req.reservedIpAssign(dropletId), (r) => r.droplet?.id === dropletId);
    },

    async release(ip: string): Promise<void> {
      const tags = (await tagNames()).filter((t) => t.startsWith('cnvm-addr:') && ipOfAddressTag(t) === ip);
      await api.del(`reserved_ips.delete ${ip}`, `/v2/reserved_ips/${api.enc(ip)}`);
      for (const t of tags) await api.del(`tags.delete ${t}`, `/v2/tags/${api.enc(t)}`);
    },

    /** Every reserved IP in the region by the droplet holding it (droplets do not list their reserved IP). */
    async ipsByDroplet(): Promise<Map<number, string>> {
      const all = await api.list<DoReservedIp>('reserved_ips.list', '/v2/reserved_ips', 'reserved_ips');
      return new Map(all.filter((r) => r.droplet).map((r) => [(r.droplet as { id: number }).id, r.ip]));
    },
  };
}

export type DoNetwork = ReturnType<typeof doNetwork>;
