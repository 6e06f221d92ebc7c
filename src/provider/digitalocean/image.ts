// Fedora CoreOS on DigitalOcean: the stream metadata lists a DigitalOcean disk image (qcow2.gz) per release,
// which DigitalOcean imports as a custom image from its URL. cnvm imports it once per region and release, named
// `fedora-coreos-<release>-<region>` and tagged `cnvm`, and reuses it afterwards; an import is waited on until the
// image is `available`.
import { ProviderError } from '../errors.js';
import { str, type ImageLog, type SettingValues } from '../module.js';
import type { ImageRef } from '../types.js';
import { doApi, type DoApi } from './api.js';
import { resolveEndpoint, resolveToken } from './settings.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

export interface DoStreamImage {
  release: string;
  location: string;
  sha256: string;
}

/** The DigitalOcean artifact of a stream's architecture. */
export function doStreamImage(stream: unknown, streamName: string, architecture = 'x86_64'): DoStreamImage {
  const artifact = obj(obj(obj(obj(obj(stream).architectures)[architecture]).artifacts).digitalocean);
  const disk = obj(obj(obj(artifact.formats)['qcow2.gz']).disk);
  const release = artifact.release;
  if (typeof release !== 'string' || typeof disk.location !== 'string' || typeof disk.sha256 !== 'string') {
    throw new ProviderError('failed', `stream ${streamName} lists no DigitalOcean image for ${architecture}`);
  }
  return { release, location: disk.location, sha256: disk.sha256 };
}

interface DoImage {
  id: number;
  name: string;
  status?: string;
  regions?: string[];
  error_message?: string;
}

export const importedImageName = (release: string, region: string): string => `fedora-coreos-${release}-${region}`;

export async function resolveDoImage(stream: string, settings: SettingValues, log: ImageLog): Promise<ImageRef> {
  const region = str(settings, 'region') ?? process.env.DIGITALOCEAN_REGION;
  if (!region) throw new ProviderError('invalid', 'the digitalocean provider needs a region to find or import its image (--region)');
  const { fetchStream } = await import('../../image/stream.js');
  const artifact = doStreamImage(await fetchStream(stream), stream);
  const base = Number(process.env.CNVM_DO_RETRY_BASE_MS);
  const fast = Number.isFinite(base) && base > 0;
  const api = doApi({ endpoint: resolveEndpoint(), token: resolveToken(), ...(fast ? { pollIntervalMs: base, retry: { baseMs: base, capMs: base * 8, budgetMs: 5000 } } : {}) });
  return importDoImage(api, artifact, { stream, region, log, pollMs: fast ? base : 10_000 });
}

export interface ImportOptions {
  stream: string;
  region: string;
  log: ImageLog;
  /** Between polls of an import (production 10 s: an import takes minutes). */
  pollMs: number;
}

/** The region's custom image of this release: found by name, or imported from the stream's URL and waited on. */
export async function importDoImage(api: DoApi, artifact: DoStreamImage, o: ImportOptions): Promise<ImageRef> {
  const { region, log } = o;
  const name = importedImageName(artifact.release, region);
  const mine = await api.list<DoImage>('images.list', '/v2/images?private=true', 'images');
  let image = mine.find((i) => i.name === name && (i.regions ?? [region]).includes(region) && i.status !== 'deleted' && i.status !== 'retired');
  if (!image) {
    log(`image: importing ${artifact.location} into ${region} as ${name} (once per region and release)`);
    const body = { name, url: artifact.location, region, distribution: 'Fedora', description: `Fedora CoreOS ${artifact.release} (${o.stream}), sha256 ${artifact.sha256}`, tags: ['cnvm'] };
    const recover = async (): Promise<{ image: DoImage } | undefined> => {
      const again = await api.list<DoImage>('images.list', '/v2/images?private=true', 'images');
      const found = again.find((i) => i.name === name);
      return found ? { image: found } : undefined;
    };
    image = (await api.request<{ image: DoImage }>(`images.create ${name}`, 'POST', '/v2/images', body, recover)).image;
  }
  const deadline = Date.now() + 30 * 60_000;
  while (image.status !== 'available') {
    if (image.status === 'deleted' || image.error_message) throw new ProviderError('failed', `importing ${name}: ${image.error_message ?? image.status}`);
    if (Date.now() > deadline) throw new ProviderError('timeout', `importing ${name}: not available after 30 minutes`);
    await new Promise((resolve) => setTimeout(resolve, o.pollMs));
    image = (await api.request<{ image: DoImage }>(`images.get ${image.id}`, 'GET', `/v2/images/${image.id}`)).image;
  }
  log(`image: ${image.id} (${name})`);
  return { id: String(image.id), version: artifact.release };
}
