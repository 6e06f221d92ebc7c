// Ignition's ValidateDups: in every struct, each list's entries must have distinct keys (a path, a name, a device,
// the string itself, …). Files, directories and links share one key space, as do the two kernel-argument lists;
// appended contents and mkfs/mount/LUKS/RAID options may repeat.
import type { ConfigPath, ReportEntry } from '../report.js';
import { isObj, obj, ptr, str } from './go-values.js';

type KeyOf = (item: unknown) => string;

const field = (name: string): KeyOf => (item) => str(obj(item)[name]);
const source: KeyOf = (item) => ptr(obj(item).source) ?? '';
const partition: KeyOf = (item) => {
  const p = obj(item);
  const n = typeof p.number === 'number' ? p.number : 0;
  if (n !== 0) return `number:${n}`;
  const label = ptr(p.label);
  return label === undefined ? '' : `label:${label}`;
};
const itself: KeyOf = (item) => (typeof item === 'string' ? item : JSON.stringify(item));

/** Key of each list's entries, by the list's field name (the name is unambiguous in Ignition's schema). */
const KEYS: Record<string, KeyOf> = {
  merge: source,
  certificateAuthorities: source,
  httpHeaders: field('name'),
  users: field('name'),
  groups: field('name'),
  directories: field('path'),
  files: field('path'),
  links: field('path'),
  disks: field('device'),
  partitions: partition,
  filesystems: field('device'),
  luks: field('name'),
  raid: field('name'),
  tang: field('url'),
  units: field('name'),
  dropins: field('name'),
};

/** Lists exempt from the check, by the pattern of their parent. */
const IGNORED: Record<string, string[]> = {
  'storage.files.*': ['append'],
  'storage.filesystems.*': ['options', 'mountOptions'],
  'storage.luks.*': ['options'],
  'storage.raid.*': ['options'],
};
/** Lists that share a key space, by the pattern of their parent. */
const MERGED: Record<string, Record<string, string>> = {
  storage: { directories: 'node', files: 'node', links: 'node' },
  kernelArguments: { shouldExist: 'karg', shouldNotExist: 'karg' },
};

const pattern = (path: ConfigPath): string => path.map((p) => (typeof p === 'number' ? '*' : p)).join('.');

export function validateDups(config: unknown): ReportEntry[] {
  const entries: ReportEntry[] = [];
  const walk = (value: unknown, path: ConfigPath): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, i]));
      return;
    }
    if (!isObj(value)) return;
    const pat = pattern(path);
    const seen = new Map<string, Set<string>>();
    for (const [key, child] of Object.entries(value)) {
      if (!Array.isArray(child) || IGNORED[pat]?.includes(key)) continue;
      // Lists of strings (a user's groups, ssh keys, devices, …) are keyed by the string itself.
      const keyOf = KEYS[key] ?? itself;
      const space = MERGED[pat]?.[key] ?? key;
      const keys = seen.get(space) ?? new Set<string>();
      seen.set(space, keys);
      child.forEach((item, i) => {
        const k = typeof item === 'string' ? item : keyOf(item);
        if (keys.has(k)) entries.push({ kind: 'error', path: [...path, key, i], message: 'duplicate entry defined' });
        keys.add(k);
      });
    }
    for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
  };
  walk(config, []);
  return entries;
}
