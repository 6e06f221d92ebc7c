// How cnvm names the resources of one PMM VM, the same for every provider. An upgrade creates the next
// generation (`NAME-g2`, `NAME-g3`, …). Which VMs are NAME's generations is never guessed from the names: it is
// the record's list, and the owner label each VM carries; `-gN` names are reserved so no VM of its own can look
// like another's generation.
import { CnvmError } from '../errors.js';

export { DATA_DEVICE_NAME, dataVolumeName } from '../core/vm-model.js';
/** The stable address reserved for a VM on providers that reserve one (`<name>-address`, ≤ 61 characters). */
export const addressName = (vm: string): string => `${vm}-address`;

export const generationName = (name: string, generation: number): string => (generation <= 1 ? name : `${name}-g${generation}`);

/**
 * A name every provider accepts for the VM, its generations and its volume (GCE: lowercase, starts with a
 * letter, ≤ 63 with the `-gNNN` and `-data` suffixes), and not one that looks like another VM's generation.
 */
export function validateVmName(name: string): void {
  if (!/^[a-z]([a-z0-9-]{0,50}[a-z0-9])?$/.test(name)) {
    throw new CnvmError('usage', `--name ${JSON.stringify(name)}: use 1-52 lowercase letters, digits and dashes, starting with a letter and not ending with a dash`);
  }
  if (/-g\d+$/.test(name)) throw new CnvmError('usage', `--name ${name}: names ending in -g<number> are reserved for the generations cnvm upgrade creates`);
}

/** `20G`, `20GiB`, `20Gi`, `512M` → whole GiB. A size that is not a whole number of GiB is refused, not rounded. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(G|GB|GiB|Gi|M|MB|MiB|Mi|T|TB|TiB|Ti)?$/i.exec(text.trim());
  if (!m) throw new CnvmError('usage', `invalid size ${JSON.stringify(text)}: use e.g. 20G`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'G').toUpperCase()[0];
  const gib = unit === 'T' ? n * 1024 : unit === 'M' ? n / 1024 : n;
  if (!Number.isInteger(gib)) throw new CnvmError('usage', `size ${text} is not a whole number of GiB (volumes are sized in GiB): use e.g. ${Math.ceil(gib)}G`);
  if (gib < 1) throw new CnvmError('usage', `size ${text} is below 1 GiB`);
  return gib;
}
