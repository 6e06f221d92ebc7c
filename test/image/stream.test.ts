// Image resolution from a stream JSON and a small xz-compressed "image", both served by a local HTTP server.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedImages, ensureQemuImage, type Progress } from '../../src/image/qemu-image.js';
import { awsImage, fetchStream, gcpImage, ImageError, qemuArtifact } from '../../src/image/stream.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const raw = Buffer.alloc(256 * 1024, 'fcos-qcow2-stand-in ');
const xz = execFileSync('xz', ['--compress', '--stdout'], { input: raw });

let server: Server;
let base = '';
let tamper = false;
let hits = 0;
/** Overrides for the served stream: another release, a bad uncompressed checksum, an unreachable image. */
let release = '43.20261110.3.0';
let uncompressedSha = '';
let imageUrl = '';
const scratch = mkdtempSync(join(tmpdir(), 'cnvm-image-'));

function streamJson(): unknown {
  return {
    stream: 'stable',
    metadata: { 'last-modified': '2026-11-20T00:00:00Z' },
    architectures: {
      x86_64: {
        artifacts: {
          qemu: {
            release,
            formats: {
              'qcow2.xz': { disk: { location: imageUrl || `${base}/images/fcos.qcow2.xz`, sha256: sha(xz), 'uncompressed-sha256': uncompressedSha || sha(raw) } },
            },
          },
        },
        images: {
          aws: { regions: { 'eu-west-1': { release: '43.20261110.3.0', image: 'ami-0abc1234def567890' } } },
          gcp: { release: '43.20261110.3.0', project: 'fedora-coreos-cloud', family: 'fedora-coreos-stable', name: 'fedora-coreos-43-20261110-3-0-gcp-x86-64' },
        },
      },
    },
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/streams/stable.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(streamJson()));
    } else if (req.url === '/streams/next.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"stream": "next", "architectures": {"x86_64": {"artifacts": {}}}}');
    } else if (req.url === '/images/fcos.qcow2.xz') {
      hits++;
      const body = tamper ? Buffer.concat([xz.subarray(0, -1), Buffer.from([0])]) : xz;
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('FCOS stream metadata', () => {
  it('resolves the image for every platform', async () => {
    const stream = await fetchStream('stable', { baseUrl: `${base}/streams` });
    expect(qemuArtifact(stream, 'stable')).toMatchObject({ release: '43.20261110.3.0', sha256: sha(xz), uncompressedSha256: sha(raw) });
    expect(awsImage(stream, 'stable', 'eu-west-1')).toEqual({ release: '43.20261110.3.0', region: 'eu-west-1', ami: 'ami-0abc1234def567890' });
    expect(gcpImage(stream, 'stable')).toMatchObject({ project: 'fedora-coreos-cloud', family: 'fedora-coreos-stable' });
    expect(() => awsImage(stream, 'stable', 'mars-north-1')).toThrow(/no AMI in mars-north-1 .*regions: eu-west-1/);
    expect(() => qemuArtifact(stream, 'stable', 'riscv64')).toThrow(/no riscv64 images/);
  });

  it('rejects unknown streams and says what to do offline', async () => {
    await expect(fetchStream('unstable')).rejects.toThrow(/unknown stream/);
    await expect(fetchStream('stable', { baseUrl: 'http://127.0.0.1:9/streams', timeoutMs: 2000 })).rejects.toThrow(/pass --image PATH/);
  });
});

describe('QEMU image download', () => {
  it('downloads with progress, verifies both checksums, decompresses, caches, and reuses the cache', async () => {
    const cacheDir = join(scratch, 'cache');
    const progress: Progress[] = [];
    const first = await ensureQemuImage({ stream: 'stable', baseUrl: `${base}/streams`, cacheDir, onProgress: (p) => progress.push(p) });
    expect(first.downloaded).toBe(true);
    expect(first.path).toBe(join(cacheDir, 'fedora-coreos-43.20261110.3.0-qemu.x86_64.qcow2'));
    expect(readFileSync(first.path).equals(raw)).toBe(true);
    expect(progress.filter((p) => p.phase === 'download').at(-1)).toEqual({ phase: 'download', bytes: xz.length, total: xz.length });
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['download', 'verify', 'decompress']));
    const before = hits;
    const second = await ensureQemuImage({ stream: 'stable', baseUrl: `${base}/streams`, cacheDir });
    expect(second).toEqual({ ...first, downloaded: false });
    expect(hits).toBe(before);
  });

  it('never keeps an image whose checksum does not match', async () => {
    const cacheDir = join(scratch, 'tampered');
    tamper = true;
    try {
      await expect(ensureQemuImage({ stream: 'stable', baseUrl: `${base}/streams`, cacheDir })).rejects.toThrow(/checksum mismatch .*discarded/);
    } finally {
      tamper = false;
    }
    expect(readdirSync(cacheDir)).toEqual([]);
    expect(existsSync(join(cacheDir, 'fedora-coreos-43.20261110.3.0-qemu.x86_64.qcow2'))).toBe(false);
  });
});

describe('QEMU image download: failures and refreshes', () => {
  const opts = (cacheDir: string) => ({ stream: 'stable', baseUrl: `${base}/streams`, cacheDir });

  it('checks the decompressed image too, and keeps nothing when it differs', async () => {
    const cacheDir = join(scratch, 'bad-uncompressed');
    uncompressedSha = '0'.repeat(64);
    try {
      await expect(ensureQemuImage(opts(cacheDir))).rejects.toThrow(/decompressed image checksum mismatch/);
    } finally {
      uncompressedSha = '';
    }
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('says what to do when the image cannot be downloaded (offline)', async () => {
    const cacheDir = join(scratch, 'offline');
    imageUrl = 'http://127.0.0.1:9/fcos.qcow2.xz';
    try {
      const err = await ensureQemuImage(opts(cacheDir)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImageError);
      expect((err as Error).message).toMatch(/cannot download http:\/\/127\.0\.0\.1:9\/fcos\.qcow2\.xz \(.+\); offline, pass --image PATH/);
      expect((err as Error).cause).toBeDefined();
    } finally {
      imageUrl = '';
    }
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('reports HTTP errors and streams without a QEMU image', async () => {
    imageUrl = `${base}/images/missing.qcow2.xz`;
    try {
      await expect(ensureQemuImage(opts(join(scratch, 'http404')))).rejects.toThrow(/HTTP 404/);
    } finally {
      imageUrl = '';
    }
    await expect(ensureQemuImage({ ...opts(join(scratch, 'next')), stream: 'next' })).rejects.toThrow(/stream next lists no qcow2\.xz QEMU image for x86_64/);
    await expect(fetchStream('testing', { baseUrl: `${base}/streams` })).rejects.toThrow(/HTTP 404/);
  });

  it('downloads a new release once the stream moves on, keeping the cached one', async () => {
    const cacheDir = join(scratch, 'moves-on');
    const old = await ensureQemuImage(opts(cacheDir));
    release = '43.20261201.3.0';
    try {
      const before = hits;
      const fresh = await ensureQemuImage(opts(cacheDir));
      expect(fresh.downloaded).toBe(true);
      expect(fresh.path).not.toBe(old.path);
      expect(hits).toBe(before + 1);
      expect(existsSync(old.path)).toBe(true);
    } finally {
      release = '43.20261110.3.0';
    }
  });

  it('offline, names the verified images already in the cache', async () => {
    const cacheDir = join(scratch, 'offline-cached');
    const cached = await ensureQemuImage(opts(cacheDir));
    const err = await ensureQemuImage({ stream: 'stable', baseUrl: 'http://127.0.0.1:9/streams', cacheDir, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/offline, pass --image PATH .*; verified images in the cache: /);
    expect((err as Error).message.endsWith(cached.path)).toBe(true);
    expect(cachedImages(cacheDir)).toEqual([cached.path]);
  });

  it('does not trust a cached image whose checksum record is missing', async () => {
    const cacheDir = join(scratch, 'no-stamp');
    const first = await ensureQemuImage(opts(cacheDir));
    rmSync(`${first.path}.sha256`);
    const before = hits;
    expect((await ensureQemuImage(opts(cacheDir))).downloaded).toBe(true);
    expect(hits).toBe(before + 1);
  });
});
