// The PMM server config cnvm ships, as a typed module: `cnvm generate butane/pmm-server.ts --provider gcp`.
// butane/pmm-server.bu is its libvirt rendering in Butane YAML, kept in sync by test/workload/committed.test.ts.
// No secret is in here: the admin password file is added when a VM is provisioned (pmmAdminPasswordFile).
import { fcos } from '../src/builders/index.js';
import type { DataDisk } from '../src/workload/data-disk.js';
import { pmmServer } from '../src/workload/pmm-server.js';

export type Provider = 'libvirt' | 'gcp' | 'aws';

/** The data disk's name per provider: the libvirt serial and the GCE deviceName are chosen by cnvm. */
export function defaultDataDisk(provider: Provider, awsVolumeId = 'vol-0123456789abcdef0'): DataDisk {
  switch (provider) {
    case 'libvirt':
      return { provider, serial: 'pmm-data' };
    case 'gcp':
      return { provider, deviceName: 'pmm-data' };
    case 'aws':
      // The real id is known only once the volume exists; cnvm provision substitutes it.
      return { provider, volumeId: awsVolumeId };
  }
}

export default function config({ provider = 'libvirt' }: { provider?: string } = {}) {
  if (provider !== 'libvirt' && provider !== 'gcp' && provider !== 'aws') {
    throw new Error(`unknown provider ${JSON.stringify(provider)} (libvirt, gcp, aws)`);
  }
  const { fragment } = pmmServer({
    dataDisk: defaultDataDisk(provider),
    adminPassword: 'later',
    env: { PMM_ENABLE_UPDATES: 'false', PMM_DATA_RETENTION: '720h' },
    sshAuthorizedKeys: [],
  });
  return fcos(fragment, '1.4.0');
}
