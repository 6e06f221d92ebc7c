// The QEMU (qcow2) image for libvirt: downloaded once per release into the user's cache, checked against the
// stream's sha256 before it is decompressed and again after, and only then moved into place. An image that fails a
// check never reaches the cache.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import { fetchStream, ImageError, qemuArtifact, type FetchStreamOptions, type QemuArtifact } from './stream.js';

export interface Progress {
  phase: 'download' | 'verify' | 'decompress';
  bytes: number;
  total?: number;
}

export interface EnsureImageOptions extends FetchStreamOptions {
  stream: string;
  architecture?: string;
  cacheDir?: string;
  onProgress?: (p: Progress) => void;
}

export interface LocalImage {
  path: string;
  release: string;
  /** Whether it was downloaded now (false: found in the cache). */
  downloaded: boolean;
}

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cnvm', 'images');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Resolve the stream's qcow2 and make sure a verified copy is in the cache; returns its path. */
export async function ensureQemuImage(options: EnsureImageOptions): Promise<LocalImage> {
  const architecture = options.architecture ?? 'x86_64';
  let stream: unknown;
  try {
    stream = await fetchStream(options.stream, options);
  } catch (err) {
    // Offline: never guess which cached image is current, but name the verified ones the user can pass.
    const cached = cachedImages(options.cacheDir ?? defaultCacheDir(), architecture);
    if (cached.length === 0 || !(err instanceof ImageError) || !/offline/.test(err.message)) throw err;
    throw new ImageError(`${err.message}; verified images in the cache: ${cached.join(', ')}`, { cause: err.cause });
  }
  return ensureArtifact(qemuArtifact(stream, options.stream, architecture), architecture, options);
}

/** Cached images that passed verification (they have their checksum record), newest release last. */
export function cachedImages(cacheDir: string, architecture = 'x86_64'): string[] {
  if (!existsSync(cacheDir)) return [];
  const suffix = `-qemu.${architecture}.qcow2`;
  return readdirSync(cacheDir)
    .filter((f) => f.startsWith('fedora-coreos-') && f.endsWith(suffix) && existsSync(join(cacheDir, `${f}.sha256`)))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((f) => join(cacheDir, f));
}

export async function ensureArtifact(artifact: QemuArtifact, architecture: string, options: Pick<EnsureImageOptions, 'cacheDir' | 'onProgress' | 'timeoutMs'>): Promise<LocalImage> {
  const dir = options.cacheDir ?? defaultCacheDir();
  mkdirSync(dir, { recursive: true });
  const base = `fedora-coreos-${artifact.release}-qemu.${architecture}.qcow2`;
  const final = join(dir, base);
  const stamp = `${final}.sha256`;
  // The stamp records the checksum the image was verified against when it entered the cache.
  if (existsSync(final) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === artifact.sha256) {
    return { path: final, release: artifact.release, downloaded: false };
  }
  const compressed = join(dir, `.${base}.xz.${process.pid}.part`);
  const decompressed = join(dir, `.${base}.${process.pid}.part`);
  try {
    await download(artifact.location, compressed, options);
    options.onProgress?.({ phase: 'verify', bytes: 0 });
    const got = await sha256File(compressed);
    if (got !== artifact.sha256) throw new ImageError(`checksum mismatch for ${artifact.location}: expected sha256 ${artifact.sha256}, got ${got}; the download was discarded`);
    options.onProgress?.({ phase: 'decompress', bytes: 0 });
    await decompressXz(compressed, decompressed);
    if (artifact.uncompressedSha256) {
      const plain = await sha256File(decompressed);
      if (plain !== artifact.uncompressedSha256) throw new ImageError(`decompressed image checksum mismatch: expected ${artifact.uncompressedSha256}, got ${plain}`);
    }
    renameSync(decompressed, final);
    writeFileAtomic(stamp, `${artifact.sha256}\n`);
    return { path: final, release: artifact.release, downloaded: true };
  } finally {
    rmSync(compressed, { force: true });
    rmSync(decompressed, { force: true });
  }
}

async function download(url: string, to: string, options: Pick<EnsureImageOptions, 'onProgress' | 'timeoutMs'>): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 30 * 60_000) });
  } catch (err) {
    const reason = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new ImageError(`cannot download ${url} (${reason}); offline, pass --image PATH to use a local image`, { cause: err });
  }
  if (!response.ok || !response.body) throw new ImageError(`cannot download ${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length')) || undefined;
  let bytes = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    options.onProgress?.({ phase: 'download', bytes, ...(total ? { total } : {}) });
  });
  await pipeline(body, createWriteStream(to, { mode: 0o644 }));
}

async function decompressXz(from: string, to: string): Promise<void> {
  const { execa } = await import('execa');
  const result = await execa('xz', ['--decompress', '--stdout', from], { stdout: { file: to }, reject: false });
  if ((result as { code?: string }).code === 'ENOENT') throw new ImageError('cannot decompress the image: the `xz` command is missing (Debian/Ubuntu: apt-get install xz-utils)');
  if (result.exitCode !== 0) throw new ImageError(`cannot decompress ${from}: ${String(result.stderr).trim() || `xz exited ${result.exitCode}`}`);
}
