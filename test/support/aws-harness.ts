// The EC2 adapter wired to a fresh fake EC2 Query API on a loopback port (real client, static test credentials).
import { createAwsProvider } from '../../src/provider/aws.js';
import { startFakeEc2, type FakeEc2 } from './fake-ec2.js';

export async function awsAgainstFake(options: { maxPage?: number } = {}): Promise<{ fake: FakeEc2; provider: ReturnType<typeof createAwsProvider> }> {
  const fake = await startFakeEc2('eu-west-1', options);
  const provider = createAwsProvider({
    region: 'eu-west-1',
    clientConfig: { endpoint: fake.endpoint, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } },
    waitDelaySec: 0.01,
    waitMaxSec: 30,
  });
  return { fake, provider };
}
