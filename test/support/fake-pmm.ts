// A stateful loopback stand-in for the part of PMM 3 that `cnvm pmm token` talks to: PMM's readiness
// (GET /v1/server/readyz) and the Grafana service-account HTTP API PMM serves under /graph/api, as Grafana's HTTP
// API reference describes it:
//   GET    /api/serviceaccounts/search?perpage&page&query   {totalCount, serviceAccounts, page, perPage}
//   POST   /api/serviceaccounts {name, role, isDisabled}    201 the account; a taken name → 400
//   DELETE /api/serviceaccounts/:id                         200 {message}; its tokens go with it
//   GET    /api/serviceaccounts/:id/tokens                  [{id, name, created, expiration, hasExpired, …}]
//   POST   /api/serviceaccounts/:id/tokens {name, secondsToLive}  200 {id, name, key} (the key only here); a taken
//                                                                  name → 409
//   DELETE /api/serviceaccounts/:id/tokens/:tokenId         200 {message}; unknown → 404
// Basic auth with the admin's password (wrong → 401 {message}); a service-account token works as a Bearer for
// GET /api/org, so a test can tell whether a token still works. HTTPS with a self-signed certificate made by
// openssl per run (PMM's default). Faults: an answer of 5xx, or the request applied and its answer lost (the socket
// destroyed), for the next request matching a method and path.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeToken {
  id: number;
  name: string;
  key: string;
  created: string;
  expiration: string | null;
}

export interface FakeAccount {
  id: number;
  name: string;
  login: string;
  role: string;
  isDisabled: boolean;
  tokens: FakeToken[];
}

export interface Fault {
  method: string;
  path: RegExp;
  /** 'lose-reply': the request takes effect, then the connection is cut before any answer. */
  kind: 'lose-reply' | '500' | '503';
}

export interface FakePmm {
  url: string;
  port: number;
  password: string;
  ready: boolean;
  accounts: Map<number, FakeAccount>;
  faults: Fault[];
  /** Every request as method and path (no headers, no bodies). */
  requests: string[];
  /** The self-signed certificate's PEM. */
  certPem: string;
  /** Whether the key authenticates (GET /api/org with it as Bearer answers 200). */
  tokenWorks(key: string): Promise<boolean>;
  /** Serves a new self-signed certificate from now on (PMM's certificate replaced). */
  replaceCertificate(): void;
  close(): Promise<void>;
}

function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cnvm-fake-pmm-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30', '-subj', '/CN=pmm-server', '-addext', 'subjectAltName=DNS:pmm-server', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Grafana's service-account token shape: glsa_ + 32 random characters + _ + 8 hex. */
const newKey = (): string => `glsa_${randomBytes(24).toString('base64url').slice(0, 32)}_${randomBytes(4).toString('hex')}`;

/** `host`/`port`: where it listens (default 127.0.0.1, a free port); a VM's address on 443 for tests that reach it as cnvm does. */
export async function startFakePmm(options: { password?: string; host?: string; port?: number } = {}): Promise<FakePmm> {
  const password = options.password ?? 'admin-pw-fake';
  let tls = selfSigned();
  let nextId = 1;
  const accounts = new Map<number, FakeAccount>();
  const faults: Fault[] = [];
  const requests: string[] = [];
  const state = { ready: true };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const authorized = (req: IncomingMessage): 'admin' | 'token' | undefined => {
    const h = req.headers.authorization ?? '';
    if (h.startsWith('Basic ')) return Buffer.from(h.slice(6), 'base64').toString('utf8') === `admin:${password}` ? 'admin' : undefined;
    if (h.startsWith('Bearer ')) {
      const key = h.slice(7);
      for (const a of accounts.values()) if (a.tokens.some((t) => t.key === key)) return 'token';
    }
    return undefined;
  };

  /** Applies the request to the state; returns the answer. */
  const handle = (method: string, url: URL, body: Record<string, unknown>, who: 'admin' | 'token' | undefined): [number, unknown] => {
    const path = url.pathname;
    if (method === 'GET' && path === '/v1/server/readyz') return state.ready ? [200, {}] : [503, { code: 14, message: 'PMM Server is not ready yet' }];
    if (!path.startsWith('/graph/api/')) return [404, { message: 'Not found' }];
    if (!who) return [401, { message: 'Invalid username or password' }];
    const api = path.slice('/graph/api'.length);
    if (method === 'GET' && api === '/org') return [200, { id: 1, name: 'Main Org.' }];
    if (who !== 'admin') return [403, { message: 'You do not have permission' }];
    if (method === 'GET' && api === '/serviceaccounts/search') {
      const perPage = Math.max(1, Number(url.searchParams.get('perpage') ?? 1000) || 1000);
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
      const q = (url.searchParams.get('query') ?? '').toLowerCase();
      const all = [...accounts.values()].filter((a) => a.name.toLowerCase().includes(q) || a.login.includes(q));
      const slice = all.slice((page - 1) * perPage, page * perPage);
      return [200, { totalCount: all.length, page, perPage, serviceAccounts: slice.map((a) => ({ id: a.id, name: a.name, login: a.login, orgId: 1, isDisabled: a.isDisabled, role: a.role, tokens: a.tokens.length, avatarUrl: '' })) }];
    }
    if (method === 'POST' && api === '/serviceaccounts') {
      const name = body.name;
      const role = body.role ?? 'Viewer';
      if (typeof name !== 'string' || !name) return [400, { message: 'Bad request data' }];
      if (!['Viewer', 'Editor', 'Admin', 'None'].includes(String(role))) return [400, { message: 'invalid role specified' }];
      const login = `sa-${name.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
      if ([...accounts.values()].some((a) => a.login === login)) return [400, { message: 'Failed to create service account' }];
      const a: FakeAccount = { id: nextId++, name, login, role: String(role), isDisabled: body.isDisabled === true, tokens: [] };
      accounts.set(a.id, a);
      return [201, { id: a.id, name, login, orgId: 1, isDisabled: a.isDisabled, role: a.role, tokens: 0, avatarUrl: '' }];
    }
    const m = /^\/serviceaccounts\/(\d+)(\/tokens(?:\/(\d+))?)?$/.exec(api);
    const account = m ? accounts.get(Number(m[1])) : undefined;
    if (!m) return [404, { message: 'Not found' }];
    if (!account) return [404, { message: 'Failed to retrieve service account' }];
    if (!m[2]) {
      if (method !== 'DELETE') return [405, { message: 'Method not allowed' }];
      accounts.delete(account.id);
      return [200, { message: 'Service account deleted' }];
    }
    if (m[3] === undefined && method === 'GET') {
      return [200, account.tokens.map((t) => ({ id: t.id, name: t.name, created: t.created, lastUsedAt: null, expiration: t.expiration, secondsUntilExpiration: 0, hasExpired: t.expiration !== null && Date.parse(t.expiration) < Date.now(), isRevoked: false }))];
    }
    if (m[3] === undefined && method === 'POST') {
      const name = body.name;
      if (typeof name !== 'string' || !name) return [400, { message: 'Bad request data' }];
      if (account.tokens.some((t) => t.name === name)) return [409, { message: 'service account token with given name already exists in the organization' }];
      const ttl = typeof body.secondsToLive === 'number' && body.secondsToLive > 0 ? body.secondsToLive : 0;
      const t: FakeToken = { id: nextId++, name, key: newKey(), created: new Date().toISOString(), expiration: ttl ? new Date(Date.now() + ttl * 1000).toISOString() : null };
      account.tokens.push(t);
      return [200, { id: t.id, name: t.name, key: t.key }];
    }
    if (m[3] !== undefined && method === 'DELETE') {
      const i = account.tokens.findIndex((t) => t.id === Number(m[3]));
      if (i < 0) return [404, { message: 'service account token not found' }];
      account.tokens.splice(i, 1);
      return [200, { message: 'Service account token deleted' }];
    }
    return [405, { message: 'Method not allowed' }];
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'https://pmm.invalid');
      requests.push(`${method} ${url.pathname}`);
      let body: Record<string, unknown> = {};
      try {
        body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        return send(res, 400, { message: 'Bad request data' });
      }
      const fi = faults.findIndex((f) => f.method === method && f.path.test(url.pathname));
      const fault = fi >= 0 ? faults.splice(fi, 1)[0] : undefined;
      if (fault?.kind === '500' || fault?.kind === '503') return send(res, Number(fault.kind), { message: 'Internal server error' });
      const [status, answer] = handle(method, url, body, authorized(req));
      if (fault?.kind === 'lose-reply') return void req.socket.destroy();
      send(res, status, answer);
    });
  };

  const server: Server = createServer({ key: tls.key, cert: tls.cert }, onRequest);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const port = (server.address() as { port: number }).port;
  const url = port === 443 ? `https://${host}` : `https://${host}:${port}`;
  const fake: FakePmm = {
    url,
    port,
    password,
    get ready() {
      return state.ready;
    },
    set ready(v: boolean) {
      state.ready = v;
    },
    accounts,
    faults,
    requests,
    get certPem() {
      return tls.cert;
    },
    async tokenWorks(key) {
      const res = await new Promise<number>((resolve, reject) => {
        import('node:https').then(({ request }) => {
          const r = request({ host: '127.0.0.1', port, path: '/graph/api/org', headers: { authorization: `Bearer ${key}` }, ca: tls.cert, checkServerIdentity: () => undefined }, (reply) => {
            reply.resume();
            resolve(reply.statusCode ?? 0);
          });
          r.on('error', reject);
          r.end();
        }, reject);
      });
      return res === 200;
    },
    replaceCertificate() {
      tls = selfSigned();
      server.setSecureContext({ key: tls.key, cert: tls.cert });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
