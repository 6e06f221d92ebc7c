// The upgrade and provision fault matrices on the DigitalOcean adapter, against the stateful fake API v2: a kill
// before or after every mutating call, then a resume, loses nothing and never attaches the volume twice.
import { describe } from 'vitest';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import { crashable } from '../support/crashable.js';
import { doAgainstFake, volumeBytes } from '../support/do-harness.js';
import { provisionFaultMatrix, type ProvisionMatrixHarness } from './provision-matrix.js';
import { upgradeFaultMatrix } from './upgrade-matrix.js';

async function harness(): Promise<ProvisionMatrixHarness> {
  const h = await doAgainstFake();
  const { fake, provider } = h;
  const name = 'pmm';
  const c = crashable(provider, () => dataVolumeName(name));
  return {
    provider: c.provider,
    imageA: { id: '1001', version: 'A' },
    imageB: { id: '1002', version: 'B' },
    name,
    crashAt: c.crashAt,
    callCount: c.callCount,
    maxAttachments: async () => c.maxHolders(),
    writeBytes: async (b) => void b.copy(volumeBytes(fake, dataVolumeName(name))),
    readBytes: async (length) => volumeBytes(fake, dataVolumeName(name)).subarray(0, length),
    ignitionOf: async (vm) => fake.droplet(vm)?.user_data ?? '',
    cleanup: () => h.cleanup(),
  };
}

describe('upgrade fault matrix (digitalocean)', () => {
  upgradeFaultMatrix('digitalocean', { makeHarness: harness });
});

describe('provision fault matrix (digitalocean)', () => {
  provisionFaultMatrix('digitalocean', harness);
});
