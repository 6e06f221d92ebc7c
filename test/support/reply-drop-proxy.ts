// A loopback HTTP proxy in front of an EC2 or Compute API peer (moto, or the project's fakes) that can lose a reply:
// the request is forwarded, the peer handles it (the call takes effect), and the proxy then closes the client's
// connection instead of answering, as a network that drops the response does. The client sees a reset and cannot
// tell whether its call landed; that is the case the adapters must make safe to repeat.
//
// Calls are named per API: EC2's Query API by its Action (`AllocateAddress`), the Compute API by method and path
// below the project (`POST /zones/z/instances/pmm-g2/stop`). Only mutating calls are counted and can be dropped.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CallNamer = (method: string, path: string, body: string) => { name: string; mutating: boolean };

/** EC2 Query API: every POST carries `Action=`; reads are Describe* and Get*. */
export const ec2Calls: CallNamer = (_method, _path, body) => {
  const name = new URLSearchParams(body).get('Action') ?? '';
  return { name, mutating: name !== '' && !/^(Describe|Get)/.test(name) };
};

/** Compute API (REST): every non-GET is a mutation, except waiting on an operation. */
export const computeCalls: CallNamer = (method, path) => {
  const below = path.replace(/^\/compute\/v1\/projects\/[^/]+/, '');
  return { name: `${method} ${below}`, mutating: method !== 'GET' && !/\/operations\/[^/]+\/wait$/.test(below) };
};

export interface ReplyDropProxy {
  endpoint: string;
  port: number;
  /** The mutating calls forwarded so far, in order (dropped ones included). */
  mutations: string[];
  /** The calls whose reply was lost. */
  dropped: string[];
  /** Lose the reply of the n-th mutating call from now (1-based). */
  dropNthMutation(n: number): void;
  /** Lose the reply of the next call whose name matches. */
  dropNext(match: RegExp): void;
  close(): Promise<void>;
}

export async function startReplyDropProxy(target: string, namer: CallNamer): Promise<ReplyDropProxy> {
  const upstream = new URL(target);
  const mutations: string[] = [];
  const dropped: string[] = [];
  let countdown = 0;
  let pattern: RegExp | undefined;

  function forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; data: Buffer }> {
    return new Promise((resolve, reject) => {
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, data: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const { name, mutating } = namer(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname, body.toString('utf8'));
      let drop = false;
      if (mutating) {
        mutations.push(name);
        if (countdown > 0 && --countdown === 0) drop = true;
        if (pattern?.test(name)) {
          drop = true;
          pattern = undefined;
        }
      }
      // The peer always handles the call: only its answer is lost.
      const answer = await forward(req, body);
      if (drop) {
        dropped.push(name);
        req.socket.destroy();
        return;
      }
      const { 'transfer-encoding': _te, connection: _c, 'content-length': _cl, ...headers } = answer.headers;
      res.writeHead(answer.status, { ...headers, 'content-length': String(answer.data.length) });
      res.end(answer.data);
    })().catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    mutations,
    dropped,
    dropNthMutation: (n) => void (countdown = n),
    dropNext: (match) => void (pattern = match),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
