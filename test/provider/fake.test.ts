// The conformance suite on the in-memory provider the lifecycle tests use, in both addressing modes: the fake
// must keep the same rules as the real adapters, or lifecycle tests on it would prove nothing.
import { createFakeProvider, type FakeProvider } from '../support/fake-provider.js';
import { runProviderConformance, type ConformanceHarness } from './conformance.js';

function harness(fake: FakeProvider, prefix: string): ConformanceHarness {
  return {
    provider: fake,
    image: { id: 'image-a', version: 'A' },
    prefix,
    writeBytes: async (volume, bytes) => void bytes.copy(fake.volumeBytes(volume.id)),
    readBytes: async (volume, length) => Buffer.from(fake.volumeBytes(volume.id).subarray(0, length)),
    cleanup: async () => {},
  };
}

runProviderConformance('in-memory fake (implicit addresses)', async () => harness(createFakeProvider({ leases: true }), 'conf'));
runProviderConformance('in-memory fake (reserved addresses)', async () => harness(createFakeProvider({ addressing: 'reserved', leases: true }), 'conf'));
