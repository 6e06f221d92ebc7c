// Ignition's checks on `storage` (Storage.Validate, then each list's entries in field order: directories, disks,
// files, filesystems, links, luks, raid), as config/v3_*/types performs them.
import type { ConfigPath } from '../report.js';
import { parseGoUrl, validateUrl } from './go-url.js';
import { cleanPath, Findings, int, isObj, isTrue, list, nilOrEmpty, notEmpty, obj, pathError, ptr, str, type Obj } from './go-values.js';
import { validateResource } from './rules-resource.js';

const SPECIAL_BITS = 'setuid/setgid/sticky bits are not supported or functional in spec versions older than 3.6.0';

function validateLinksAndNodes(f: Findings, s: Obj, minor: number): void {
  const links = list(s.links).map(obj);
  const under = (p: string): number => links.filter((l) => p.startsWith(`${str(l.path)}/`)).length;
  list(s.directories).forEach((d, i) => {
    for (let n = under(str(obj(d).path)); n > 0; n--) f.error(['storage', 'directories', i], 'directory path includes link in config');
  });
  list(s.files).forEach((x, i) => {
    for (let n = under(str(obj(x).path)); n > 0; n--) f.error(['storage', 'files', i], 'file path includes link in config');
  });
  links.forEach((l, i) => {
    for (let n = under(str(l.path)); n > 0; n--) f.error(['storage', 'links', i], 'link path includes link in config');
    let target: string;
    if (minor >= 3) {
      if (nilOrEmpty(l.target)) {
        f.error(['storage', 'links', i, 'target'], 'link target is required');
        return;
      }
      target = l.target as string;
    } else target = str(l.target);
    if (!isTrue(l.hard)) return;
    let resolved = cleanPath(target);
    if (!resolved.startsWith('/')) resolved = cleanPath(`${str(l.path)}/${target}`);
    for (const d of list(s.directories)) if (str(obj(d).path) === resolved) f.error(['storage', 'links', i], 'hard link target is a directory');
    for (const who of ['user', 'group'] as const) {
      for (const field of ['id', 'name'] as const) {
        if (obj(l[who])[field] !== undefined) f.warn(['storage', 'links', i, who, field], 'user/group ignored for hard link');
      }
    }
  });
  const disks = new Map(list(s.disks).map((d) => [str(obj(d).device), obj(d)]));
  list(s.filesystems).forEach((x, i) => {
    const fs = obj(x);
    const disk = disks.get(str(fs.device));
    if (!disk) return;
    if (list(disk.partitions).length > 0) f.warn(['storage', 'filesystems', i, 'device'], 'filesystem overwrites partitioned device');
    else if (!isTrue(fs.wipeFilesystem) && isTrue(disk.wipeTable)) {
      f.warn(['storage', 'filesystems', i, 'device'], 'device matches disk with wipeTable enabled; filesystem will be wiped');
    }
  });
}

/** Node.Validate plus the owner checks on its NodeGroup and NodeUser fields (in that field order). */
function validateNode(f: Findings, n: Obj, at: ConfigPath, minor: number, mode: boolean): void {
  f.error([...at, 'path'], pathError(str(n.path)));
  if (mode) {
    const m = int(n.mode);
    if (m !== undefined && (m < 0 || m > 0o7777)) f.error([...at, 'mode'], 'illegal file mode');
    if (minor <= 5 && m !== undefined && ((m >>> 0) & 0o7000) !== 0) f.warn([...at, 'mode'], SPECIAL_BITS);
  }
}

function validateOwners(f: Findings, n: Obj, at: ConfigPath): void {
  for (const who of ['group', 'user']) {
    const o = obj(n[who]);
    if (o.id !== undefined && notEmpty(o.name)) f.error([...at, who], 'cannot set both id and name');
  }
}

const GUID = /^(|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/;

function validateDisk(f: Findings, disk: Obj, at: ConfigPath): void {
  const parts = list(disk.partitions).map(obj);
  const device = str(disk.device);
  if (device === '') f.error([...at, 'device'], 'disk device is required');
  else {
    f.error([...at, 'device'], pathError(device));
    const numbers = new Map<number, number[]>();
    parts.forEach((p, j) => {
      const n = int(p.number) ?? 0;
      if (n !== 0) numbers.set(n, [...(numbers.get(n) ?? []), j]);
    });
    const collide = [...numbers.values()].find((js) => js.length > 1);
    if (collide) f.error([...at, 'partitions', collide[1] as number], 'partition numbers collide');
    const overlap = overlapIndex(parts);
    if (overlap !== undefined) f.error([...at, 'partitions', overlap], 'partitions overlap');
    // Every released Ignition (through v2.26.0) refuses a partition that should not exist beside one given by
    // label only (number 0): which one is meant would depend on the disk.
    if (parts.some((p) => p.shouldExist === false) && parts.some((p) => (int(p.number) ?? 0) === 0)) {
      f.error([...at, 'partitions'], 'shouldExist is false for a partition and other partition(s) has start or size 0');
    }
    const labels = new Set<string>();
    const dupLabel = parts.findIndex((p) => {
      const label = ptr(p.label);
      if (label === undefined) return false;
      if (labels.has(label)) return true;
      labels.add(label);
      return false;
    });
    if (dupLabel >= 0) f.error([...at, 'partitions', dupLabel], 'cannot use the same partition label twice');
  }
  parts.forEach((p, j) => {
    const pat = [...at, 'partitions', j];
    const label = ptr(p.label);
    if (p.shouldExist === false && (label !== undefined || notEmpty(p.typeGuid) || notEmpty(p.guid) || p.startMiB !== undefined || p.sizeMiB !== undefined)) {
      f.error(pat, 'shouldExist specified false with other options also specified');
    }
    if ((int(p.number) ?? 0) === 0 && label === undefined) f.error(pat, 'a partition number >= 1 or a label must be specified');
    if (label !== undefined) {
      if (Buffer.byteLength(label) > 36) f.error([...pat, 'label'], 'partition labels may not exceed 36 characters');
      else if (label.includes(':')) f.error([...pat, 'label'], 'partition label will be truncated to text before the colon');
    }
    for (const g of ['guid', 'typeGuid']) {
      const v = ptr(p[g]);
      if (v !== undefined && !GUID.test(v)) f.error([...pat, g], 'doesn\'t match the form "01234567-89AB-CDEF-EDCB-A98765432101"');
    }
  });
}

/** Disk.partitionsOverlap: a partition with size 0 (fill) ends where it starts. */
function overlapIndex(parts: Obj[]): number | undefined {
  const placed = parts.map((p) => ({ start: int(p.startMiB), size: int(p.sizeMiB) }));
  const end = (x: { start?: number; size?: number }): number => (x.size === 0 ? (x.start as number) : (x.start as number) + (x.size as number) - 1);
  for (let a = 0; a < placed.length; a++) {
    const p = placed[a] as { start?: number; size?: number };
    if (p.start === undefined || p.size === undefined || p.start === 0) continue;
    for (let b = 0; b < placed.length; b++) {
      const o = placed[b] as { start?: number; size?: number };
      if (o.start === undefined || o.size === undefined || a === b || o.start === 0) continue;
      if (p.start >= o.start && p.start <= end(o)) return b;
      if (end(p) >= o.start && end(p) <= end(o)) return b;
      if (p.start < o.start && end(p) > end(o)) return b;
    }
  }
  return undefined;
}

const LABEL_LIMITS: Record<string, number> = { ext4: 16, btrfs: 256, xfs: 12, swap: 15, vfat: 11 };

// Released Ignition (through v2.26.0, 3.7.0-experimental included) knows no virtiofs: only its unreleased main does.
function validateFilesystem(f: Findings, fs: Obj, at: ConfigPath, minor: number): void {
  const format = ptr(fs.format);
  if (notEmpty(fs.path)) f.error([...at, 'path'], pathError(fs.path));
  f.error([...at, 'device'], pathError(str(fs.device)));
  if (nilOrEmpty(format)) {
    const others = notEmpty(fs.path) || notEmpty(fs.label) || notEmpty(fs.uuid) || isTrue(fs.wipeFilesystem) || list(fs.mountOptions).length > 0 || list(fs.options).length > 0;
    if (others) f.error([...at, 'format'], 'format cannot be empty when path, label, uuid, wipeFilesystem, options, or mountOptions is specified');
  } else {
    const formats = ['ext4', 'btrfs', 'xfs', 'swap', 'vfat', ...(minor >= 3 ? ['none'] : [])];
    if (!formats.includes(format as string)) f.error([...at, 'format'], 'invalid filesystem format');
  }
  if (notEmpty(fs.label)) {
    const limit = LABEL_LIMITS[format ?? ''];
    if (nilOrEmpty(format)) f.error([...at, 'label'], 'filesystem must specify format if label is specified');
    else if (limit !== undefined && Buffer.byteLength(fs.label) > limit) {
      f.error([...at, 'label'], `filesystem labels cannot be longer than ${limit} characters when using ${format as string}`);
    }
  }
}

function validateTang(f: Findings, t: Obj, at: ConfigPath, minor: number): void {
  // Tang servers are reached over HTTP(S) only: any other scheme (data, s3, …) is invalid here.
  const u = parseGoUrl(str(t.url));
  if (!u) f.error([...at, 'url'], 'unable to parse url');
  else if (u.scheme !== 'http' && u.scheme !== 'https') f.error([...at, 'url'], 'invalid url scheme');
  if (nilOrEmpty(t.thumbprint)) f.error([...at, 'thumbprint'], 'thumbprint is required');
  if (minor >= 4 && notEmpty(t.advertisement)) {
    try {
      JSON.parse(t.advertisement);
    } catch {
      f.error([...at, 'advertisement'], 'advertisement is not valid JSON');
    }
  }
}

function validateLuks(f: Findings, l: Obj, at: ConfigPath, minor: number): void {
  const clevis = obj(l.clevis);
  const custom = obj(clevis.custom);
  const others = list(clevis.tang).length > 0 || isTrue(clevis.tpm2) || (int(clevis.threshold) ?? 0) !== 0;
  if (str(l.name).includes('/')) f.error([...at, 'name'], 'device names cannot contain slashes');
  if (notEmpty(l.label) && Buffer.byteLength(l.label) > 47) f.error([...at, 'label'], 'luks device labels cannot be longer than 47 characters');
  if (nilOrEmpty(l.device)) f.error([...at, 'device'], 'disk device is required');
  else f.error([...at, 'device'], pathError(l.device as string));
  const customPresent = minor === 2 ? isObj(clevis.custom) : notEmpty(custom.pin);
  if (customPresent && others) f.error([...at, 'clevis'], 'cannot use custom clevis config with tpm2, tang, or threshold');
  const keySource = obj(l.keyFile).source;
  if (notEmpty(keySource) && validateUrl(keySource, minor) !== undefined) f.error([...at, 'keys'], 'invalid key-file source');
  const cex = isTrue(obj(l.cex).enabled);
  if (minor >= 5 && cex && (notEmpty(custom.pin) || others)) f.error([...at, 'cex'], 'cannot use cex with clevis');
  if (minor >= 5 && cex && notEmpty(keySource)) f.error([...at, 'cex'], 'cannot use key file with cex');
  // Clevis children: the custom pin, then each Tang server.
  const cat: ConfigPath = [...at, 'clevis', 'custom'];
  if (minor === 2) {
    if (isObj(clevis.custom) && (str(custom.pin) !== '' || str(custom.config) !== '')) {
      if (!['tpm2', 'tang', 'sss'].includes(str(custom.pin))) f.error([...cat, 'pin'], 'unsupported clevis pin');
      if (str(custom.config) === '') f.error([...cat, 'config'], 'missing required custom clevis config');
    }
  } else if (!(nilOrEmpty(custom.pin) && nilOrEmpty(custom.config) && !isTrue(custom.needsNetwork))) {
    if (nilOrEmpty(custom.pin)) f.error([...cat, 'pin'], 'missing required custom clevis pin');
    else if (minor <= 5 && !['tpm2', 'tang', 'sss'].includes(custom.pin as string)) f.error([...cat, 'pin'], 'unsupported clevis pin');
    if (nilOrEmpty(custom.config)) f.error([...cat, 'config'], 'missing required custom clevis config');
  }
  list(clevis.tang).forEach((t, k) => validateTang(f, obj(t), [...at, 'clevis', 'tang', k], minor));
  validateResource(f, l.keyFile, [...at, 'keyFile'], minor);
}

const RAID_LEVELS = ['linear', 'raid0', '0', 'stripe', 'raid1', '1', 'mirror', 'raid4', '4', 'raid5', '5', 'raid6', '6', 'raid10', '10'];

function validateRaid(f: Findings, r: Obj, at: ConfigPath, minor: number): void {
  const level = str(r.level);
  if (minor >= 3 && level === '') f.error([...at, 'level'], 'raid level is required');
  else if (!RAID_LEVELS.includes(level)) f.error([...at, 'level'], 'unrecognized raid level');
  else if (['linear', 'raid0', '0', 'stripe'].includes(level) && (int(r.spares) ?? 0) !== 0) {
    f.error([...at, 'level'], 'spares unsupported for linear and raid0 arrays');
  }
  const devices = list(r.devices);
  if (devices.length === 0) f.error([...at, 'devices'], 'raid devices required');
  devices.forEach((d, k) => f.error([...at, 'devices', k], pathError(str(d))));
}

export function validateStorage(f: Findings, s: Obj, minor: number, _experimental: boolean): void {
  validateLinksAndNodes(f, s, minor);
  list(s.directories).forEach((d, i) => {
    const at = ['storage', 'directories', i];
    validateNode(f, obj(d), at, minor, true);
    validateOwners(f, obj(d), at);
  });
  list(s.disks).forEach((d, i) => validateDisk(f, obj(d), ['storage', 'disks', i]));
  list(s.files).forEach((x, i) => {
    const file = obj(x);
    const at = ['storage', 'files', i];
    validateNode(f, file, at, minor, true);
    if (isTrue(file.overwrite) && obj(file.contents).source === undefined) f.error([...at, 'overwrite'], 'overwrite must be false if source is unspecified');
    validateOwners(f, file, at);
    list(file.append).forEach((r, j) => validateResource(f, r, [...at, 'append', j], minor));
    validateResource(f, file.contents, [...at, 'contents'], minor);
  });
  list(s.filesystems).forEach((x, i) => validateFilesystem(f, obj(x), ['storage', 'filesystems', i], minor));
  list(s.links).forEach((l, i) => {
    validateNode(f, obj(l), ['storage', 'links', i], minor, false);
    validateOwners(f, obj(l), ['storage', 'links', i]);
  });
  list(s.luks).forEach((l, i) => validateLuks(f, obj(l), ['storage', 'luks', i], minor));
  list(s.raid).forEach((r, i) => validateRaid(f, obj(r), ['storage', 'raid', i], minor));
}
