// The DigitalOcean adapter against the fake API v2 behind the reply-dropping proxy, for the lost-reply matrix and
// the rollback fault matrix. `leftovers` reads the fake's own state (past the proxy, not through the adapter).
import { createDigitalOceanProvider } from '../../src/provider/digitalocean/adapter.js';
import type { LostReplyHarness } from '../lifecycle/lost-reply-matrix.js';
import { DO_REGION } from './do-harness.js';
import { startFakeDo } from './fake-do.js';
import { startEchoIp } from './gcp-harness.js';
import { startReplyDropProxy, type CallNamer } from './reply-drop-proxy.js';

/** API v2 (REST): every non-GET is a mutation; named by method and path without the query. */
export const doCalls: CallNamer = (method, path) => ({ name: `${method} ${path}`, mutating: method !== 'GET' });

export async function doPeerHarness(): Promise<LostReplyHarness> {
  const fake = await startFakeDo({ actionPolls: 2 });
  const echo = await startEchoIp();
  const proxy = await startReplyDropProxy(fake.url, doCalls);
  const provider = createDigitalOceanProvider({ endpoint: proxy.endpoint, token: fake.token, region: DO_REGION, publicIpUrl: echo.url, pollIntervalMs: 1, retry: { baseMs: 5, capMs: 40, budgetMs: 2000 } });
  return {
    provider,
    proxy,
    images: [
      { id: '1001', version: 'A' },
      { id: '1002', version: 'B' },
    ],
    leftovers: async () => [
      ...[...fake.droplets.values()].map((d) => `instance ${d.name} (${d.status})`),
      ...[...fake.volumes.values()].map((v) => `volume ${v.name}`),
      ...[...fake.reservedIps.keys()].map((ip) => `address ${ip}`),
      ...[...fake.firewalls.values()].map((f) => `firewall ${f.name}`),
      ...[...fake.tags].filter((t) => t.startsWith('cnvm-addr:')).map((t) => `tag ${t}`),
    ],
    async cleanup() {
      await proxy.close();
      await Promise.all([fake.close(), echo.close()]);
    },
  };
}
