// Picks the adapter for `--provider` through the registry. Each adapter lives in its own module and is imported
// only when chosen, so a cloud SDK is never loaded for another provider (or for rendering a config).
import { providerModule, type SettingValues } from './registry.js';
import type { Provider } from './types.js';

export { PROVIDER_MODULES, providerModule, providerNames, allProviderSettings } from './registry.js';
export type { ProviderModule, ProviderSettingDecl, SettingValues } from './registry.js';

export async function createProvider(name: string, settings: SettingValues = {}): Promise<Provider> {
  return providerModule(name).create(settings);
}
