// The GCE adapter wired to a fresh fake Compute API on a loopback port (real client, REST transport).
import { PassThroughClient } from 'google-auth-library';
import { createGcpProvider } from '../../src/provider/gcp.js';
import { startFakeGce, type FakeGce } from './fake-gce.js';

export async function gcpAgainstFake(): Promise<{ fake: FakeGce; provider: ReturnType<typeof createGcpProvider> }> {
  const fake = await startFakeGce('cnvm-test', 'europe-west1-b');
  const provider = createGcpProvider({
    project: 'cnvm-test',
    zone: 'europe-west1-b',
    clientOptions: { apiEndpoint: '127.0.0.1', port: fake.port, protocol: 'http', authClient: new PassThroughClient() },
    pollIntervalMs: 1,
  });
  return { fake, provider };
}
