// The GCE adapter wired to a fresh fake Compute API on a loopback port (real client, REST transport), and a
// loopback echo service standing in for the operator's public-address lookup (it answers the caller's address,
// 127.0.0.1, as checkip does).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThroughClient } from 'google-auth-library';
import { createGcpProvider, type GcpOptions } from '../../src/provider/gcp/adapter.js';
import { startFakeGce, type FakeGce, type FakeGceOptions } from './fake-gce.js';

export const GCP_PROJECT = 'cnvm-test';
export const GCP_ZONE = 'europe-west1-b';

export interface EchoIp {
  url: string;
  /** How many times it was asked. */
  hits: () => number;
  close(): Promise<void>;
}

/** A what-is-my-address service on loopback: answers the caller's own address, or `answer` when given. */
export async function startEchoIp(answer?: string): Promise<EchoIp> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${answer ?? (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Client options that send the real client to the fake, with no credentials needed. */
export const fakeClientOptions = (fake: FakeGce): Record<string, unknown> => ({ apiEndpoint: '127.0.0.1', port: fake.port, protocol: 'http', authClient: new PassThroughClient() });

export async function gcpAgainstFake(
  options: Partial<GcpOptions> = {},
  fakeOptions: FakeGceOptions = {},
): Promise<{ fake: FakeGce; echo: EchoIp; provider: ReturnType<typeof createGcpProvider>; cleanup: () => Promise<void> }> {
  const fake = await startFakeGce(GCP_PROJECT, GCP_ZONE, fakeOptions);
  const echo = await startEchoIp();
  const provider = createGcpProvider({
    project: GCP_PROJECT,
    zone: GCP_ZONE,
    clientOptions: fakeClientOptions(fake),
    pollIntervalMs: 1,
    publicIpUrl: echo.url,
    retry: { baseMs: 5, capMs: 40, budgetMs: 400 },
    ...options,
  });
  return { fake, echo, provider, cleanup: async () => void (await Promise.all([fake.close(), echo.close()])) };
}
