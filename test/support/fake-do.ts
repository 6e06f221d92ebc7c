// A stateful stand-in for DigitalOcean's API v2 on a loopback port, following its reference: a bearer token on
// every request (401 otherwise), `{id, message}` errors, 422 for what the reference says is invalid (names, tags,
// regions, sizes, images, user data over 64 KiB, a volume in another region or attached elsewhere), rate-limit
// headers on every answer and 429 past the limit, paged lists (`links.pages.next`), and actions that run: a
// droplet is `new` until its create action completes, power and volume actions change state only when they
// complete (after `actionPolls` reads of the API: time passes as clients poll), and a droplet or reserved IP with an action in progress refuses another.
// Faults per request: an HTTP status, a reset connection before handling, or a reply lost after handling.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkRoutes, notFound, Refusal, TAG_NAME, unprocessable, type Json, type Reply } from './fake-do-network.js';
import type { FakeAction, FakeDo, FakeDoOptions, FakeDroplet, FakeImage, FakeVolume, RequestFault } from './fake-do-types.js';

export type { FakeDo, FakeDoOptions, FakeDroplet, FakeVolume } from './fake-do-types.js';

const DROPLET_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,253}[a-zA-Z0-9])?$/;
const VOLUME_NAME = /^[a-z]([-a-z0-9]{0,62}[a-z0-9])?$/;
const USER_DATA_LIMIT = 64 * 1024;

export async function startFakeDo(options: FakeDoOptions = {}): Promise<FakeDo> {
  const token = options.token ?? 'fake-do-token';
  const regions = new Set(options.regions ?? ['fra1', 'nyc3', 'ams3']);
  const sizes = new Set(options.sizes ?? ['s-1vcpu-1gb', 's-2vcpu-4gb', 's-4vcpu-8gb']);
  const droplets = new Map<number, FakeDroplet>();
  const volumes = new Map<string, FakeVolume>();
  const images = new Map<number, FakeImage>((options.images ?? [{ id: 1001, name: 'fedora-coreos-a' }, { id: 1002, name: 'fedora-coreos-b' }]).map((i) => [i.id, { ...i, status: 'available', regions: [...regions], polls: 0 }]));
  const actions = new Map<number, FakeAction>();
  const state = { reservedIps: new Map(), firewalls: new Map(), tags: new Set<string>() } as Pick<FakeDo, 'reservedIps' | 'firewalls' | 'tags'>;
  const log: string[] = [];
  const bodies: FakeDo['bodies'] = [];
  const faultsServed: string[] = [];
  const faults: RequestFault[] = [];
  let dropletCounter = 3000;
  let actionCounter = 0;
  let imageCounter = 5000;
  let window = { start: Date.now(), used: 0 };
  let url = '';

  const action = (a: Omit<FakeAction, 'id' | 'status' | 'pollsLeft'>): FakeAction => {
    const full: FakeAction = { ...a, id: ++actionCounter, status: 'in-progress', pollsLeft: options.actionPolls ?? 1 };
    actions.set(full.id, full);
    return full;
  };
  const actionJson = (a: FakeAction): Json => ({ id: a.id, status: a.status, type: a.type, started_at: '2026-01-01T00:00:00Z', completed_at: a.status === 'in-progress' ? null : '2026-01-01T00:00:05Z', resource_id: a.resource_id, resource_type: a.resource_type, region_slug: a.region_slug });
  let query = new URLSearchParams();
  const page = (key: string, items: unknown[]): Json => {
    const perPage = Math.min(200, Number(query.get('per_page') ?? 20) || 20);
    const n = Math.max(1, Number(query.get('page') ?? 1) || 1);
    const slice = items.slice((n - 1) * perPage, n * perPage);
    const more = n * perPage < items.length;
    const next = new URLSearchParams(query);
    next.set('page', String(n + 1));
    return { [key]: slice, links: more ? { pages: { next: `${url}${currentPath}?${next.toString()}` } } : {}, meta: { total: items.length } };
  };
  let currentPath = '';
  const dropletsWithTag = (t: string): FakeDroplet[] => [...droplets.values()].filter((d) => d.tags.includes(t));
  const net = networkRoutes({ region: (r) => regions.has(r), droplets, ...state, action, actionJson, page, dropletsWithTag, reservedPrefix: options.loopbackAddresses ? '127.0.2' : '192.0.2' });

  const dropletJson = (d: FakeDroplet): Json => ({
    id: d.id,
    name: d.name,
    memory: 4096,
    vcpus: 2,
    disk: 80,
    locked: d.lockedBy !== undefined,
    status: d.status,
    created_at: '2026-01-01T00:00:00Z',
    image: { id: typeof d.image === 'number' ? d.image : 0, slug: typeof d.image === 'string' ? d.image : null },
    size_slug: d.size,
    volume_ids: [...d.volume_ids],
    networks: { v4: [{ ip_address: d.publicIp, netmask: '255.255.240.0', gateway: '198.51.100.1', type: 'public' }, { ip_address: d.privateIp, netmask: '255.255.240.0', gateway: '10.110.0.1', type: 'private' }], v6: [] },
    region: { slug: d.region, name: d.region },
    tags: [...d.tags],
    vpc_uuid: d.vpc_uuid,
  });
  const volumeJson = (v: FakeVolume): Json => ({ id: v.id, name: v.name, region: { slug: v.region, name: v.region }, size_gigabytes: v.size_gigabytes, description: v.description, droplet_ids: [...v.droplet_ids], tags: [...v.tags], filesystem_type: v.filesystem_type, created_at: '2026-01-01T00:00:00Z' });

  const checkTags = (tags: unknown): string[] => {
    if (tags === undefined || tags === null) return [];
    if (!Array.isArray(tags)) throw unprocessable('tags must be an array of strings');
    for (const t of tags) if (typeof t !== 'string' || !TAG_NAME.test(t)) throw unprocessable(`tag ${JSON.stringify(t)} is invalid: letters, numbers, colons, dashes and underscores, at most 255`);
    for (const t of tags as string[]) state.tags.add(t);
    return [...new Set(tags as string[])];
  };
  const locked = (d: FakeDroplet): void => {
    if (d.lockedBy !== undefined && actions.get(d.lockedBy)?.status === 'in-progress') throw unprocessable('Droplet already has a pending event.');
  };

  function dropletAction(d: FakeDroplet, body: Json): Reply {
    locked(d);
    const type = String(body.type);
    const target = { power_on: 'active', shutdown: 'off', power_off: 'off' }[type] as FakeDroplet['status'] | undefined;
    if (!target) throw unprocessable(`type ${JSON.stringify(type)} is not a droplet action cnvm's fake knows`);
    if (d.status === target) throw unprocessable(target === 'off' ? 'Droplet is already powered off.' : 'Droplet is already powered on.');
    if (d.status === 'new') throw unprocessable('Droplet is still being created.');
    const a = action({ type, resource_type: 'droplet', resource_id: d.id, region_slug: d.region, finish: () => {
      delete d.lockedBy;
      if (type === 'shutdown' && options.shutdownErrors) return 'guest did not shut down';
      d.status = target;
    } });
    d.lockedBy = a.id;
    return { status: 201, body: { action: actionJson(a) } };
  }

  function volumeAction(v: FakeVolume, body: Json): Reply {
    const d = droplets.get(Number(body.droplet_id));
    if (!d) throw unprocessable('droplet_id is invalid');
    if (body.region !== undefined && body.region !== v.region) throw unprocessable('region does not match the volume\'s region');
    if (d.region !== v.region) throw unprocessable(`Droplet and Volume must be in the same region (droplet in ${d.region}, volume in ${v.region}).`);
    locked(d);
    if (body.type === 'attach') {
      if (v.droplet_ids.includes(d.id)) throw unprocessable('This volume is already attached to this Droplet.');
      if (v.droplet_ids.length) throw unprocessable('This volume is already attached to another Droplet.');
    } else if (body.type === 'detach') {
      if (!v.droplet_ids.includes(d.id)) throw unprocessable('This volume is not attached to this Droplet.');
    } else throw unprocessable('type must be attach, detach or resize');
    const a = action({ type: `${String(body.type)}_volume`, resource_type: 'volume', resource_id: d.id, region_slug: v.region, finish: () => {
      delete d.lockedBy;
      if (body.type === 'attach') {
        v.droplet_ids = [d.id];
        d.volume_ids = [...d.volume_ids, v.id];
      } else {
        v.droplet_ids = [];
        d.volume_ids = d.volume_ids.filter((x) => x !== v.id);
      }
    } });
    d.lockedBy = a.id;
    return { status: 202, body: { action: actionJson(a) } };
  }

  function createDroplet(body: Json): Reply {
    const name = body.name;
    if (typeof name !== 'string' || !DROPLET_NAME.test(name)) throw unprocessable('Name Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)');
    const region = String(body.region ?? '');
    if (!regions.has(region)) throw unprocessable('You specified an invalid region for Droplet creation.');
    if (!sizes.has(String(body.size ?? ''))) throw unprocessable('You specified an invalid size for Droplet creation.');
    const image = body.image;
    if (!(typeof image === 'number' ? images.get(image)?.status === 'available' && images.get(image)?.regions.includes(region) : typeof image === 'string' && image.length > 0)) throw unprocessable('You specified an invalid image for Droplet creation.');
    const userData = body.user_data === undefined ? '' : String(body.user_data);
    if (Buffer.byteLength(userData) > USER_DATA_LIMIT) throw unprocessable('user_data is too long: it must be at most 64 KiB.');
    const vols = ((body.volumes ?? []) as unknown[]).map((id) => {
      const v = volumes.get(String(id));
      if (!v) throw unprocessable(`volume ${String(id)} does not exist`);
      if (v.region !== region) throw unprocessable('Droplet and Volume must be in the same region.');
      if (v.droplet_ids.length) throw unprocessable('This volume is already attached to another Droplet.');
      return v;
    });
    const tags = checkTags(body.tags);
    const id = ++dropletCounter;
    const d: FakeDroplet = { id, name, status: 'new', region, size: String(body.size), image: image as number | string, tags, volume_ids: vols.map((v) => v.id), user_data: userData, vpc_uuid: String(body.vpc_uuid ?? `default-vpc-${region}`), publicIp: `${options.loopbackAddresses ? '127.0.1' : '198.51.100'}.${id % 250}`, privateIp: `10.110.0.${id % 250}` };
    for (const v of vols) v.droplet_ids = [id];
    droplets.set(id, d);
    const a = action({ type: 'create', resource_type: 'droplet', resource_id: id, region_slug: region, finish: () => {
      delete d.lockedBy;
      d.status = 'active';
    } });
    d.lockedBy = a.id;
    return { status: 202, body: { droplet: dropletJson(d), links: { actions: [{ id: a.id, rel: 'create', href: `${url}/v2/actions/${a.id}` }] } } };
  }

  async function route(method: string, parts: string[], body: Json): Promise<Reply> {
    const [kind, id, sub] = parts;
    // Time passes as clients look: each read brings every running action one poll nearer to its end.
    if (method === 'GET') for (const a of actions.values()) if (a.status === 'in-progress' && --a.pollsLeft <= 0) a.status = a.finish() ? 'errored' : 'completed';
    if (kind === 'actions' && id && method === 'GET') {
      const a = actions.get(Number(id));
      if (!a) throw notFound();
      return { status: 200, body: { action: actionJson(a) } };
    }
    if (kind === 'droplets') {
      if (!id && method === 'GET') {
        const name = query.get('name');
        const tag = query.get('tag_name');
        if (name && tag) throw unprocessable('name and tag_name cannot be combined');
        const list = [...droplets.values()].filter((d) => (!name || d.name.toLowerCase() === name.toLowerCase()) && (!tag || d.tags.includes(tag)));
        return { status: 200, body: page('droplets', list.map(dropletJson)) };
      }
      if (!id && method === 'POST') return createDroplet(body);
      const d = droplets.get(Number(id));
      if (!d) throw notFound();
      if (!sub && method === 'GET') return { status: 200, body: { droplet: dropletJson(d) } };
      if (!sub && method === 'DELETE') {
        droplets.delete(d.id);
        for (const v of volumes.values()) v.droplet_ids = v.droplet_ids.filter((x) => x !== d.id);
        for (const r of state.reservedIps.values()) if (r.dropletId === d.id) delete r.dropletId;
        return { status: 204 };
      }
      if (sub === 'actions' && method === 'POST') return dropletAction(d, body);
    }
    if (kind === 'volumes') {
      if (!id && method === 'GET') {
        const name = query.get('name');
        const region = query.get('region');
        const list = [...volumes.values()].filter((v) => (!name || v.name === name) && (!region || v.region === region));
        return { status: 200, body: page('volumes', list.map(volumeJson)) };
      }
      if (!id && method === 'POST') {
        if (typeof body.name !== 'string' || !VOLUME_NAME.test(body.name)) throw unprocessable('name must be lowercase letters, numbers and hyphens, start with a letter, at most 64 characters');
        const size = Number(body.size_gigabytes);
        if (!Number.isInteger(size) || size < 1 || size > 16384) throw unprocessable('size_gigabytes must be between 1 and 16384');
        const region = String(body.region ?? '');
        if (!regions.has(region)) throw unprocessable('region is invalid');
        if ([...volumes.values()].some((v) => v.name === body.name && v.region === region)) throw new Refusal(409, 'conflict', 'a volume with that name already exists in this region');
        const v: FakeVolume = { id: randomUUID(), name: body.name, region, size_gigabytes: size, description: String(body.description ?? ''), droplet_ids: [], tags: checkTags(body.tags), filesystem_type: String(body.filesystem_type ?? ''), bytes: Buffer.alloc(64 * 1024) };
        volumes.set(v.id, v);
        return { status: 201, body: { volume: volumeJson(v) } };
      }
      const v = id ? volumes.get(id) : undefined;
      if (!v) throw notFound();
      if (!sub && method === 'GET') return { status: 200, body: { volume: volumeJson(v) } };
      if (!sub && method === 'DELETE') {
        if (v.droplet_ids.length) throw new Refusal(409, 'conflict', 'Unable to delete volume: it is attached to a Droplet.');
        volumes.delete(v.id);
        return { status: 204 };
      }
      if (sub === 'actions' && method === 'POST') return volumeAction(v, body);
    }
    if (kind === 'images') {
      if (!id && method === 'GET') return { status: 200, body: page('images', [...images.values()].map((i) => ({ id: i.id, name: i.name, status: i.status, regions: i.regions, type: 'custom', distribution: 'Fedora' }))) };
      if (!id && method === 'POST') {
        if (typeof body.name !== 'string' || typeof body.url !== 'string' || typeof body.region !== 'string' || !regions.has(body.region)) throw unprocessable('name, url and a valid region are required');
        const img: FakeImage = { id: ++imageCounter, name: body.name, status: 'NEW', regions: [body.region], url: body.url, polls: 0 };
        images.set(img.id, img);
        return { status: 202, body: { image: { id: img.id, name: img.name, status: img.status, regions: img.regions } } };
      }
      const img = images.get(Number(id));
      if (!img) throw notFound();
      if (img.status === 'NEW' && ++img.polls >= 2) img.status = 'available';
      return { status: 200, body: { image: { id: img.id, name: img.name, status: img.status, regions: img.regions } } };
    }
    if (kind === 'vpcs' && id && method === 'GET') {
      if (!id.startsWith('vpc-')) throw notFound();
      return { status: 200, body: { vpc: { id, name: id, region: [...regions][0] } } };
    }
    const other = await net.route(method, parts, body);
    if (other) return other;
    throw notFound();
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void serve(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  async function serve(req: IncomingMessage, res: ServerResponse, text: string): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const line = `${method} ${u.pathname}`;
    log.push(line);
    const fault = faults.find((f) => f.times > 0 && f.match.test(line));
    if (fault) fault.times--;
    if (fault?.reset) {
      faultsServed.push(`reset ${line}`);
      req.socket.destroy();
      return;
    }
    const now = Date.now();
    const limit = options.rateLimit;
    if (limit && now - window.start >= limit.windowMs) window = { start: now, used: 0 };
    // An injected 429 stands for a limit that resets within the second; a real window resets when it ends.
    const resetAt = fault?.status === 429 ? Math.ceil(now / 1000) + 1 : Math.ceil((window.start + (limit?.windowMs ?? 60_000)) / 1000);
    const headers = (): Record<string, string> => ({ 'content-type': 'application/json', 'ratelimit-limit': String(limit?.limit ?? 5000), 'ratelimit-remaining': String(Math.max(0, (limit?.limit ?? 5000) - window.used)), 'ratelimit-reset': String(resetAt) });
    const send = (status: number, body?: unknown): void => {
      res.writeHead(status, headers());
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { id: 'Unauthorized', message: 'Unable to authenticate you' });
    if (fault?.status === 429 || (limit && window.used >= limit.limit)) {
      faultsServed.push(`429 ${line}`);
      return send(429, { id: 'too_many_requests', message: 'API Rate limit exceeded.' });
    }
    window.used++;
    if (fault?.status) {
      faultsServed.push(`${fault.status} ${line}`);
      return send(fault.status, { id: 'server_error', message: 'Server was unable to give you a response.' });
    }
    let body: Json = {};
    if (text) {
      try {
        body = JSON.parse(text) as Json;
      } catch {
        return send(400, { id: 'bad_request', message: 'request body is not valid JSON' });
      }
      bodies.push({ method, path: u.pathname, body });
    }
    query = u.searchParams;
    currentPath = u.pathname;
    const parts = u.pathname.replace(/^\/v2\//, '').split('/').filter(Boolean);
    let reply: Reply;
    try {
      if (!u.pathname.startsWith('/v2/')) throw notFound();
      reply = await route(method, parts, body);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      reply = { status: err.status, body: { id: err.id, message: err.message } };
    }
    if (fault?.lost) {
      faultsServed.push(`lost ${line}`);
      req.socket.destroy();
      return;
    }
    send(reply.status, reply.body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    token,
    droplets,
    volumes,
    ...state,
    images,
    actions,
    log,
    bodies,
    faultsServed,
    injectFault: (f) => void faults.push(f),
    droplet: (name) => [...droplets.values()].find((d) => d.name === name),
    volume: (name) => [...volumes.values()].find((v) => v.name === name),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
