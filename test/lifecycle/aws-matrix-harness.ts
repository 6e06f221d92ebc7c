// The EC2 harness of the upgrade and provision fault matrices: the real client against one EC2 peer (the
// project's stateful fake or moto's EC2 server). One test file per peer, so the two run in parallel.
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import { awsAgainst, REGION, type Ec2PeerKind } from '../support/aws-harness.js';
import { crashable } from '../support/crashable.js';
import { TEST_CREDENTIALS } from '../support/moto.js';
import type { ProvisionMatrixHarness } from './provision-matrix.js';
import type { MatrixHarness } from './upgrade-matrix.js';


export async function awsMatrixHarness(kind: Ec2PeerKind): Promise<ProvisionMatrixHarness> {
  const { peer, provider } = await awsAgainst(kind);
  // The checks read the peer directly through its own API, not through the adapter under test.
  const ec2 = new EC2Client({ region: REGION, endpoint: peer.endpoint, credentials: TEST_CREDENTIALS });
  const name = 'pmm';
  let volume = '';
  const lookUpVolume = async (): Promise<void> => {
    const out = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:Name', Values: [dataVolumeName(name)] }] }));
    volume = out.Volumes?.[0]?.VolumeId ?? volume;
  };
  const c = crashable(provider, () => volume);
  const h: MatrixHarness = {
    provider: c.provider,
    imageA: peer.images[0],
    imageB: peer.images[1],
    name,
    crashAt: c.crashAt,
    callCount: c.callCount,
    maxAttachments: async () => c.maxHolders(),
    writeBytes: async (b) => {
      await lookUpVolume();
      b.copy(peer.bytes(volume));
    },
    readBytes: async (length) => {
      await lookUpVolume();
      return peer.bytes(volume).subarray(0, length);
    },
    cleanup: async () => {
      ec2.destroy();
      await peer.close();
    },
  };
  const ignitionOf = async (vm: string): Promise<string> => {
    const found = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: [vm] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }));
    const id = found.Reservations?.flatMap((r) => r.Instances ?? [])[0]?.InstanceId;
    if (!id) return '';
    const attr = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'userData' }));
    return Buffer.from(attr.UserData?.Value ?? '', 'base64').toString('utf8');
  };
  // crashable's holder count needs the volume id as soon as it exists.
  const inner = c.provider;
  const withLookup = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'createVolume' || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          await lookUpVolume();
        }
      };
    },
  });
  return { ...h, provider: withLookup, ignitionOf };
}
