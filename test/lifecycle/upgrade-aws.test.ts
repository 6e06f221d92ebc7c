// The upgrade fault matrix on the EC2 adapter: the real client against the stateful fake EC2 API.
import { describe } from 'vitest';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import { awsAgainstFake } from '../support/aws-harness.js';
import { crashable } from '../support/crashable.js';
import { provisionFaultMatrix, type ProvisionMatrixHarness } from './provision-matrix.js';
import { upgradeFaultMatrix, type MatrixHarness } from './upgrade-matrix.js';

async function harness(): Promise<ProvisionMatrixHarness> {
  const { fake, provider } = await awsAgainstFake();
  const name = 'pmm';
  const volumeId = (): string => [...fake.volumes.values()].find((v) => v.tags.some((t) => t.key === 'Name' && t.value === dataVolumeName(name)))?.id ?? '';
  const c = crashable(provider, volumeId);
  const bytes = (): Buffer => fake.volumes.get(volumeId())?.bytes ?? Buffer.alloc(0);
  const h: MatrixHarness = {
    provider: c.provider,
    imageA: { id: 'ami-0aaaaaaaaaaaaaaaa', version: 'A' },
    imageB: { id: 'ami-0bbbbbbbbbbbbbbbb', version: 'B' },
    name,
    crashAt: c.crashAt,
    callCount: c.callCount,
    maxAttachments: async () => c.maxHolders(),
    writeBytes: async (b) => void b.copy(bytes()),
    readBytes: async (length) => bytes().subarray(0, length),
    cleanup: () => fake.close(),
  };
  const ignitionOf = async (vm: string): Promise<string> => {
    const inst = [...fake.instances.values()].find((i) => i.tags.some((t) => t.key === 'Name' && t.value === vm));
    return Buffer.from(inst?.userData ?? '', 'base64').toString('utf8');
  };
  return { ...h, ignitionOf };
}

describe('upgrade fault matrix (aws)', () => {
  upgradeFaultMatrix('aws', { makeHarness: harness });
});

describe('provision fault matrix (aws)', () => {
  provisionFaultMatrix('aws', harness);
});
