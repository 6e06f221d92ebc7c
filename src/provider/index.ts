// Picks the adapter for `--provider`. Each adapter lives in its own module and is imported only when chosen, so a
// cloud SDK is never loaded for another provider (or for rendering a config).
import { ProviderError } from './errors.js';
import type { Provider, ProviderName } from './types.js';

export interface ProviderSettings {
  /** libvirt connection URI. */
  connect?: string;
  /** libvirt: where volumes and VM files live. */
  storageDir?: string;
  /** libvirt network, or `none`. */
  network?: string;
  shutdownTimeoutSec?: number;
  /** GCE: project, zone, machine type, network and subnetwork. */
  project?: string;
  zone?: string;
  machineType?: string;
  subnet?: string;
}

export const PROVIDERS: readonly ProviderName[] = ['libvirt', 'aws', 'gcp'];

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDERS as readonly string[]).includes(name);
}

export async function createProvider(name: string, settings: ProviderSettings = {}): Promise<Provider> {
  switch (name) {
    case 'libvirt': {
      const { createLibvirtProvider } = await import('./libvirt.js');
      return createLibvirtProvider({
        ...(settings.connect ? { uri: settings.connect } : {}),
        ...(settings.storageDir ? { storageDir: settings.storageDir } : {}),
        ...(settings.network ? { network: settings.network === 'none' ? null : settings.network } : {}),
        ...(settings.shutdownTimeoutSec !== undefined ? { shutdownTimeoutSec: settings.shutdownTimeoutSec } : {}),
      });
    }
    case 'gcp': {
      if (!settings.project || !settings.zone) throw new ProviderError('invalid', 'the gcp provider needs a project and a zone (profile keys `project`, `zone`, or --project/--zone)');
      const { createGcpProvider } = await import('./gcp.js');
      // CNVM_GCE_ENDPOINT points the client at another Compute API endpoint without credentials (the tests' fake).
      const endpoint = process.env.CNVM_GCE_ENDPOINT;
      let clientOptions: Record<string, unknown> | undefined;
      if (endpoint) {
        const url = new URL(endpoint);
        const { PassThroughClient } = await import('google-auth-library');
        clientOptions = { apiEndpoint: url.hostname, port: Number(url.port), protocol: url.protocol.replace(':', ''), authClient: new PassThroughClient() };
      }
      return createGcpProvider({
        project: settings.project,
        zone: settings.zone,
        ...(settings.machineType ? { machineType: settings.machineType } : {}),
        ...(settings.network && settings.network !== 'none' ? { network: settings.network } : {}),
        ...(settings.subnet ? { subnetwork: settings.subnet } : {}),
        ...(clientOptions ? { clientOptions, pollIntervalMs: 10 } : {}),
      });
    }
    case 'aws':
      throw new ProviderError('invalid', `the ${name} provider is not available in this version of cnvm yet (libvirt and gcp are); see the project's open issues`);
    default:
      throw new ProviderError('invalid', `unknown provider ${JSON.stringify(name)} (${PROVIDERS.join(', ')})`);
  }
}
