// The instance metadata service of a cnvm EC2 instance, read back from moto's EC2 server (which keeps a launch's
// MetadataOptions; the project's fake does not model them) through the real client: IMDSv2 only (session tokens
// required, IMDSv1's plain GET refused) with a PUT response hop limit of 1, on the first generation and on every
// generation an upgrade launches.
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { expect, it } from 'vitest';
import { upgrade } from '../../src/lifecycle/upgrade.js';
import { awsAgainst, REGION, useMoto } from '../support/aws-harness.js';
import { TEST_CREDENTIALS } from '../support/moto.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';

useMoto();

it('aws on moto: provision and upgrade launch instances with IMDSv2 required and hop limit 1', async () => {
  const { peer, provider } = await awsAgainst('moto');
  const store = tempStore();
  const ec2 = new EC2Client({ region: REGION, endpoint: peer.endpoint, credentials: TEST_CREDENTIALS });
  try {
    const metadataOf = async (name: string) => {
      const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: [name] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }));
      const options = out.Reservations?.flatMap((r) => r.Instances ?? [])[0]?.MetadataOptions;
      return { HttpEndpoint: options?.HttpEndpoint, HttpTokens: options?.HttpTokens, HttpPutResponseHopLimit: options?.HttpPutResponseHopLimit };
    };
    const wanted = { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 };
    await provisionVm(provider, store, 'pmm', peer.images[0]);
    expect(await metadataOf('pmm')).toEqual(wanted);
    await upgrade(provider, store, { name: 'pmm', overrides: { image: peer.images[1] }, healthCheck: async () => true, healthIntervalMs: 10 });
    expect(await metadataOf('pmm-g2')).toEqual(wanted);
  } finally {
    ec2.destroy();
    store.cleanup();
    await peer.close();
  }
}, 120_000);
