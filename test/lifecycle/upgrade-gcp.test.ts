// The upgrade and provision fault matrices on the GCE adapter: the real client against the stateful fake Compute API.
import { describe } from 'vitest';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import { crashable } from '../support/crashable.js';
import { gcpAgainstFake } from '../support/gcp-harness.js';
import { provisionFaultMatrix, type ProvisionMatrixHarness } from './provision-matrix.js';
import { upgradeFaultMatrix } from './upgrade-matrix.js';

async function harness(): Promise<ProvisionMatrixHarness> {
  const h = await gcpAgainstFake();
  const { fake, provider } = h;
  const name = 'pmm';
  const c = crashable(provider, () => dataVolumeName(name));
  const bytes = (): Buffer => fake.disks.get(dataVolumeName(name))?.bytes ?? Buffer.alloc(0);
  return {
    provider: c.provider,
    imageA: { id: 'projects/fedora-coreos-cloud/global/images/fedora-coreos-a', version: 'A' },
    imageB: { id: 'projects/fedora-coreos-cloud/global/images/fedora-coreos-b', version: 'B' },
    name,
    crashAt: c.crashAt,
    callCount: c.callCount,
    maxAttachments: async () => c.maxHolders(),
    writeBytes: async (b) => void b.copy(bytes()),
    readBytes: async (length) => bytes().subarray(0, length),
    ignitionOf: async (vm) => fake.instances.get(vm)?.metadata.items.find((i) => i.key === 'user-data')?.value ?? '',
    cleanup: () => h.cleanup(),
  };
}

describe('upgrade fault matrix (gcp)', () => {
  upgradeFaultMatrix('gcp', { makeHarness: harness });
});

describe('provision fault matrix (gcp)', () => {
  provisionFaultMatrix('gcp', harness);
});
