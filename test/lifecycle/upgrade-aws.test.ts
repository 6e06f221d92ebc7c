// The upgrade fault matrix on the EC2 adapter: the real client against the stateful fake EC2 API.
import { describe } from 'vitest';
import { dataVolumeName } from '../../src/lifecycle/names.js';
import { awsAgainstFake } from '../support/aws-harness.js';
import { crashable } from '../support/crashable.js';
import { upgradeFaultMatrix } from './upgrade-matrix.js';

describe('upgrade fault matrix (aws)', () => {
  upgradeFaultMatrix('aws', {
    makeHarness: async () => {
      const { fake, provider } = await awsAgainstFake();
      const name = 'pmm';
      const volumeId = (): string => [...fake.volumes.values()].find((v) => v.tags.some((t) => t.key === 'Name' && t.value === dataVolumeName(name)))?.id ?? '';
      const c = crashable(provider, volumeId);
      const bytes = (): Buffer => fake.volumes.get(volumeId())?.bytes ?? Buffer.alloc(0);
      return {
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
    },
  });
});
