// What a provider module declares (see registry.ts).
import type { ImageRef, Provider, ProviderName } from './types.js';

export interface ProviderSettingDecl {
  /** The profile key (providers/<provider>.yaml, hosts/<name>.yaml). */
  key: string;
  /** The command-line flag, without dashes. */
  flag: string;
  help: string;
  type: 'string' | 'int' | 'strings';
  /**
   * Where the VM and its data volume live (connection, storage directory, project, region, zone): fixed for the
   * VM's life, so upgrade refuses to change it.
   */
  location?: boolean;
  /** Not part of the VM's desired state (how long to wait, …): never recorded, never a change. */
  transient?: boolean;
  /** A local path: a relative one is taken from the working directory (made absolute before it is recorded). */
  path?: boolean;
}

export type SettingValues = Record<string, string | number | string[]>;
export type ImageLog = (line: string) => void;

export interface ProviderModule {
  name: ProviderName;
  /** One line for help texts. */
  summary: string;
  settings: ProviderSettingDecl[];
  /** What `--image` names for this provider, for help and errors. */
  imageHelp: string;
  /** Shown in a dry run's plan where the image is resolved only when applying. */
  imagePlaceholder(stream: string): string;
  /** The newest image of a Fedora CoreOS stream, downloaded/verified where the provider needs a local file. */
  resolveImage(stream: string, settings: SettingValues, log: ImageLog): Promise<ImageRef>;
  /** An image named by --image, checked for this provider's shape. */
  imageFromFlag(value: string): ImageRef;
  create(settings: SettingValues): Promise<Provider>;
}

export const str = (s: SettingValues, key: string): string | undefined => (typeof s[key] === 'string' ? (s[key] as string) : undefined);
export const int = (s: SettingValues, key: string): number | undefined => (typeof s[key] === 'number' ? (s[key] as number) : undefined);
export const list = (s: SettingValues, key: string): string[] => (Array.isArray(s[key]) ? (s[key] as string[]) : typeof s[key] === 'string' ? String(s[key]).split(',') : []);
