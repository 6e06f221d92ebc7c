// Ignition's config merge, as butane uses it to lay the user's config over what it generates (mount units,
// boot_device partitions/RAID/filesystems, GRUB files): generated entries come first; a user entry with the same
// key (unit name, file path, disk device, …) is merged into the generated one field by field; the rest follow.
import type { ConfigPath } from '../report.js';
import { pathKey } from '../core/yaml.js';

type Json = unknown;
type KeyFn = (item: Json) => string | undefined;

const byField =
  (field: string): KeyFn =>
  (item) => {
    if (item && typeof item === 'object') {
      const v = (item as Record<string, unknown>)[field];
      return typeof v === 'string' ? `${field}:${v}` : undefined;
    }
    return undefined;
  };
const byValue: KeyFn = (item) => (typeof item === 'string' || typeof item === 'number' ? `v:${String(item)}` : undefined);
const partitionKey: KeyFn = (item) => {
  const p = item as Record<string, unknown> | null;
  if (!p || typeof p !== 'object') return undefined;
  if (typeof p.number === 'number' && p.number !== 0) return `number:${p.number}`;
  if (typeof p.label === 'string') return `label:${p.label}`;
  return undefined;
};

/** How entries of each list are matched, by the list's path with indexes replaced by `*`. */
const LIST_KEYS: Record<string, KeyFn> = {
  'ignition.config.merge': byField('source'),
  'ignition.security.tls.certificateAuthorities': byField('source'),
  'kernelArguments.shouldExist': byValue,
  'kernelArguments.shouldNotExist': byValue,
  'passwd.users': byField('name'),
  'passwd.users.*.groups': byValue,
  'passwd.users.*.sshAuthorizedKeys': byValue,
  'passwd.groups': byField('name'),
  'storage.disks': byField('device'),
  'storage.disks.*.partitions': partitionKey,
  'storage.raid': byField('name'),
  'storage.raid.*.devices': byValue,
  'storage.raid.*.options': byValue,
  'storage.filesystems': byField('device'),
  'storage.filesystems.*.mountOptions': byValue,
  'storage.filesystems.*.options': byValue,
  'storage.luks': byField('name'),
  'storage.luks.*.options': byValue,
  'storage.luks.*.openOptions': byValue,
  'storage.luks.*.clevis.tang': byField('url'),
  'storage.files': byField('path'),
  'storage.directories': byField('path'),
  'storage.links': byField('path'),
  'systemd.units': byField('name'),
  'systemd.units.*.dropins': byField('name'),
};

function listPattern(path: ConfigPath): string {
  return path.map((p) => (typeof p === 'number' ? '*' : p)).join('.');
}

export interface MergeResult {
  merged: Json;
  /** Maps a path in the child (user) config to where that node now sits in the merged config. */
  relocate: (childPath: ConfigPath) => ConfigPath;
}

export function mergeConfigs(parent: Json, child: Json): MergeResult {
  const moves = new Map<string, ConfigPath>();
  const merged = mergeValue(parent, child, [], [], moves);
  const relocate = (childPath: ConfigPath): ConfigPath => {
    for (let len = childPath.length; len > 0; len--) {
      const hit = moves.get(pathKey(childPath.slice(0, len)));
      if (hit) return [...hit, ...childPath.slice(len)];
    }
    return childPath;
  };
  return { merged, relocate };
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeValue(parent: Json, child: Json, childPath: ConfigPath, outPath: ConfigPath, moves: Map<string, ConfigPath>): Json {
  if (child === undefined) return parent;
  // A node that lands wholesale keeps its inner indexes; `relocate` rewrites only the moved prefix.
  if (parent === undefined) return child;
  if (isObject(parent) && isObject(child)) {
    const out: Record<string, Json> = { ...parent };
    for (const [k, v] of Object.entries(child)) {
      out[k] = mergeValue(parent[k], v, [...childPath, k], [...outPath, k], moves);
    }
    return out;
  }
  if (Array.isArray(parent) && Array.isArray(child)) {
    const keyOf = LIST_KEYS[listPattern(outPath)];
    const out: Json[] = [...parent];
    child.forEach((item, i) => {
      const key = keyOf?.(item);
      // Only the parent's entries are merge targets: two user entries with one key stay two (and are duplicates).
      const at = key === undefined ? -1 : parent.findIndex((p) => keyOf?.(p) === key);
      if (at >= 0) {
        moves.set(pathKey([...childPath, i]), [...outPath, at]);
        out[at] = mergeValue(out[at], item, [...childPath, i], [...outPath, at], moves);
      } else {
        const index = out.length;
        out.push(item);
        moves.set(pathKey([...childPath, i]), [...outPath, index]);
      }
    });
    return out;
  }
  return child;
}
