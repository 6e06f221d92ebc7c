// The PMM server config cnvm ships, as a typed module: `cnvm generate butane/pmm-server.ts --provider gcp`.
// butane/pmm-server.bu is its rendering for the first registered provider (libvirt) in Butane YAML, kept in sync by
// test/workload/committed.test.ts. No secret is in here: the admin password file is added when a VM is provisioned
// (pmmAdminPasswordFile).
import { fcos } from '../src/builders/index.js';
import { providerModule, providerNames, type DataDisk } from '../src/provider/registry.js';
import { pmmServer } from '../src/pmm-recipe.js';

/** The data disk's name for a provider's guest before any volume exists (each provider declares its sample). */
export const defaultDataDisk = (provider: string): DataDisk => providerModule(provider).disk.sample as DataDisk;

export default function config({ provider = providerNames()[0] ?? '' }: { provider?: string } = {}) {
  const { fragment } = pmmServer({
    dataDisk: defaultDataDisk(provider),
    adminPassword: 'later',
    env: { PMM_ENABLE_UPDATES: 'false', PMM_DATA_RETENTION: '720h' },
    sshAuthorizedKeys: [],
  });
  return fcos(fragment, '1.4.0');
}
