// The EC2 adapter wired, through the real @aws-sdk/client-ec2 client, to one of two peers on a loopback port: the
// project's stateful fake of the EC2 Query API, or moto's EC2 server (an independent implementation). Tests that
// need behaviour only the fake models (states that take time, ClientToken, refusing a second attachment, paging
// volumes) run on the fake only and say why.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';
import { createAwsProvider, type AwsOptions } from '../../src/provider/aws/adapter.js';
import type { ImageRef } from '../../src/provider/types.js';
import { startFakeEc2, type FakeEc2, type FakeEc2Options } from './fake-ec2.js';
import { startMoto, TEST_CREDENTIALS, type MotoServer } from './moto.js';

export type Ec2PeerKind = 'fake' | 'moto';
export const EC2_PEERS: Ec2PeerKind[] = ['fake', 'moto'];
export const REGION = 'eu-west-1';

export interface Ec2Peer {
  kind: Ec2PeerKind;
  endpoint: string;
  /** Two AMIs the peer knows (RunInstances refuses others). */
  images: [ImageRef, ImageRef];
  /** The bytes at the start of a volume, as a guest would leave them (moto keeps no block contents: see below). */
  bytes(volumeId: string): Buffer;
  close(): Promise<void>;
}

let moto: Promise<MotoServer> | undefined;

function sharedMoto(): Promise<MotoServer> {
  moto ??= startMoto(REGION);
  return moto;
}

/**
 * One moto server per test file (vitest runs each file in its own worker), reset between harnesses: call at the
 * file's top level; it kills the server after the file's tests.
 */
export function useMoto(): void {
  afterAll(async () => {
    const started = moto;
    moto = undefined;
    if (started) await (await started).close();
  }, 30_000);
}

/** The address the loopback echo service reports as this machine's public one (TEST-NET-1). */
export const OPERATOR_IP = '192.0.2.10';
let echo: Promise<Server> | undefined;

/**
 * A loopback stand-in for the public-address echo service (checkip): cnvm opens 443 and 22 to what it answers when
 * no --allow-from is given. Sets CNVM_PUBLIC_IP_URL for this process; returns the URL for child processes.
 */
export async function usePublicIpEcho(): Promise<string> {
  echo ??= new Promise<Server>((resolve) => {
    const server = createServer((_req, res) => res.end(`${OPERATOR_IP}\n`));
    server.unref();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
  const url = `http://127.0.0.1:${((await echo).address() as AddressInfo).port}/`;
  process.env.CNVM_PUBLIC_IP_URL = url;
  return url;
}

export async function startEc2Peer(kind: Ec2PeerKind, options: { maxPage?: number } = {}): Promise<Ec2Peer> {
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  await usePublicIpEcho();
  if (kind === 'fake') {
    const fake = await startFakeEc2(REGION, options);
    return {
      kind,
      endpoint: fake.endpoint,
      images: [
        { id: 'ami-0aaaaaaaaaaaaaaaa', version: 'A' },
        { id: 'ami-0bbbbbbbbbbbbbbbb', version: 'B' },
      ],
      bytes: (id) => fake.volumes.get(id)?.bytes ?? Buffer.alloc(0),
      close: () => fake.close(),
    };
  }
  const server = await sharedMoto();
  await server.reset();
  // moto models EBS volumes as records without contents; the guest's writes are kept here, keyed by volume id, so
  // the "same bytes after the move" checks still prove the new VM got the same volume object.
  const disks = new Map<string, Buffer>();
  return {
    kind,
    endpoint: server.endpoint,
    images: [
      { id: server.amis[0], version: 'A' },
      { id: server.amis[1], version: 'B' },
    ],
    bytes: (id) => {
      if (!disks.has(id)) disks.set(id, Buffer.alloc(64 * 1024));
      return disks.get(id) as Buffer;
    },
    close: () => server.reset(),
  };
}

export function awsProviderFor(peer: Ec2Peer, options: Partial<AwsOptions> = {}): ReturnType<typeof createAwsProvider> {
  return createAwsProvider({
    region: REGION,
    clientConfig: { endpoint: peer.endpoint, credentials: TEST_CREDENTIALS },
    waitDelaySec: 0.01,
    waitMaxSec: 30,
    ...options,
  });
}

export async function awsAgainst(kind: Ec2PeerKind, options: Partial<AwsOptions> & { maxPage?: number } = {}): Promise<{ peer: Ec2Peer; provider: ReturnType<typeof createAwsProvider> }> {
  const { maxPage, ...rest } = options;
  const peer = await startEc2Peer(kind, maxPage ? { maxPage } : {});
  return { peer, provider: awsProviderFor(peer, rest) };
}

/** The fake, with the fake's own handle for checks only it can make. */
export async function awsAgainstFake(options: FakeEc2Options = {}, adapter: Partial<AwsOptions> = {}): Promise<{ fake: FakeEc2; provider: ReturnType<typeof createAwsProvider> }> {
  await usePublicIpEcho();
  const fake = await startFakeEc2(REGION, options);
  const provider = createAwsProvider({
    region: REGION,
    clientConfig: { endpoint: fake.endpoint, credentials: TEST_CREDENTIALS },
    waitDelaySec: 0.01,
    waitMaxSec: 30,
    ...adapter,
  });
  return { fake, provider };
}
