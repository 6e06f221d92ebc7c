// The provider registry: one module per provider (src/provider/<name>/module.ts) declares its settings (profile
// keys and flags), what its image is and how it resolves one from a stream, how its guest names the data disk, its
// export targets, its help examples and its factory. The CLI's help, the settings schema, the VM record's placement,
// image lookup, the PMM recipe's disk and `cnvm export` all come from here; code outside src/provider/ never
// switches on a provider's name. Adding a provider: its folder and one line in PROVIDER_MODULES (README.md here).
// Nothing here imports an adapter or a cloud SDK: factories import them lazily.
import { awsModule } from './aws/module.js';
import { digitaloceanModule } from './digitalocean/module.js';
import { gcpModule } from './gcp/module.js';
import { libvirtModule } from './libvirt/module.js';
import type { DataDiskRef, ExportTargetDecl, ProviderModule } from './module.js';
import { CnvmError } from '../errors.js';

export type { DataDiskRef, DiskNaming, ExportTargetDecl, ImageLog, ProviderModule, ProviderSettingDecl, SettingValues } from './module.js';
export { DataDiskError } from './module.js';

export const PROVIDER_MODULES = [libvirtModule, awsModule, gcpModule, digitaloceanModule] as const;

/** A data disk as one of the registered providers names it, e.g. `{ provider: 'gcp', deviceName: 'pmm-data' }`. */
export type DataDisk = (typeof PROVIDER_MODULES)[number]['disk']['sample'];

const modules: readonly ProviderModule[] = PROVIDER_MODULES as unknown as readonly ProviderModule[];

export const providerNames = (): string[] => modules.map((m) => m.name);

export function providerModule(name: string): ProviderModule {
  const m = modules.find((p) => p.name === name);
  if (!m) throw new CnvmError('usage', `--provider: unknown provider ${JSON.stringify(name)} (${providerNames().join(', ')})`);
  return m;
}

/** Every provider's settings, once each by key (shared keys such as `zone` are declared alike). */
export function allProviderSettings(): ProviderModule['settings'] {
  const seen = new Map<string, ProviderModule['settings'][number]>();
  for (const m of modules) for (const s of m.settings) if (!seen.has(s.key)) seen.set(s.key, s);
  return [...seen.values()];
}

/** The guest's stable device path of a data disk, checked with its provider's rules. */
export function dataDiskDevice(disk: DataDisk | DataDiskRef): string {
  const m = modules.find((p) => p.name === disk.provider);
  if (!m) throw new CnvmError('usage', `data disk: unknown provider ${JSON.stringify(disk.provider)} (${providerNames().join(', ')})`);
  return m.disk.device(disk);
}

/** How a provider's guest names a volume attached as the data disk. */
export const dataDiskOf = (providerName: string, volume: { id: string; deviceName: string }): DataDisk => providerModule(providerName).disk.fromVolume(volume) as DataDisk;

/** The stable path under which a provider's guest sees a volume attached as the data disk (what the recipe mounts). */
export function dataDevicePath(providerName: string, volume: { id: string; deviceName: string }): string {
  const { disk } = providerModule(providerName);
  return disk.device(disk.fromVolume(volume));
}

/** Every provider's export targets, with the provider they belong to. */
export const exportTargets = (): (ExportTargetDecl & { provider: string })[] => modules.flatMap((m) => m.exportTargets.map((t) => ({ ...t, provider: m.name })));
