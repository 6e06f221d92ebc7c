// How a GCE VM is reached: its firewall rule (one per cnvm VM, targeting the VM's network tag, so every generation
// is covered and rules of other VMs are never touched) and its stable address (a static regional external address
// moved between generations with deleteAccessConfig / addAccessConfig, which GCE accepts on a running or a
// TERMINATED instance).
import type { GceApi } from './api.js';
import { EXTERNAL_NAT, NIC0, type GcpRequests } from './requests.js';
import { ProviderError } from '../errors.js';
import { operatorCidr } from '../operator-address.js';
import type { AccessRule, StableAddress } from '../types.js';

type Json = Record<string, unknown>;
const lastSegment = (url: unknown): string => (typeof url === 'string' ? url.slice(url.lastIndexOf('/') + 1) : '');

export interface GcpNetworkOptions {
  /** The CIDRs allowed to reach 443 and 22; none: this machine's public address (operatorCidr). */
  allowFrom?: string[];
  /** The network the VMs are on, when a subnetwork names it implicitly (found with subnetworks.get). */
  subnetwork?: string;
  network?: string;
  publicIpUrl?: string;
}

export function gcpNetwork(api: GceApi, req: GcpRequests, o: GcpNetworkOptions & { project: string; region: string }) {
  /** The network URL of the VMs' NIC when only a subnetwork names it (a custom VPC): the subnetwork's network. */
  let subnetworkNetwork: Promise<string | undefined> | undefined;
  function networkUrl(): Promise<string | undefined> {
    subnetworkNetwork ??= (async () => {
      if (o.network || !o.subnetwork) return undefined;
      const name = lastSegment(o.subnetwork);
      const sub = await api.get<Json>(`subnetworks.get ${name}`, (c) => c.subnetworks.get!({ project: o.project, region: o.region, subnetwork: name }));
      if (!sub) throw new ProviderError('invalid', `--subnet ${o.subnetwork}: no subnetwork ${name} in ${o.project}/${o.region} (a subnetwork must be in the zone's region)`);
      return typeof sub.network === 'string' ? sub.network.replace(/^https:\/\/(www|compute)\.googleapis\.com\/compute\/v1\//, '') : undefined;
    })();
    return subnetworkNetwork;
  }
  let operator: Promise<string> | undefined;

  const sameRanges = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join() === [...b].sort().join();

  return {
    /** --allow-from, or this machine's public address (asked once: preflight does, before any side effect). */
    async sourceRanges(): Promise<string[]> {
      if (o.allowFrom?.length) return o.allowFrom;
      operator ??= operatorCidr(o.publicIpUrl ? { url: o.publicIpUrl } : {});
      return [await operator];
    },
    networkUrl,

    /** Creates the VM's rule, or patches its source ranges when they differ from what is wanted now. */
    async ensureFirewall(vm: string, ranges: string[]): Promise<void> {
      const existing = await api.get<Json>(`firewalls.get for ${vm}`, (c) => c.firewalls.get!(req.firewall(vm)));
      if (!existing) {
        const insert = req.firewallInsert(vm, ranges);
        const network = await networkUrl();
        if (network) (insert.firewallResource as Json).network = network;
        await api.mutate(`firewalls.insert for ${vm}`, (c, r) => c.firewalls.insert!(r), insert, 'global');
        return;
      }
      const current = Array.isArray(existing.sourceRanges) ? (existing.sourceRanges as string[]) : [];
      if (!sameRanges(current, ranges)) await api.mutate(`firewalls.patch for ${vm}`, (c, r) => c.firewalls.patch!(r), req.firewallPatch(vm, ranges), 'global');
    },

    /** The rule's sources × its tcp ports; undefined when the VM has no rule of cnvm's. */
    async accessRules(vm: string): Promise<AccessRule[] | undefined> {
      const rule = await api.get<Json>(`firewalls.get for ${vm}`, (c) => c.firewalls.get!(req.firewall(vm)));
      if (!rule) return undefined;
      const ranges = Array.isArray(rule.sourceRanges) ? (rule.sourceRanges as string[]) : [];
      const ports = ((rule.allowed as Json[] | undefined) ?? []).filter((a) => a.IPProtocol === 'tcp').flatMap((a) => (Array.isArray(a.ports) ? (a.ports as unknown[]).map(Number) : []));
      return ports.flatMap((port) => ranges.map((cidr) => ({ port, cidr })));
    },

    /** Puts the rule's sources back (a rollback's restore); its ports are cnvm's fixed pair, so the sources say it all. */
    async restoreAccess(vm: string, rules: AccessRule[]): Promise<void> {
      const ranges = [...new Set(rules.map((r) => r.cidr))];
      const rule = await api.get<Json>(`firewalls.get for ${vm}`, (c) => c.firewalls.get!(req.firewall(vm)));
      // No rule to restore, or nothing to restore it to (GCE refuses an ingress rule without sources).
      if (!rule || !ranges.length) return;
      const current = Array.isArray(rule.sourceRanges) ? (rule.sourceRanges as string[]) : [];
      if (!sameRanges(current, ranges)) await api.mutate(`firewalls.patch for ${vm}`, (c, r) => c.firewalls.patch!(r), req.firewallPatch(vm, ranges), 'global');
    },

    /** Deletes the VM's rule once no instance of it is left (destroy); an upgrade's or rollback's delete keeps it. */
    async dropFirewallIfUnused(vm: string): Promise<void> {
      const left = await api.call<Json[]>(`instances.list for ${vm}`, (c) => c.instances.list!(req.list(`labels.cnvm-owner = "${vm}"`)));
      if ((left ?? []).length) return;
      if (!(await api.get<Json>(`firewalls.get for ${vm}`, (c) => c.firewalls.get!(req.firewall(vm))))) return;
      await api.mutate(`firewalls.delete for ${vm}`, (c, r) => c.firewalls.delete!(r), req.firewall(vm), 'global');
    },

    addressOf(address: Json): StableAddress {
      const users = Array.isArray(address.users) ? (address.users as string[]) : [];
      return { id: String(address.name), name: String(address.name), ip: String(address.address ?? ''), ...(users[0] ? { assignedTo: lastSegment(users[0]) } : {}) };
    },

    getAddress: (name: string): Promise<Json | undefined> => api.get<Json>(`addresses.get ${name}`, (c) => c.addresses.get!(req.address(name))),

    /** Takes the address off whichever instance holds it, and any other external IP off the target, then adds it. */
    async moveAddress(address: Json, vmName: string): Promise<void> {
      const ip = String(address.address ?? '');
      for (const user of Array.isArray(address.users) ? (address.users as string[]) : []) {
        const holder = lastSegment(user);
        if (holder === vmName) continue;
        await dropAccessConfigs(holder, (natIP) => natIP === ip);
      }
      const target = await dropAccessConfigs(vmName, (natIP) => natIP !== ip);
      if (!target.hasIp) await api.mutate(`instances.addAccessConfig ${vmName}`, (c, r) => c.instances.addAccessConfig!(r), req.addAccessConfig(vmName, ip));
    },
  };

  /** Deletes the access configs of the VM's nic0 for which `drop` holds; says whether one was left in place. */
  async function dropAccessConfigs(vm: string, drop: (natIP: string | undefined) => boolean): Promise<{ hasIp: boolean }> {
    const inst = await api.get<Json>(`instances.get ${vm}`, (c) => c.instances.get!(req.instance(vm)));
    const nic = ((inst?.networkInterfaces as Json[] | undefined) ?? []).find((n) => (n.name ?? NIC0) === NIC0);
    let hasIp = false;
    for (const ac of (nic?.accessConfigs as Json[] | undefined) ?? []) {
      const natIP = typeof ac.natIP === 'string' ? ac.natIP : undefined;
      if (drop(natIP)) {
        await api.mutate(`instances.deleteAccessConfig ${vm}`, (c, r) => c.instances.deleteAccessConfig!(r), req.deleteAccessConfig(vm, String(ac.name ?? EXTERNAL_NAT)));
      } else hasIp = true;
    }
    return { hasIp };
  }
}
