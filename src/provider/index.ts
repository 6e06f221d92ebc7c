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
    case 'aws':
    case 'gcp':
      throw new ProviderError('invalid', `the ${name} provider is not available in this version of cnvm yet (libvirt is); see the project's open issues`);
    default:
      throw new ProviderError('invalid', `unknown provider ${JSON.stringify(name)} (${PROVIDERS.join(', ')})`);
  }
}
