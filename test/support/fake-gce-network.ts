// The fake Compute API's networking: VPC networks and subnetworks (read-only, set up by the test), firewall rules
// (insert, get, patch: only the fields sent change) and static regional external addresses (insert, get, list,
// delete; RESERVED or IN_USE with its one user, and never deleted while in use), as the API reference describes them.
import * as rules from './fake-gce-rules.js';

export interface FakeAddress {
  name: string;
  region: string;
  address: string;
  labels: Record<string, string>;
  users: string[];
  description?: string;
}

export interface NetworkState {
  project: string;
  region: string;
  firewalls: Map<string, Record<string, unknown>>;
  addresses: Map<string, FakeAddress>;
  /** network name → its subnetworks (in `region`); `default` is auto mode (a subnetwork `default` per region). */
  networks: Map<string, string[]>;
  instanceLink(name: string): string;
}

interface Request {
  method: string;
  /** The path after `/compute/v1/projects/<project>`. */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  requestId: string | null;
}

interface Reply {
  send(status: number, json: unknown): void;
  fail(status: number, reason: string, message: string): void;
  decoded<T>(type: string, body: Record<string, unknown>, word: string): T | undefined;
  /** Starts an operation: `check` gives GCE's error when it completes, else `apply` lands. */
  operation(check: () => string | undefined, apply: () => void): void;
}

const lastSegment = (url: string): string => url.slice(url.lastIndexOf('/') + 1);

export interface NetworkHelpers {
  checkInterfaces(nics: { network?: string; subnetwork?: string; accessConfigs?: unknown[] }[] | undefined): rules.Refusal | undefined;
  checkStaticIp(ip: string, instance: string): string | undefined;
  useStaticIp(ip: string, instance: string): void;
  freeStaticIp(ip: string, instance: string): void;
  networkOfSubnetwork(subnetwork: string): string;
}

let addressCounter = 0;

/** Answers a networking request and returns true, or returns false when the path is not one of these. */
export function handleNetwork(s: NetworkState, r: Request, reply: Reply): boolean {
  const global = /^\/global\/(firewalls|networks)(?:\/([^/]+))?$/.exec(r.path);
  const regional = /^\/regions\/([^/]+)\/(addresses|subnetworks)(?:\/([^/]+))?$/.exec(r.path);
  if (!global && !regional) return false;
  const networkUrl = (name: string): string => `https://www.googleapis.com/compute/v1/projects/${s.project}/global/networks/${name}`;

  if (global?.[1] === 'networks') {
    const name = global[2] ?? '';
    if (r.method === 'GET' && s.networks.has(name)) reply.send(200, { kind: 'compute#network', name, selfLink: networkUrl(name), autoCreateSubnetworks: name === 'default' });
    else reply.fail(404, 'notFound', `The resource 'projects/${s.project}/global/networks/${name}' was not found`);
    return true;
  }

  if (global?.[1] === 'firewalls') {
    const name = global[2];
    const notFound = (): void => reply.fail(404, 'notFound', `The resource 'projects/${s.project}/global/firewalls/${name}' was not found`);
    if (r.method === 'GET' && name) {
      const fw = s.firewalls.get(name);
      if (fw) reply.send(200, fw);
      else notFound();
      return true;
    }
    if (r.method === 'DELETE' && name) {
      if (s.firewalls.has(name)) reply.operation(() => undefined, () => void s.firewalls.delete(name));
      else notFound();
      return true;
    }
    if ((r.method === 'POST' && !name) || (r.method === 'PATCH' && name)) {
      const fw = reply.decoded<Record<string, unknown>>('Firewall', r.body, 'firewall');
      if (!fw) return true;
      if (r.method === 'POST') {
        const network = lastSegment(String(fw.network ?? 'default'));
        const bad =
          rules.checkName('resource.name', fw.name) ??
          (s.networks.has(network) ? undefined : { reason: 'notFound', message: `The resource 'projects/${s.project}/global/networks/${network}' was not found` }) ??
          rules.checkCidrs('resource.sourceRanges', fw.sourceRanges) ??
          ((fw.targetTags as unknown[] | undefined) ?? []).map((t) => rules.checkName('resource.targetTags', t)).find(Boolean);
        if (bad) {
          reply.fail(bad.reason === 'notFound' ? 404 : 400, bad.reason, bad.message);
          return true;
        }
        const fwName = String(fw.name);
        reply.operation(
          () => (s.firewalls.has(fwName) ? `RESOURCE_ALREADY_EXISTS: The resource 'projects/${s.project}/global/firewalls/${fwName}' already exists` : undefined),
          () => void s.firewalls.set(fwName, { kind: 'compute#firewall', direction: 'INGRESS', priority: 1000, ...fw, network: networkUrl(network) }),
        );
        return true;
      }
      const existing = name ? s.firewalls.get(name) : undefined;
      if (!existing) {
        notFound();
        return true;
      }
      const bad = fw.sourceRanges !== undefined ? rules.checkCidrs('resource.sourceRanges', fw.sourceRanges) : undefined;
      if (bad) {
        reply.fail(400, bad.reason, bad.message);
        return true;
      }
      // PATCH semantics: the fields sent replace theirs; the rest of the rule stays.
      reply.operation(() => undefined, () => void Object.assign(existing, fw));
      return true;
    }
    reply.fail(400, 'invalid', `unsupported ${r.method} firewalls`);
    return true;
  }

  const [, region, kind, name] = regional as RegExpExecArray;
  if (!rules.KNOWN_REGIONS.includes(region as string)) {
    reply.fail(400, 'invalid', `Invalid value for field 'region': '${region}'. Unknown region.`);
    return true;
  }
  if (kind === 'subnetworks') {
    const owner = [...s.networks.entries()].find(([net, subs]) => subs.includes(name ?? '') || (net === 'default' && name === 'default'));
    if (r.method === 'GET' && owner && region === s.region) reply.send(200, { kind: 'compute#subnetwork', name, region, network: networkUrl(owner[0]), ipCidrRange: '10.128.0.0/20' });
    else reply.fail(404, 'notFound', `The resource 'projects/${s.project}/regions/${region}/subnetworks/${name}' was not found`);
    return true;
  }

  const addressJson = (a: FakeAddress): unknown => ({
    kind: 'compute#address',
    name: a.name,
    address: a.address,
    addressType: 'EXTERNAL',
    networkTier: 'PREMIUM',
    region: `https://www.googleapis.com/compute/v1/projects/${s.project}/regions/${a.region}`,
    labels: a.labels,
    status: a.users.length ? 'IN_USE' : 'RESERVED',
    ...(a.users.length ? { users: a.users } : {}),
    ...(a.description ? { description: a.description } : {}),
  });
  if (r.method === 'GET' && !name) {
    reply.send(200, { items: [...s.addresses.values()].filter((a) => a.region === region).map(addressJson) });
    return true;
  }
  if (r.method === 'POST' && !name) {
    const a = reply.decoded<{ name?: string; labels?: Record<string, string>; addressType?: string; description?: string }>('Address', r.body, 'address');
    if (!a) return true;
    const bad = rules.checkName('resource.name', a.name) ?? rules.checkLabels('resource.labels', a.labels);
    if (bad) {
      reply.fail(400, bad.reason, bad.message);
      return true;
    }
    const addrName = a.name as string;
    reply.operation(
      () => (s.addresses.has(addrName) ? `RESOURCE_ALREADY_EXISTS: The resource 'projects/${s.project}/regions/${region}/addresses/${addrName}' already exists` : undefined),
      () => void s.addresses.set(addrName, { name: addrName, region: region as string, address: `198.51.100.${(++addressCounter % 250) + 1}`, labels: a.labels ?? {}, users: [], ...(a.description ? { description: a.description } : {}) }),
    );
    return true;
  }
  const address = name ? s.addresses.get(name) : undefined;
  if (!address || address.region !== region) {
    reply.fail(404, 'notFound', `The resource 'projects/${s.project}/regions/${region}/addresses/${name}' was not found`);
    return true;
  }
  if (r.method === 'GET') reply.send(200, addressJson(address));
  else if (r.method === 'DELETE') {
    reply.operation(
      () => (address.users.length ? `RESOURCE_IN_USE_BY_ANOTHER_RESOURCE: The address resource 'projects/${s.project}/regions/${region}/addresses/${address.name}' is already being used by '${address.users[0]}'` : undefined),
      () => void s.addresses.delete(address.name),
    );
  } else reply.fail(400, 'invalid', `unsupported ${r.method} addresses`);
  return true;
}

/** The rules instances.insert and addAccessConfig apply to interfaces and static IPs. */
export function networkHelpers(s: NetworkState): NetworkHelpers {
  const find = (ip: string): FakeAddress | undefined => [...s.addresses.values()].find((a) => a.address === ip);
  const owner = (subnetwork: string): string | undefined => {
    const name = lastSegment(subnetwork);
    return [...s.networks.entries()].find(([net, subs]) => subs.includes(name) || (net === 'default' && name === 'default'))?.[0];
  };
  return {
    checkInterfaces(nics) {
      if (!nics?.length) return { reason: 'invalid', message: "Invalid value for field 'resource.networkInterfaces': at least one network interface is required" };
      for (const nic of nics) {
        const network = nic.network ? lastSegment(nic.network) : undefined;
        if (network && !s.networks.has(network)) return { reason: 'notFound', message: `The resource 'projects/${s.project}/global/networks/${network}' was not found` };
        if (nic.subnetwork) {
          const of = owner(nic.subnetwork);
          if (!of || !new RegExp(`regions/${s.region}/subnetworks/`).test(nic.subnetwork)) return { reason: 'notFound', message: `The resource '${nic.subnetwork}' was not found` };
          if (network && network !== of) return { reason: 'invalid', message: `Invalid value for field 'resource.networkInterfaces[0].subnetwork': '${nic.subnetwork}'. Subnetwork should belong to network '${network}'.` };
        } else if (network && network !== 'default') {
          return { reason: 'invalid', message: `Invalid value for field 'resource.networkInterfaces[0].subnetwork': ''. Subnetwork must be specified for a custom mode network.` };
        }
        if ((nic.accessConfigs ?? []).length > 1) return { reason: 'invalid', message: 'At most one access config currently supported.' };
      }
      return undefined;
    },
    checkStaticIp(ip, instance) {
      const a = find(ip);
      if (!a || a.region !== s.region) return `RESOURCE_NOT_FOUND: The IP address '${ip}' is not a reserved address in region ${s.region}`;
      const other = a.users.find((u) => u !== s.instanceLink(instance));
      return other ? `IP_IN_USE_BY_ANOTHER_RESOURCE: IP '${ip}' is already being used by another resource ('${other}').` : undefined;
    },
    useStaticIp(ip, instance) {
      const a = find(ip);
      if (a && !a.users.includes(s.instanceLink(instance))) a.users.push(s.instanceLink(instance));
    },
    freeStaticIp(ip, instance) {
      const a = find(ip);
      if (a) a.users = a.users.filter((u) => u !== s.instanceLink(instance));
    },
    networkOfSubnetwork: (subnetwork) => `https://www.googleapis.com/compute/v1/projects/${s.project}/global/networks/${owner(subnetwork) ?? 'default'}`,
  };
}
