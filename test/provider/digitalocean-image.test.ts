// Fedora CoreOS's DigitalOcean image: read from stream metadata, imported once per region and release against the
// fake API v2 (an import is NEW until polled), reused afterwards, and found rather than imported twice when the
// create's reply is lost.
import { afterEach, describe, expect, it } from 'vitest';
import { doApi } from '../../src/provider/digitalocean/api.js';
import { doStreamImage, importDoImage } from '../../src/provider/digitalocean/image.js';
import { ProviderError } from '../../src/provider/errors.js';
import { startFakeDo, type FakeDo } from '../support/fake-do.js';

// The shape of builds.coreos.fedoraproject.org/streams/stable.json, cut to the DigitalOcean artifact.
const STREAM = {
  stream: 'stable',
  architectures: {
    x86_64: {
      artifacts: {
        digitalocean: {
          release: '43.20261110.3.0',
          formats: { 'qcow2.gz': { disk: { location: 'https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/43.20261110.3.0/x86_64/fedora-coreos-43.20261110.3.0-digitalocean.x86_64.qcow2.gz', sha256: 'ab'.repeat(32) } } },
        },
      },
    },
  },
};

let fake: FakeDo | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const api = (f: FakeDo) => doApi({ endpoint: f.url, token: f.token, pollIntervalMs: 1, retry: { baseMs: 2, capMs: 10, budgetMs: 500 } });
const imports = (f: FakeDo): number => f.log.filter((l) => l === 'POST /v2/images').length;

describe('digitalocean image', () => {
  it('reads the artifact, or says the stream has none', () => {
    expect(doStreamImage(STREAM, 'stable')).toMatchObject({ release: '43.20261110.3.0', location: expect.stringMatching(/digitalocean\.x86_64\.qcow2\.gz$/) });
    expect(() => doStreamImage({ architectures: { x86_64: { artifacts: {} } } }, 'next')).toThrow(ProviderError);
  });

  it('imports once per region and release, waits until available, and reuses it', async () => {
    fake = await startFakeDo({ images: [] });
    const lines: string[] = [];
    const artifact = doStreamImage(STREAM, 'stable');
    const o = { stream: 'stable', region: 'fra1', log: (l: string) => lines.push(l), pollMs: 1 };
    const first = await importDoImage(api(fake), artifact, o);
    expect(first.version).toBe('43.20261110.3.0');
    const img = fake.images.get(Number(first.id));
    expect(img).toMatchObject({ name: 'fedora-coreos-43.20261110.3.0-fra1', status: 'available', url: artifact.location, regions: ['fra1'] });
    expect(await importDoImage(api(fake), artifact, o)).toEqual(first);
    expect(imports(fake)).toBe(1);
    // Another region: its own import.
    const other = await importDoImage(api(fake), artifact, { ...o, region: 'ams3' });
    expect(other.id).not.toBe(first.id);
    expect(imports(fake)).toBe(2);
    expect(lines.filter((l) => l.startsWith('image: importing'))).toHaveLength(2);
  });

  it('a lost reply of the import is found by name, not imported twice', async () => {
    fake = await startFakeDo({ images: [] });
    fake.injectFault({ match: /^POST \/v2\/images$/, lost: true, times: 1 });
    const ref = await importDoImage(api(fake), doStreamImage(STREAM, 'stable'), { stream: 'stable', region: 'fra1', log: () => undefined, pollMs: 1 });
    expect(fake.faultsServed).toContain('lost POST /v2/images');
    expect(imports(fake)).toBe(1);
    expect(fake.images.size).toBe(1);
    expect(fake.images.get(Number(ref.id))?.status).toBe('available');
  });
});
