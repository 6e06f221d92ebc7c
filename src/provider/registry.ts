// The provider registry: one module per provider declares its settings (profile keys and flags), what its image
// is, how it resolves one from a stream, and its factory. The CLI's help, the settings schema, the VM record's
// placement and image lookup all come from here; code outside src/provider/ never switches on a provider's name.
// Adding a provider: its adapter, its module file, its tests, and one line in PROVIDER_MODULES.
// Nothing here imports an adapter or a cloud SDK: factories import them lazily.
import { awsModule } from './aws/module.js';
import { digitaloceanModule } from './digitalocean/module.js';
import { gcpModule } from './gcp/module.js';
import { libvirtModule } from './libvirt/module.js';
import type { ProviderModule } from './module.js';
import { CnvmError } from '../errors.js';

export type { ImageLog, ProviderModule, ProviderSettingDecl, SettingValues } from './module.js';

export const PROVIDER_MODULES: readonly ProviderModule[] = [libvirtModule, awsModule, gcpModule, digitaloceanModule];

export const providerNames = (): string[] => PROVIDER_MODULES.map((m) => m.name);

export function providerModule(name: string): ProviderModule {
  const m = PROVIDER_MODULES.find((p) => p.name === name);
  if (!m) throw new CnvmError('usage', `--provider: unknown provider ${JSON.stringify(name)} (${providerNames().join(', ')})`);
  return m;
}

/** Every provider's settings, once each by key (shared keys such as `zone` are declared alike). */
export function allProviderSettings(): ProviderModule['settings'] {
  const seen = new Map<string, ProviderModule['settings'][number]>();
  for (const m of PROVIDER_MODULES) for (const s of m.settings) if (!seen.has(s.key)) seen.set(s.key, s);
  return [...seen.values()];
}
