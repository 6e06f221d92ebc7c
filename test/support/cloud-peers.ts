// The cloud peers behind a reply-dropping proxy, for the lost-reply matrix and the rollback fault matrix: the EC2
// adapter against moto or the project's EC2 fake, the GCE adapter against the Compute fake. `leftovers` reads the
// peer past the proxy (with the SDK itself or the fake's state, not the adapter under test).
import { DescribeAddressesCommand, DescribeInstancesCommand, DescribeSecurityGroupsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PassThroughClient } from 'google-auth-library';
import { createAwsProvider } from '../../src/provider/aws/adapter.js';
import { createGcpProvider } from '../../src/provider/gcp/adapter.js';
import { REGION, startEc2Peer, type Ec2PeerKind } from './aws-harness.js';
import { startFakeGce } from './fake-gce.js';
import { GCP_PROJECT, GCP_ZONE, startEchoIp } from './gcp-harness.js';
import { TEST_CREDENTIALS } from './moto.js';
import { computeCalls, ec2Calls, startReplyDropProxy } from './reply-drop-proxy.js';
import type { LostReplyHarness } from '../lifecycle/lost-reply-matrix.js';

export async function ec2Harness(kind: Ec2PeerKind): Promise<LostReplyHarness> {
  const peer = await startEc2Peer(kind);
  const proxy = await startReplyDropProxy(peer.endpoint, ec2Calls);
  const provider = createAwsProvider({ region: REGION, clientConfig: { endpoint: proxy.endpoint, credentials: TEST_CREDENTIALS }, waitDelaySec: 0.01, waitMaxSec: 30 });
  // Read past the proxy, with the SDK itself (not the adapter under test).
  const ec2 = new EC2Client({ region: REGION, endpoint: peer.endpoint, credentials: TEST_CREDENTIALS });
  return {
    provider,
    proxy,
    images: peer.images,
    async leftovers() {
      const instances = (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }))).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
      const volumes = ((await ec2.send(new DescribeVolumesCommand({}))).Volumes ?? []).filter((v) => v.State !== 'deleting' && v.State !== 'deleted');
      const addresses = (await ec2.send(new DescribeAddressesCommand({}))).Addresses ?? [];
      const groups = ((await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).filter((g) => g.GroupName !== 'default');
      return [
        ...instances.map((i) => `instance ${i.InstanceId} (${i.State?.Name})`),
        ...volumes.map((v) => `volume ${v.VolumeId}`),
        ...addresses.map((a) => `address ${a.AllocationId} ${a.PublicIp}`),
        ...groups.map((g) => `group ${g.GroupId} ${g.GroupName}`),
      ];
    },
    async cleanup() {
      ec2.destroy();
      await proxy.close();
      await peer.close();
    },
  };
}

export async function gceHarness(): Promise<LostReplyHarness> {
  const fake = await startFakeGce(GCP_PROJECT, GCP_ZONE);
  const echo = await startEchoIp();
  const proxy = await startReplyDropProxy(`http://127.0.0.1:${fake.port}`, computeCalls);
  const provider = createGcpProvider({
    project: GCP_PROJECT,
    zone: GCP_ZONE,
    clientOptions: { apiEndpoint: '127.0.0.1', port: proxy.port, protocol: 'http', authClient: new PassThroughClient() },
    pollIntervalMs: 1,
    publicIpUrl: echo.url,
    retry: { baseMs: 5, capMs: 40, budgetMs: 400 },
  });
  return {
    provider,
    proxy,
    images: [
      { id: 'projects/fedora-coreos-cloud/global/images/fedora-coreos-a', version: 'A' },
      { id: 'projects/fedora-coreos-cloud/global/images/fedora-coreos-b', version: 'B' },
    ],
    leftovers: async () => [
      ...[...fake.instances.keys()].map((n) => `instance ${n}`),
      ...[...fake.disks.keys()].map((n) => `disk ${n}`),
      ...[...fake.addresses.keys()].map((n) => `address ${n}`),
      ...[...fake.firewalls.keys()].map((n) => `firewall ${n}`),
    ],
    async cleanup() {
      await proxy.close();
      await Promise.all([fake.close(), echo.close()]);
    },
  };
}
