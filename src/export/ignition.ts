// The Ignition config of an exported VM: rendered by the lifecycle's own renderVmConfig from the same desired state
// `cnvm provision` plans from, with two values the template engine fills in at deploy time:
// - the data volume's id (EC2: the guest finds the disk by its NVMe serial, which is the volume id without its
//   dash, and a template only learns the id when the volume exists);
// - the PMM admin password (never written into a template: it comes from a secret at deploy time).
// Each is rendered as a sentinel of the same shape the recipe validates, then the text is cut at the sentinels, so a
// template joins literal pieces with its own expressions. Nothing else differs from what provision renders.
import { renderConfigFor } from '../lifecycle/config.js';
import { DATA_DEVICE_NAME } from '../lifecycle/names.js';
import type { DesiredState } from '../lifecycle/record.js';
import { CnvmError } from '../errors.js';
import { cutAtHoles, PASSWORD_SENTINEL, VOLUME_ID_SENTINEL, type ExportIgnition } from '../export-kit/pieces.js';

export { fillIgnition, fitUserData, holesOf, PASSWORD_SENTINEL, splitForMerge, VOLUME_ID_SENTINEL, VOLUME_SERIAL_SENTINEL } from '../export-kit/pieces.js';
export type { ExportIgnition, Hole, IgnitionPiece } from '../export-kit/pieces.js';


/** The data disk's path in the guest on an export target's platform: its provider module's disk naming. */
export type GuestDisk = (volume: { id: string; deviceName: string }) => string;

export interface IgnitionOptions {
  disk: GuestDisk;
  /** Render the recipe's one-time password file (filled from a secret at deploy time). */
  withPassword: boolean;
}

export async function renderExportIgnition(desired: DesiredState, options: IgnitionOptions): Promise<ExportIgnition> {
  // Only the provider's device naming is needed, so no adapter (and no SDK) is loaded here.
  const disk = options.disk({ id: VOLUME_ID_SENTINEL, deviceName: DATA_DEVICE_NAME });
  const rendered = await renderConfigFor(disk, desired, options.withPassword ? PASSWORD_SENTINEL : undefined);
  const text = rendered.ignition;
  if (options.withPassword && !text.includes(PASSWORD_SENTINEL)) {
    throw new CnvmError('usage', 'the PMM recipe did not write the admin password file as plain text; the export cannot fill it from a secret');
  }
  const pieces = cutAtHoles(text);
  return { pieces, text, warnings: rendered.warnings };
}

