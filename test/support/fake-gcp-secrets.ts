// A stateful loopback stand-in for Google Secret Manager's REST API (v1), per its reference, for the
// `gcp-secretmanager:` token store: Bearer authentication (wrong → 401 UNAUTHENTICATED), and
//   GET    /v1/projects/P/secrets/ID                       the Secret; 404 NOT_FOUND
//   POST   /v1/projects/P/secrets?secretId=ID {replication}  the Secret; 409 ALREADY_EXISTS
//   POST   /v1/projects/P/secrets/ID:addVersion {payload: {data}}  {name: projects/NUMBER/secrets/ID/versions/N, state}
//   DELETE /v1/projects/P/secrets/ID                       {} (the secret and its versions)
// Errors are Google's `{error: {code, message, status}}`. `denyAddVersion` answers addVersion with 403.
import { createServer, type ServerResponse } from 'node:http';

export interface FakeGcpSecrets {
  endpoint: string;
  accessToken: string;
  /** `projects/P/secrets/ID` → every version's decoded payload, oldest first. */
  secrets: Map<string, string[]>;
  denyAddVersion: boolean;
  close(): Promise<void>;
}

const PROJECT_NUMBER = '123456789012';

export async function startFakeGcpSecrets(accessToken = 'ya29.test-access-token'): Promise<FakeGcpSecrets> {
  const secrets = new Map<string, string[]>();
  const state = { denyAddVersion: false };
  const fail = (res: ServerResponse, code: number, status: string, message: string): void => send(res, code, { error: { code, message, status } });
  const send = (res: ServerResponse, code: number, body: unknown): void => void res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${accessToken}`) return fail(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
      const url = new URL(req.url ?? '/', 'http://secretmanager.invalid');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      const create = /^\/v1\/(projects\/[^/]+)\/secrets$/.exec(url.pathname);
      if (create && req.method === 'POST') {
        const id = url.searchParams.get('secretId') ?? '';
        const name = `${create[1]}/secrets/${id}`;
        if (!body.replication) return fail(res, 400, 'INVALID_ARGUMENT', 'Secret.replication is required.');
        if (secrets.has(name)) return fail(res, 409, 'ALREADY_EXISTS', `Secret [${name}] already exists.`);
        secrets.set(name, []);
        return send(res, 200, { name, replication: body.replication, createTime: new Date().toISOString(), labels: body.labels ?? {} });
      }
      const one = /^\/v1\/(projects\/[^/]+\/secrets\/[^/:]+)(:addVersion)?$/.exec(url.pathname);
      if (!one) return fail(res, 404, 'NOT_FOUND', 'Not found');
      const [, name, add] = one as unknown as [string, string, string | undefined];
      const versions = secrets.get(name);
      if (!versions) return fail(res, 404, 'NOT_FOUND', `Secret [${name}] not found or has no versions.`);
      if (add && req.method === 'POST') {
        if (state.denyAddVersion) return fail(res, 403, 'PERMISSION_DENIED', `Permission 'secretmanager.versions.add' denied for resource '${name}'.`);
        const data = (body.payload as { data?: unknown } | undefined)?.data;
        if (typeof data !== 'string') return fail(res, 400, 'INVALID_ARGUMENT', 'SecretPayload.data is required.');
        versions.push(Buffer.from(data, 'base64').toString('utf8'));
        return send(res, 200, { name: `projects/${PROJECT_NUMBER}/secrets/${name.split('/').pop()}/versions/${versions.length}`, createTime: new Date().toISOString(), state: 'ENABLED' });
      }
      if (!add && req.method === 'GET') return send(res, 200, { name, replication: { automatic: {} } });
      if (!add && req.method === 'DELETE') {
        secrets.delete(name);
        return send(res, 200, {});
      }
      return fail(res, 405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    accessToken,
    secrets,
    get denyAddVersion() {
      return state.denyAddVersion;
    },
    set denyAddVersion(v: boolean) {
      state.denyAddVersion = v;
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
