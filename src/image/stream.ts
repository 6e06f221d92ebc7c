// Fedora CoreOS stream metadata (https://builds.coreos.fedoraproject.org/streams/<stream>.json, format of
// coreos/stream-metadata-go): which image each platform should boot for a stream and architecture.
import { CnvmError } from '../errors.js';

export const STREAM_BASE_URL = 'https://builds.coreos.fedoraproject.org/streams';
export const STREAMS = ['stable', 'testing', 'next'] as const;
export type StreamName = (typeof STREAMS)[number];

export class ImageError extends CnvmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('provider', message, options);
  }
}

export interface QemuArtifact {
  release: string;
  location: string;
  sha256: string;
  uncompressedSha256?: string;
}

export interface GcpImage {
  release: string;
  project: string;
  family: string;
  name: string;
}

export interface AwsImage {
  release: string;
  region: string;
  ami: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function arch(stream: unknown, architecture: string, streamName: string): Obj {
  const a = obj(obj(obj(stream).architectures)[architecture]);
  if (Object.keys(a).length === 0) throw new ImageError(`stream ${streamName} has no ${architecture} images`);
  return a;
}

export function qemuArtifact(stream: unknown, streamName: string, architecture = 'x86_64'): QemuArtifact {
  const qemu = obj(obj(arch(stream, architecture, streamName).artifacts).qemu);
  const disk = obj(obj(obj(qemu.formats)['qcow2.xz']).disk);
  const release = str(qemu.release);
  const location = str(disk.location);
  const sha256 = str(disk.sha256);
  if (!release || !location || !sha256) throw new ImageError(`stream ${streamName} lists no qcow2.xz QEMU image for ${architecture}`);
  const uncompressed = str(disk['uncompressed-sha256']);
  return { release, location, sha256, ...(uncompressed ? { uncompressedSha256: uncompressed } : {}) };
}

export function gcpImage(stream: unknown, streamName: string, architecture = 'x86_64'): GcpImage {
  const gcp = obj(obj(arch(stream, architecture, streamName).images).gcp);
  const release = str(gcp.release);
  const project = str(gcp.project);
  const family = str(gcp.family);
  const name = str(gcp.name);
  if (!release || !project || !family || !name) throw new ImageError(`stream ${streamName} lists no GCP image for ${architecture}`);
  return { release, project, family, name };
}

export function awsImage(stream: unknown, streamName: string, region: string, architecture = 'x86_64'): AwsImage {
  const regions = obj(obj(obj(arch(stream, architecture, streamName).images).aws).regions);
  const entry = obj(regions[region]);
  const ami = str(entry.image);
  const release = str(entry.release);
  if (!ami || !release) {
    throw new ImageError(`stream ${streamName} has no AMI in ${region} for ${architecture} (regions: ${Object.keys(regions).sort().join(', ') || 'none'})`);
  }
  return { release, region, ami };
}

export interface FetchStreamOptions {
  baseUrl?: string;
  timeoutMs?: number;
}

export async function fetchStream(stream: string, options: FetchStreamOptions = {}): Promise<unknown> {
  if (!(STREAMS as readonly string[]).includes(stream)) throw new ImageError(`unknown stream ${JSON.stringify(stream)} (${STREAMS.join(', ')})`);
  // CNVM_STREAM_BASE_URL: a mirror (or, in tests, a loopback stand-in) instead of builds.coreos.fedoraproject.org.
  const url = `${options.baseUrl ?? process.env.CNVM_STREAM_BASE_URL ?? STREAM_BASE_URL}/${stream}.json`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
  } catch (err) {
    throw new ImageError(`cannot fetch ${url} (${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}); offline, pass --image PATH to use a local image`, { cause: err });
  }
  if (!response.ok) throw new ImageError(`cannot fetch ${url}: HTTP ${response.status}`);
  try {
    return await response.json();
  } catch (err) {
    throw new ImageError(`${url} is not valid stream metadata JSON`, { cause: err });
  }
}
