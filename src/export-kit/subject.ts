// What every export target renders: one VM's desired state (the record's, with this command line's explicit
// changes, exactly as `cnvm provision` plans it), the Ignition cut at its deploy-time holes, and the stream's images.
import { DATA_DEVICE_NAME, dataVolumeName } from '../core/vm-model.js';
import type { DesiredState } from '../core/vm-model.js';
import type { ExportIgnition } from './pieces.js';
import type { StreamImages } from './images.js';

export interface ExportSubject {
  name: string;
  desired: DesiredState;
  /** True when the image was given (--image or the record); false: the stream's image is the template's default. */
  imagePinned: boolean;
  /**
   * `secret`: PMM's admin password comes from a secret at deploy time (a generated one unless the user names
   * theirs); `none`: no password is set (--allow-default-password, or --keep-password for a volume that has one).
   */
  password: 'secret' | 'none';
  ignition: ExportIgnition;
  images?: StreamImages;
}

export const volumeNameOf = (s: ExportSubject): string => dataVolumeName(s.name);
export const DEVICE_NAME = DATA_DEVICE_NAME;

/** The record's placement values, typed. */
export const placementString = (d: DesiredState, key: string): string | undefined => (typeof d.placement[key] === 'string' ? (d.placement[key] as string) : undefined);
export const placementList = (d: DesiredState, key: string): string[] => {
  const v = d.placement[key];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',').filter(Boolean) : [];
};

/** What the template says the VM is, for its metadata: no secrets (PMM_* values are left out, only their names). */
export function describeDesired(s: ExportSubject): Record<string, unknown> {
  const d = s.desired;
  return {
    name: s.name,
    image: s.imagePinned ? d.image.id : `newest of the ${s.images?.stream ?? 'stable'} stream`,
    dataSizeGiB: d.dataSizeGiB,
    ...(d.memoryMiB ? { memoryMiB: d.memoryMiB } : {}),
    ...(d.cpus ? { cpus: d.cpus } : {}),
    sshKeys: d.sshKeys.length,
    pmm: { ...(d.pmm.tag ? { tag: d.pmm.tag } : {}), ...(d.pmm.publishHttp !== undefined ? { publishHttp: d.pmm.publishHttp } : {}), envNames: Object.keys(d.pmm.env ?? {}).sort() },
    adminPassword: s.password === 'secret' ? 'from a secret at deploy time' : 'not set by the template',
  };
}

/**
 * The adapters' tags and labels without cnvm's ownership marks (`cnvm:managed`, `cnvm-managed`): the stack or the
 * Terraform state owns these resources, so cnvm's own commands never take them for theirs.
 */
export const ownTags = (tags: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(tags).filter(([k]) => !/^cnvm[:-]managed$/.test(k)));
