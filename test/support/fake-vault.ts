// A stateful loopback stand-in for the part of HashiCorp Vault the `vault:` token store uses, per Vault's HTTP API
// reference: `X-Vault-Token` authentication (GET /v1/auth/token/lookup-self; an unknown token → 403
// {"errors":["permission denied"]}) and a KV version 2 engine mounted at `secret/`:
//   GET    /v1/secret/data/:path       200 {data: {data, metadata: {version, …}}}; 404 {errors: []} when absent
//   POST   /v1/secret/data/:path       {data: {…}} → 200 {data: {created_time, deletion_time: "", destroyed, version}}
//   DELETE /v1/secret/metadata/:path   204: every version and the metadata gone
// A path outside the mount → 404 {"errors":["no handler for route …"]}. `denyWrites` answers writes with 403.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeVault {
  addr: string;
  token: string;
  /** Per path under the mount: every version's data, oldest first. */
  secrets: Map<string, Record<string, unknown>[]>;
  denyWrites: boolean;
  close(): Promise<void>;
}

export async function startFakeVault(token = 'hvs.test-root-token'): Promise<FakeVault> {
  const secrets = new Map<string, Record<string, unknown>[]>();
  const state = { denyWrites: false };
  const send = (res: ServerResponse, status: number, body?: unknown): void => {
    if (body === undefined) return void res.writeHead(status).end();
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json' }).end(text);
  };
  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    if (req.headers['x-vault-token'] !== token) return send(res, 403, { errors: ['permission denied'] });
    const path = new URL(req.url ?? '/', 'http://vault.invalid').pathname;
    if (req.method === 'GET' && path === '/v1/auth/token/lookup-self') return send(res, 200, { data: { id: token, policies: ['root'], ttl: 0 } });
    const m = /^\/v1\/secret\/(data|metadata)\/(.+)$/.exec(path);
    if (!m) return send(res, 404, { errors: [`no handler for route "${path.slice(4)}". route entry not found.`] });
    const [, kind, key] = m as unknown as [string, string, string];
    const versions = secrets.get(key);
    if (kind === 'data' && req.method === 'GET') {
      if (!versions?.length) return send(res, 404, { errors: [] });
      return send(res, 200, { data: { data: versions[versions.length - 1], metadata: { version: versions.length, destroyed: false, deletion_time: '' } } });
    }
    if (kind === 'data' && (req.method === 'POST' || req.method === 'PUT')) {
      if (state.denyWrites) return send(res, 403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
      let body: { data?: Record<string, unknown> };
      try {
        body = JSON.parse(raw) as { data?: Record<string, unknown> };
      } catch {
        return send(res, 400, { errors: ['failed to parse JSON input'] });
      }
      if (!body.data || typeof body.data !== 'object') return send(res, 400, { errors: ['no data provided'] });
      const list = versions ?? [];
      list.push(body.data);
      secrets.set(key, list);
      return send(res, 200, { data: { created_time: new Date().toISOString(), custom_metadata: null, deletion_time: '', destroyed: false, version: list.length } });
    }
    if (kind === 'metadata' && req.method === 'DELETE') {
      if (state.denyWrites) return send(res, 403, { errors: ['permission denied'] });
      secrets.delete(key);
      return send(res, 204);
    }
    return send(res, 405, { errors: ['unsupported operation'] });
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    addr: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    token,
    secrets,
    get denyWrites() {
      return state.denyWrites;
    },
    set denyWrites(v: boolean) {
      state.denyWrites = v;
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
