// Shared inputs of the export tests: one desired state (what `cnvm provision` would record), the fixture stream.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DesiredState } from '../../src/lifecycle/record.js';
import { streamImages, type StreamImages } from '../../src/export/index.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/export/', import.meta.url));
export const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq2lHhXhd5pN0yq4k1m1Hq2sFfTx2m9kQm2zjv4cY2b ops@example';

export const streamFixture = (): unknown => JSON.parse(readFileSync(`${FIXTURES}stream-stable.json`, 'utf8'));
export const fixtureImages = (): StreamImages => streamImages(streamFixture(), 'stable');

export function desired(placement: DesiredState['placement'] = {}, image = '<FCOS stable>'): DesiredState {
  return {
    image: { id: image },
    dataSizeGiB: 30,
    sshKeys: [SSH_KEY],
    pmm: { tag: '3.4.1', env: { PMM_DATA_RETENTION: '720h' }, publishHttp: false },
    placement,
  };
}
