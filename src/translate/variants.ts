// Fields a variant's Ignition cannot act on, reported on the translated output like butane does: Flatcar has no
// Clevis before 1.2.0-experimental and no CEX from then on; RHEL for Edge manages disks, filesystems, LUKS, RAID
// and kernel arguments itself.
import type { ButaneSpec } from '../butane/versions.js';
import type { ConfigPath, ReportEntry } from '../report.js';
import { isObject, type JsonObject } from './base.js';

export const ERR_CLEVIS_SUPPORT = 'clevis is not supported in this spec version';
export const ERR_CEX_SUPPORT = 'cex is not currently supported on the target platform';
const R4E_FORBIDDEN: [ConfigPath, string][] = [
  [['kernelArguments'], 'kernel argument customization is not supported in this spec version'],
  [['storage', 'disks'], 'disk customization is not supported in this spec version'],
  [['storage', 'filesystems'], 'filesystem customization is not supported in this spec version'],
  [['storage', 'luks'], 'luks is not supported in this spec version'],
  [['storage', 'raid'], 'raid is not supported in this spec version'],
];

export function variantChecks(config: JsonObject, spec: ButaneSpec): ReportEntry[] {
  const entries: ReportEntry[] = [];
  const storage = isObject(config.storage) ? config.storage : {};
  if (spec.variant === 'flatcar') {
    // Flatcar 1.2.0-experimental gained Clevis; CEX is what it cannot do there.
    const [field, message] = spec.base >= 8 ? ['cex', ERR_CEX_SUPPORT] : ['clevis', ERR_CLEVIS_SUPPORT];
    const luks = Array.isArray(storage.luks) ? storage.luks : [];
    luks.forEach((l, i) => {
      const value = isObject(l) ? l[field] : undefined;
      if (isObject(value) && Object.keys(value).length > 0) entries.push({ kind: 'error', path: ['storage', 'luks', i, field], message });
    });
  }
  if (spec.variant === 'r4e') {
    for (const [path, message] of R4E_FORBIDDEN) {
      let node: unknown = config;
      for (const part of path) node = isObject(node) ? node[part as string] : undefined;
      const used = Array.isArray(node) ? node.length > 0 : isObject(node) && Object.values(node).some((v) => Array.isArray(v) && v.length > 0);
      if (used) entries.push({ kind: 'error', path, message });
    }
  }
  return entries;
}
