// What a provider module declares (see registry.ts): its settings, its images, its guest's disk naming, its export
// targets and its factory. A module is light: it imports no adapter and no cloud SDK (factories load them lazily).
import { CnvmError } from '../errors.js';
import type { ImageRef, Provider } from './types.js';

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

/** A data disk named the way one provider's guest sees it (`{ provider, …its own fields }`). */
export interface DataDiskRef {
  readonly provider: string;
}

/** A bad disk name (serial, deviceName, volume id): a usage error, found before anything is created. */
export class DataDiskError extends CnvmError {
  constructor(message: string) {
    super('usage', message);
  }
}

/**
 * How a provider's guest finds a data volume: the stable device path the PMM recipe mounts. Never /dev/sdX or
 * /dev/disk/by-diskseq/N: those depend on probe and attach order.
 */
export interface DiskNaming<D extends DataDiskRef = DataDiskRef> {
  /** The disk of a volume as this provider attaches it. */
  fromVolume(volume: { id: string; deviceName: string }): D;
  /** The guest's /dev/disk/by-id path; DataDiskError when the name cannot work on this platform. */
  device(disk: D): string;
  /** The disk a config rendered before any volume exists names (`cnvm generate`, butane/pmm-server.ts). */
  sample: D;
}

/** One way to export a VM of this provider (a CloudFormation template, a Terraform file, …). */
export interface ExportTargetDecl {
  /** `cloudformation`, `terraform-aws`, …: unique across providers. */
  id: string;
  /** The `cnvm export <format>` subcommand it answers. */
  format: string;
  /** What it is, in words (`a CloudFormation template`), for messages. */
  title: string;
  /** The default output file name. */
  fileName: (vm: string) => string;
  /** The renderer, loaded when exporting (the export layer's types stay out of the module). */
  load: () => Promise<{ render: (subject: never) => Record<string, unknown> }>;
}

export interface ProviderModule<D extends DataDiskRef = DataDiskRef> {
  name: string;
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
  disk: DiskNaming<D>;
  exportTargets: readonly ExportTargetDecl[];
  /** Example flags per command for help texts (`provision: '--region eu-west-1 --name pmm1'`). */
  examples: Readonly<Record<string, readonly string[]>>;
  create(settings: SettingValues): Promise<Provider>;
}

export const str = (s: SettingValues, key: string): string | undefined => (typeof s[key] === 'string' ? (s[key] as string) : undefined);
export const int = (s: SettingValues, key: string): number | undefined => (typeof s[key] === 'number' ? (s[key] as number) : undefined);
export const list = (s: SettingValues, key: string): string[] => (Array.isArray(s[key]) ? (s[key] as string[]) : typeof s[key] === 'string' ? String(s[key]).split(',') : []);
