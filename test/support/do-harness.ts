// The DigitalOcean adapter wired to a fresh fake API v2 on a loopback port, and a loopback echo service for the
// operator's public-address lookup (it answers 127.0.0.1, as checkip would answer this machine's address).
import { createDigitalOceanProvider, type DoOptions } from '../../src/provider/digitalocean/adapter.js';
import type { Provider } from '../../src/provider/types.js';
import { startFakeDo, type FakeDo, type FakeDoOptions } from './fake-do.js';
import { startEchoIp, type EchoIp } from './gcp-harness.js';

export const DO_REGION = 'fra1';

export async function doAgainstFake(options: Partial<DoOptions> = {}, fakeOptions: FakeDoOptions = {}): Promise<{ fake: FakeDo; echo: EchoIp; provider: Provider; cleanup: () => Promise<void> }> {
  const fake = await startFakeDo(fakeOptions);
  const echo = await startEchoIp();
  const provider = createDigitalOceanProvider({
    endpoint: fake.url,
    token: fake.token,
    region: DO_REGION,
    publicIpUrl: echo.url,
    pollIntervalMs: 1,
    retry: { baseMs: 5, capMs: 40, budgetMs: 3000 },
    ...options,
  });
  return { fake, echo, provider, cleanup: async () => void (await Promise.all([fake.close(), echo.close()])) };
}

/** The first bytes of a volume as the guest left them (the fake keeps 64 KiB of each). */
export const volumeBytes = (fake: FakeDo, name: string): Buffer => fake.volume(name)?.bytes ?? Buffer.alloc(0);
