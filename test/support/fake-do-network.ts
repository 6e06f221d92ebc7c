// The fake DigitalOcean API's networking and tags (fake-do.ts holds droplets and volumes): reserved IPs with their
// assign / unassign actions (same region only, one droplet at a time, locked while an action runs), cloud firewalls
// (validated as the reference says: a name, inbound sources, rule protocols and ports) and free-standing tags.
import type { FakeAction, FakeDroplet, FakeFirewall, FakeReservedIp } from './fake-do-types.js';

export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
  ) {
    super(message);
  }
}
export const unprocessable = (message: string): Refusal => new Refusal(422, 'unprocessable_entity', message);
export const notFound = (): Refusal => new Refusal(404, 'not_found', 'The resource you were accessing could not be found.');

export type Json = Record<string, unknown>;
export interface Reply {
  status: number;
  body?: unknown;
}

export const TAG_NAME = /^[a-zA-Z0-9_:-]{1,255}$/;
const FIREWALL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}$/;
const PROTOCOLS = ['tcp', 'udp', 'icmp'];
const PORTS = /^(0|all|\d{1,5}(-\d{1,5})?)$/;

export interface NetworkContext {
  region: (slug: string) => boolean;
  droplets: Map<number, FakeDroplet>;
  reservedIps: Map<string, FakeReservedIp>;
  firewalls: Map<string, FakeFirewall>;
  tags: Set<string>;
  action: (a: Omit<FakeAction, 'id' | 'status' | 'pollsLeft'>) => FakeAction;
  actionJson: (a: FakeAction) => Json;
  page: (key: string, items: unknown[]) => Json;
  dropletsWithTag: (tag: string) => FakeDroplet[];
  /** The first three octets of reserved IPs (default 192.0.2). */
  reservedPrefix: string;
}

export function networkRoutes(c: NetworkContext) {
  let ipCounter = 0;
  let fwCounter = 0;
  const ipJson = (r: FakeReservedIp): Json => {
    const d = r.dropletId === undefined ? undefined : c.droplets.get(r.dropletId);
    return { ip: r.ip, region: { slug: r.region, name: r.region }, droplet: d ? { id: d.id, name: d.name, status: d.status } : null, locked: r.locked, project_id: 'fake-project' };
  };
  const fwJson = (f: FakeFirewall): Json => ({ ...f, status: 'succeeded', created_at: '2026-01-01T00:00:00Z', pending_changes: [] });

  function checkFirewall(body: Json): void {
    if (typeof body.name !== 'string' || !FIREWALL_NAME.test(body.name)) throw unprocessable('name is invalid');
    for (const [key, side] of [['inbound_rules', 'sources'], ['outbound_rules', 'destinations']] as const) {
      const rules = body[key];
      if (rules !== undefined && !Array.isArray(rules)) throw unprocessable(`${key} must be an array`);
      for (const r of (rules ?? []) as Json[]) {
        if (!PROTOCOLS.includes(String(r.protocol))) throw unprocessable(`${key}: protocol must be one of tcp, udp, icmp`);
        if (r.protocol !== 'icmp' && !PORTS.test(String(r.ports ?? ''))) throw unprocessable(`${key}: ports is invalid`);
        const target = (r[side] ?? {}) as Json;
        const any = ['addresses', 'droplet_ids', 'load_balancer_uids', 'tags'].some((k) => Array.isArray(target[k]) && (target[k] as unknown[]).length > 0);
        if (!any) throw unprocessable(`${key}: ${side} must name at least one address, droplet, load balancer or tag`);
      }
    }
    for (const t of (body.tags ?? []) as unknown[]) if (typeof t !== 'string' || !TAG_NAME.test(t)) throw unprocessable(`tag ${JSON.stringify(t)} is invalid`);
  }

  return {
    async route(method: string, parts: string[], body: Json): Promise<Reply | undefined> {
      const [kind, id, sub] = parts;
      if (kind === 'reserved_ips') {
        if (!id && method === 'GET') return { status: 200, body: c.page('reserved_ips', [...c.reservedIps.values()].map(ipJson)) };
        if (!id && method === 'POST') {
          if (typeof body.region !== 'string' && body.droplet_id === undefined) throw unprocessable('region or droplet_id is required');
          const region = typeof body.region === 'string' ? body.region : c.droplets.get(Number(body.droplet_id))?.region ?? '';
          if (!c.region(region)) throw unprocessable('region is invalid');
          const r: FakeReservedIp = { ip: `${c.reservedPrefix}.${++ipCounter}`, region, locked: false };
          c.reservedIps.set(r.ip, r);
          return { status: 202, body: { reserved_ip: ipJson(r), links: {} } };
        }
        const r = id ? c.reservedIps.get(id) : undefined;
        if (!r) throw notFound();
        if (!sub && method === 'GET') return { status: 200, body: { reserved_ip: ipJson(r) } };
        if (!sub && method === 'DELETE') {
          if (r.locked) throw unprocessable('The reserved IP has a pending event.');
          c.reservedIps.delete(r.ip);
          return { status: 204 };
        }
        if (sub === 'actions' && method === 'POST') {
          if (r.locked) throw unprocessable('The reserved IP has a pending event.');
          if (body.type === 'assign') {
            const d = c.droplets.get(Number(body.droplet_id));
            if (!d) throw unprocessable('droplet_id is invalid');
            if (d.region !== r.region) throw unprocessable(`The reserved IP is in ${r.region} and the Droplet in ${d.region}; they must be in the same region.`);
            r.locked = true;
            const a = c.action({ type: 'assign_ip', resource_type: 'reserved_ip', resource_id: r.ip, region_slug: r.region, finish: () => {
              r.locked = false;
              if (!c.droplets.has(d.id)) return 'droplet gone';
              r.dropletId = d.id;
            } });
            return { status: 201, body: { action: c.actionJson(a) } };
          }
          if (body.type === 'unassign') {
            if (r.dropletId === undefined) throw unprocessable('The reserved IP is not assigned to a Droplet.');
            r.locked = true;
            const a = c.action({ type: 'unassign_ip', resource_type: 'reserved_ip', resource_id: r.ip, region_slug: r.region, finish: () => {
              r.locked = false;
              delete r.dropletId;
            } });
            return { status: 201, body: { action: c.actionJson(a) } };
          }
          throw unprocessable('type must be assign or unassign');
        }
        return undefined;
      }
      if (kind === 'firewalls') {
        if (!id && method === 'GET') return { status: 200, body: c.page('firewalls', [...c.firewalls.values()].map(fwJson)) };
        if (!id && method === 'POST') {
          checkFirewall(body);
          const f: FakeFirewall = { id: `fw-${++fwCounter}`, name: String(body.name), inbound_rules: (body.inbound_rules ?? []) as unknown[], outbound_rules: (body.outbound_rules ?? []) as unknown[], droplet_ids: (body.droplet_ids ?? []) as number[], tags: (body.tags ?? []) as string[] };
          c.firewalls.set(f.id, f);
          for (const t of f.tags) c.tags.add(t);
          return { status: 202, body: { firewall: fwJson(f) } };
        }
        const f = id ? c.firewalls.get(id) : undefined;
        if (!f) throw notFound();
        if (method === 'GET') return { status: 200, body: { firewall: fwJson(f) } };
        if (method === 'PUT') {
          checkFirewall(body);
          Object.assign(f, { name: body.name, inbound_rules: body.inbound_rules ?? [], outbound_rules: body.outbound_rules ?? [], droplet_ids: body.droplet_ids ?? [], tags: body.tags ?? [] });
          return { status: 200, body: { firewall: fwJson(f) } };
        }
        if (method === 'DELETE') {
          c.firewalls.delete(f.id);
          return { status: 204 };
        }
        return undefined;
      }
      if (kind === 'tags') {
        const count = (t: string): number => c.dropletsWithTag(t).length;
        const tagJson = (t: string): Json => ({ name: t, resources: { count: count(t), droplets: { count: count(t) } } });
        if (!id && method === 'GET') return { status: 200, body: c.page('tags', [...c.tags].sort().map(tagJson)) };
        if (!id && method === 'POST') {
          if (typeof body.name !== 'string' || !TAG_NAME.test(body.name)) throw unprocessable('name is invalid: letters, numbers, colons, dashes and underscores, at most 255');
          c.tags.add(body.name);
          return { status: 201, body: { tag: tagJson(body.name) } };
        }
        const name = decodeURIComponent(id ?? '');
        if (!c.tags.has(name)) throw notFound();
        if (method === 'GET') return { status: 200, body: { tag: tagJson(name) } };
        if (method === 'DELETE') {
          c.tags.delete(name);
          for (const d of c.droplets.values()) d.tags = d.tags.filter((t) => t !== name);
          return { status: 204 };
        }
      }
      return undefined;
    },
  };
}
