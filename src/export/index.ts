// The export layer: from one VM's desired state to a CloudFormation template or a Terraform/OpenTofu JSON file.
// Pure functions (no I/O, no cloud SDK); the CLI gathers the inputs (flags, profile, record, stream metadata).
// Each target declares how its platform's guest names the data disk: the same rules as the provider adapters'
// `dataDisk()` (test/export checks they agree), because the Ignition config mounts the disk by that name.
import { CnvmError } from '../errors.js';
import type { DesiredState } from '../lifecycle/record.js';
import { cloudFormationTemplate } from './cloudformation.js';
import { renderExportIgnition, type GuestDisk } from './ignition.js';
import type { StreamImages } from './images.js';
import type { ExportSubject } from './subject.js';
import { terraformAws } from './terraform-aws.js';
import { terraformGcp } from './terraform-gcp.js';
import { terraformLibvirt } from './terraform-libvirt.js';

export interface ExportTarget {
  /** `cloudformation`, `terraform-aws`, … */
  id: string;
  /** The cnvm provider whose settings (profile, flags, record) describe the VM. */
  provider: string;
  /** The default output file name. */
  fileName: (vm: string) => string;
  disk: GuestDisk;
  render: (s: ExportSubject) => Record<string, unknown>;
}

export const EXPORT_TARGETS: readonly ExportTarget[] = [
  { id: 'cloudformation', provider: 'aws', fileName: (vm) => `${vm}.cfn.json`, disk: (v) => ({ provider: 'aws', volumeId: v.id }), render: cloudFormationTemplate },
  { id: 'terraform-aws', provider: 'aws', fileName: (vm) => `${vm}.tf.json`, disk: (v) => ({ provider: 'aws', volumeId: v.id }), render: terraformAws },
  { id: 'terraform-gcp', provider: 'gcp', fileName: (vm) => `${vm}.tf.json`, disk: (v) => ({ provider: 'gcp', deviceName: v.deviceName }), render: terraformGcp },
  { id: 'terraform-libvirt', provider: 'libvirt', fileName: (vm) => `${vm}.tf.json`, disk: (v) => ({ provider: 'libvirt', serial: v.deviceName }), render: terraformLibvirt },
];

export function exportTarget(id: string): ExportTarget {
  const t = EXPORT_TARGETS.find((x) => x.id === id);
  if (!t) throw new CnvmError('usage', `unknown export target ${JSON.stringify(id)} (${EXPORT_TARGETS.map((x) => x.id).join(', ')})`);
  return t;
}

export interface ExportInput {
  name: string;
  desired: DesiredState;
  imagePinned: boolean;
  password: ExportSubject['password'];
  images?: StreamImages;
}

export async function exportSubject(target: ExportTarget, input: ExportInput): Promise<ExportSubject> {
  const ignition = await renderExportIgnition(input.desired, { disk: target.disk, withPassword: input.password === 'secret' });
  return { ...input, ignition, ...(input.images ? { images: input.images } : {}) };
}

/** The template document and the warnings of the rendered config. */
export async function exportVm(targetId: string, input: ExportInput): Promise<{ document: Record<string, unknown>; warnings: string[]; subject: ExportSubject }> {
  const target = exportTarget(targetId);
  const subject = await exportSubject(target, input);
  return { document: target.render(subject), warnings: subject.ignition.warnings, subject };
}

export type { ExportSubject } from './subject.js';
export type { StreamImages } from './images.js';
export { streamImages } from './images.js';
export { fillIgnition, PASSWORD_SENTINEL, VOLUME_ID_SENTINEL } from './ignition.js';
