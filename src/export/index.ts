// The export layer: from one VM's desired state to a CloudFormation template or a Terraform/OpenTofu JSON file.
// Pure functions (no I/O, no cloud SDK); the CLI gathers the inputs (flags, profile, record, stream metadata).
// The targets are declared by the provider modules (src/provider/<name>/module.ts), which also name the data disk
// the way their platform's guest sees it: the Ignition config mounts the disk by that name.
import { CnvmError } from '../errors.js';
import type { DesiredState } from '../lifecycle/record.js';
import { dataDevicePath, exportTargets as declaredTargets, providerModule } from '../provider/registry.js';
import { renderExportIgnition, type GuestDisk } from './ignition.js';
import type { StreamImages } from '../export-kit/images.js';
import type { ExportSubject } from '../export-kit/subject.js';

export interface ExportTarget {
  /** `cloudformation`, `terraform-<provider>`, …: declared by the provider's module. */
  id: string;
  /** The `cnvm export <format>` subcommand. */
  format: string;
  /** The cnvm provider whose settings (profile, flags, record) describe the VM. */
  provider: string;
  /** What it is, in words (`a CloudFormation template`). */
  title: string;
  /** The default output file name. */
  fileName: (vm: string) => string;
  /** The provider's own disk naming (its module's), so the export and the adapter can never disagree. */
  disk: GuestDisk;
  load: () => Promise<{ render: (s: ExportSubject) => Record<string, unknown> }>;
}

/** Every provider's export targets, from the registry. */
export const exportTargets = (): ExportTarget[] =>
  declaredTargets().map((t) => ({ ...t, disk: (volume) => dataDevicePath(t.provider, volume), load: t.load as ExportTarget['load'] }));

/** The `cnvm export` subcommands, in registry order. */
export const exportFormats = (): string[] => [...new Set(exportTargets().map((t) => t.format))];

export function exportTarget(id: string): ExportTarget {
  const targets = exportTargets();
  const t = targets.find((x) => x.id === id);
  if (!t) throw new CnvmError('usage', `unknown export target ${JSON.stringify(id)} (${targets.map((x) => x.id).join(', ')})`);
  return t;
}

/** The target of `cnvm export <format>` for a provider; without --provider, the only provider that has the format. */
export function exportTargetFor(format: string, provider: string | undefined): ExportTarget {
  const targets = exportTargets().filter((t) => t.format === format);
  const owners = targets.map((t) => t.provider);
  if (provider === undefined) {
    if (targets.length === 1 && targets[0]) return targets[0];
    throw new CnvmError('usage', `--provider is required (${owners.join(', ')})`);
  }
  const t = targets.find((x) => x.provider === provider);
  if (t) return t;
  providerModule(provider); // an unknown --provider: the same message and exit code as provision
  throw new CnvmError('usage', `--provider ${provider}: ${targets[0]?.title ?? format} is for ${owners.join(', ')}`);
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
  const { render } = await target.load();
  return { document: render(subject), warnings: subject.ignition.warnings, subject };
}

export type { ExportSubject } from '../export-kit/subject.js';
export type { StreamImages } from '../export-kit/images.js';
export { streamImages } from '../export-kit/images.js';
export { fillIgnition, PASSWORD_SENTINEL, VOLUME_ID_SENTINEL } from './ignition.js';
