// Ignition's checks on a config: the structural ones from the spec's JSON Schema (precompiled) and the semantic
// ones Ignition performs in code (absolute and clean paths, duplicates, modes, unit names, hashes, partitions,
// filesystems, RAID, LUKS, proxies). Used on butane's output (then mapped back to the Butane source) and by
// `cnvm validate` on a .ign file. Messages are Ignition's, word for word.
import { posix } from 'node:path';
import { schemaEntries, type CompiledValidator } from '../butane/schema-check.js';
import { parseYaml, positionOf } from '../butane/yaml.js';
import type { ConfigPath, ReportEntry, SourcePosition } from '../report.js';

export const SUPPORTED_IGNITION_VERSIONS = ['3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0', '3.5.0'] as const;

const IGNITION_VALIDATORS: Record<string, () => Promise<{ validate: CompiledValidator }>> = {
  '3.0.0': () => import('../generated/validators/ignition-v3_0.js'),
  '3.1.0': () => import('../generated/validators/ignition-v3_1.js'),
  '3.2.0': () => import('../generated/validators/ignition-v3_2.js'),
  '3.3.0': () => import('../generated/validators/ignition-v3_3.js'),
  '3.4.0': () => import('../generated/validators/ignition-v3_4.js'),
  '3.5.0': () => import('../generated/validators/ignition-v3_5.js'),
};

export const ERR = {
  duplicate: 'duplicate entry defined',
  invalidVersion: "invalid config version (couldn't parse)",
  unknownVersion: 'unsupported config version',
  compression: 'invalid compression method',
  noPath: 'path not specified',
  pathRelative: 'path not absolute',
  dirtyPath: 'path is not fully simplified',
  illegalMode: 'illegal file mode',
  specialBits: 'setuid/setgid/sticky bits are not supported in spec versions older than 3.4.0',
  bothIdAndName: 'cannot set both id and name',
  overwriteNilSource: 'overwrite must be false if source is unspecified',
  verificationNilSource: 'source must be specified if verification is specified',
  linkTarget: 'link target is required',
  hardLinkOwner: 'user/group ignored for hard link',
  fileUsedSymlink: 'file path includes link in config',
  directoryUsedSymlink: 'directory path includes link in config',
  linkUsedSymlink: 'link path includes link in config',
  pathConflictsSystemd: 'path conflicts with systemd unit or dropin',
  diskDevice: 'disk device is required',
  numbersCollide: 'partition numbers collide',
  partitionsOverlap: 'partitions overlap',
  labelTooLong: 'partition labels may not exceed 36 characters',
  labelColon: 'partition label will be truncated to text before the colon',
  guid: 'doesn\'t match the form "01234567-89AB-CDEF-EDCB-A98765432101"',
  shouldNotExistWithOthers: 'shouldExist specified false with other options also specified',
  zeroesWithShouldNotExist: 'shouldExist is false for a partition and other partition(s) has start or size 0',
  needLabelOrNumber: 'a partition number >= 1 or a label must be specified',
  duplicateLabels: 'cannot use the same partition label twice',
  fsFormat: 'invalid filesystem format',
  formatNilWithOthers: 'format cannot be empty when path, label, uuid, wipeFilesystem, options, or mountOptions is specified',
  raidLevelRequired: 'raid level is required',
  raidLevel: 'unrecognized raid level',
  spares: 'spares unsupported for linear and raid0 arrays',
  raidDevices: 'raid devices required',
  luksLabel: 'luks device labels cannot be longer than 47 characters',
  luksNameSlash: 'device names cannot contain slashes',
  clevisPinRequired: 'missing required custom clevis pin',
  clevisPin: 'unsupported clevis pin',
  clevisConfigRequired: 'missing required custom clevis config',
  clevisCustomWithOthers: 'cannot use custom clevis config with tpm2, tang, or threshold',
  tangThumbprint: 'thumbprint is required',
  tangAdvertisement: 'advertisement is not valid JSON',
  invalidProxy: 'proxies must be http(s)',
  insecureProxy: 'insecure plaintext HTTP proxy specified for HTTPS resources',
  systemdExt: 'invalid systemd unit extension',
  dropinExt: 'invalid systemd drop-in extension',
  sourceRequired: 'source is required',
  scheme: 'invalid url scheme',
  url: 'unable to parse url',
  emptyHeaderName: "HTTP header name can't be empty",
  headerScheme: 'cannot use HTTP headers with this source scheme',
  hashMalformed: 'malformed hash specifier',
  hashSize: 'incorrect size for hash sum',
  hashUnrecognized: 'unrecognized hash function',
} as const;

const FS_LABEL_LIMITS: Record<string, [number, string]> = {
  ext4: [16, 'filesystem labels cannot be longer than 16 characters when using ext4'],
  btrfs: [256, 'filesystem labels cannot be longer than 256 characters when using btrfs'],
  xfs: [12, 'filesystem labels cannot be longer than 12 characters when using xfs'],
  swap: [15, 'filesystem labels cannot be longer than 15 characters when using swap'],
  vfat: [11, 'filesystem labels cannot be longer than 11 characters when using vfat'],
};

const UNIT_TYPES = ['service', 'socket', 'device', 'mount', 'automount', 'swap', 'target', 'path', 'timer', 'snapshot', 'slice', 'scope'];
const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** Minor version of a 3.x spec, for rules that changed between versions. */
const minorOf = (version: string): number => Number(version.split('.')[1] ?? 0);

/** Ignition's semantic validation of a structurally valid config of spec `version`. */
export function validateIgnitionSemantics(config: Obj, version: string): ReportEntry[] {
  const minor = minorOf(version);
  const entries: ReportEntry[] = [];
  const error = (path: ConfigPath, message: string): void => void entries.push({ kind: 'error', path, message });
  const warn = (path: ConfigPath, message: string): void => void entries.push({ kind: 'warning', path, message });

  const checkUrl = (source: string, path: ConfigPath): string | undefined => {
    const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(source);
    const scheme = match ? (match[1] as string).toLowerCase() : '';
    if (scheme === 'data') {
      if (!/^data:[^,]*,/.test(source)) error(path, ERR.url);
      return scheme;
    }
    const allowed = ['http', 'https', 'tftp', 's3', 'gs', 'arn', ''];
    if (!allowed.includes(scheme) || (scheme === 'gs' && minor < 1) || (scheme === 'arn' && minor < 2)) {
      error(path, ERR.scheme);
      return scheme;
    }
    if (scheme !== '' && scheme !== 'arn') {
      try {
        new URL(source);
      } catch {
        error(path, ERR.url);
      }
    }
    return scheme;
  };

  const resource = (value: unknown, path: ConfigPath, required: boolean): void => {
    if (!isObj(value)) {
      if (required) error(path, ERR.sourceRequired);
      return;
    }
    const source = str(value.source);
    let scheme: string | undefined;
    if (source === undefined) {
      if (required) error([...path, 'source'], ERR.sourceRequired);
    } else {
      scheme = checkUrl(source, [...path, 'source']);
    }
    const compression = value.compression;
    if (compression !== undefined && compression !== null && compression !== '' && compression !== 'gzip') {
      error([...path, 'compression'], ERR.compression);
    }
    const hash = str(obj(value.verification).hash);
    if (hash !== undefined) {
      if (source === undefined) error([...path, 'source'], ERR.verificationNilSource);
      hashCheck(hash, [...path, 'verification', 'hash']);
    }
    const headers = list(value.httpHeaders);
    headers.forEach((h, i) => {
      if (!nonEmpty(obj(h).name)) error([...path, 'httpHeaders', i, 'name'], ERR.emptyHeaderName);
    });
    dups(headers, (h) => str(obj(h).name), [...path, 'httpHeaders']);
    if (headers.length > 0 && scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
      error([...path, 'httpHeaders'], ERR.headerScheme);
    }
  };

  const hashCheck = (hash: string, path: ConfigPath): void => {
    const dash = hash.indexOf('-');
    if (dash < 0) return error(path, ERR.hashMalformed);
    const fn = hash.slice(0, dash);
    const sum = hash.slice(dash + 1);
    const sizes: Record<string, number> = minor >= 1 ? { sha512: 128, sha256: 64 } : { sha512: 128 };
    const size = sizes[fn];
    if (size === undefined) return error(path, ERR.hashUnrecognized);
    if (sum.length !== size || !/^[0-9a-fA-F]*$/.test(sum)) error(path, ERR.hashSize);
  };

  const dups = (items: unknown[], key: (item: unknown) => string | undefined, path: ConfigPath, seen = new Set<string>()): void => {
    items.forEach((item, i) => {
      const k = key(item);
      if (k === undefined) return;
      if (seen.has(k)) error([...path, i], ERR.duplicate);
      seen.add(k);
    });
  };

  const absolutePath = (value: unknown, path: ConfigPath, required = true): void => {
    if (!nonEmpty(value)) {
      if (required) error(path, ERR.noPath);
      return;
    }
    if (!value.startsWith('/')) error(path, ERR.pathRelative);
    else if (posix.normalize(value) !== value || (value.length > 1 && value.endsWith('/'))) error(path, ERR.dirtyPath);
  };

  const node = (n: Obj, path: ConfigPath): void => {
    absolutePath(n.path, [...path, 'path']);
    for (const who of ['user', 'group']) {
      const o = obj(n[who]);
      if (o.id !== undefined && o.id !== null && o.name !== undefined && o.name !== null && o.name !== '') {
        error([...path, who], ERR.bothIdAndName);
      }
    }
  };

  const mode = (value: unknown, path: ConfigPath): void => {
    if (typeof value !== 'number') return;
    if (value < 0 || value > 0o7777) error(path, ERR.illegalMode);
    if (minor < 4 && (value & 0o7000) !== 0) warn(path, ERR.specialBits);
  };

  // --- ignition section
  const ignition = obj(config.ignition);
  const cfg = obj(ignition.config);
  list(cfg.merge).forEach((r, i) => resource(r, ['ignition', 'config', 'merge', i], true));
  dups(list(cfg.merge), (r) => str(obj(r).source), ['ignition', 'config', 'merge']);
  if (isObj(cfg.replace) && Object.keys(cfg.replace).length > 0) resource(cfg.replace, ['ignition', 'config', 'replace'], true);
  const cas = list(obj(obj(ignition.security).tls).certificateAuthorities);
  cas.forEach((r, i) => resource(r, ['ignition', 'security', 'tls', 'certificateAuthorities', i], true));
  dups(cas, (r) => str(obj(r).source), ['ignition', 'security', 'tls', 'certificateAuthorities']);
  const proxy = obj(ignition.proxy);
  for (const [field, httpOk] of [['httpProxy', true], ['httpsProxy', false]] as const) {
    const value = str(proxy[field]);
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      error(['ignition', 'proxy', field], ERR.url);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') error(['ignition', 'proxy', field], ERR.invalidProxy);
    else if (url.protocol === 'http:' && !httpOk) warn(['ignition', 'proxy', field], ERR.insecureProxy);
  }

  // --- kernel arguments: one key space for both lists
  const ka = obj(config.kernelArguments);
  const kaSeen = new Set<string>();
  dups(list(ka.shouldExist), str, ['kernelArguments', 'shouldExist'], kaSeen);
  dups(list(ka.shouldNotExist), str, ['kernelArguments', 'shouldNotExist'], kaSeen);

  // --- passwd
  const passwd = obj(config.passwd);
  dups(list(passwd.users), (u) => str(obj(u).name), ['passwd', 'users']);
  dups(list(passwd.groups), (g) => str(obj(g).name), ['passwd', 'groups']);

  // --- storage
  const storage = obj(config.storage);
  const files = list(storage.files);
  const directories = list(storage.directories);
  const links = list(storage.links);
  const nodeSeen = new Set<string>();
  dups(files, (f) => str(obj(f).path), ['storage', 'files'], nodeSeen);
  dups(directories, (d) => str(obj(d).path), ['storage', 'directories'], nodeSeen);
  dups(links, (l) => str(obj(l).path), ['storage', 'links'], nodeSeen);

  files.forEach((f, i) => {
    const file = obj(f);
    const path = ['storage', 'files', i];
    node(file, path);
    mode(file.mode, [...path, 'mode']);
    resource(file.contents, [...path, 'contents'], false);
    list(file.append).forEach((r, j) => resource(r, [...path, 'append', j], true));
    if (file.overwrite === true && str(obj(file.contents).source) === undefined) error([...path, 'overwrite'], ERR.overwriteNilSource);
  });
  directories.forEach((d, i) => {
    const dir = obj(d);
    node(dir, ['storage', 'directories', i]);
    mode(dir.mode, ['storage', 'directories', i, 'mode']);
  });
  links.forEach((l, i) => {
    const link = obj(l);
    const path = ['storage', 'links', i];
    node(link, path);
    if (!nonEmpty(link.target)) error([...path, 'target'], ERR.linkTarget);
    if (link.hard === true) {
      // Ignition names each ownership field a hard link ignores.
      for (const who of ['user', 'group'] as const) {
        for (const field of ['id', 'name'] as const) {
          const v = obj(link[who])[field];
          if (v !== undefined && v !== null) warn([...path, who, field], ERR.hardLinkOwner);
        }
      }
    }
  });
  // A node below a symlink the same config creates would be written through the link.
  const symlinks = links.filter((l) => obj(l).hard !== true).map((l) => str(obj(l).path)).filter(nonEmpty);
  const underLink = (p: unknown): boolean => nonEmpty(p) && symlinks.some((l) => p.startsWith(`${l}/`));
  files.forEach((f, i) => underLink(obj(f).path) && error(['storage', 'files', i], ERR.fileUsedSymlink));
  directories.forEach((d, i) => underLink(obj(d).path) && error(['storage', 'directories', i], ERR.directoryUsedSymlink));
  links.forEach((l, i) => underLink(obj(l).path) && error(['storage', 'links', i], ERR.linkUsedSymlink));

  const disks = list(storage.disks);
  dups(disks, (d) => str(obj(d).device), ['storage', 'disks']);
  disks.forEach((d, i) => {
    const disk = obj(d);
    const path = ['storage', 'disks', i];
    if (!nonEmpty(disk.device)) error([...path, 'device'], ERR.diskDevice);
    else absolutePath(disk.device, [...path, 'device']);
    const partitions = list(disk.partitions);
    const numbers = new Set<number>();
    const labels = new Set<string>();
    const partKey = (p: unknown): string | undefined => {
      const part = obj(p);
      return typeof part.number === 'number' && part.number !== 0 ? `number:${part.number}` : `label:${str(part.label) ?? ''}`;
    };
    dups(partitions, partKey, [...path, 'partitions']);
    const zero = partitions.some((p) => !(typeof obj(p).number === 'number' && obj(p).number !== 0));
    if (zero && partitions.some((p) => obj(p).shouldExist === false)) error([...path, 'partitions'], ERR.zeroesWithShouldNotExist);
    partitions.forEach((p, j) => {
      const part = obj(p);
      const ppath = [...path, 'partitions', j];
      const label = str(part.label);
      const number = typeof part.number === 'number' ? part.number : 0;
      if (label !== undefined) {
        if (label.length > 36) error([...ppath, 'label'], ERR.labelTooLong);
        if (label.includes(':')) error([...ppath, 'label'], ERR.labelColon);
      }
      for (const g of ['guid', 'typeGuid']) {
        const value = str(part[g]);
        if (value !== undefined && value !== '' && !GUID.test(value)) error([...ppath, g], ERR.guid);
      }
      if (part.shouldExist === false) {
        // Deleting a partition may still say how (wipePartitionEntry, resize); only its shape conflicts.
        const others = ['label', 'sizeMiB', 'startMiB', 'typeGuid', 'guid'];
        if (others.some((k) => part[k] !== undefined && part[k] !== null)) error(ppath, ERR.shouldNotExistWithOthers);
      }
      if (number === 0 && (label === undefined || label === '')) error(ppath, ERR.needLabelOrNumber);
      if (number !== 0) {
        if (numbers.has(number)) error(ppath, ERR.numbersCollide);
        numbers.add(number);
      }
      if (label !== undefined && label !== '') {
        if (labels.has(label)) error(ppath, ERR.duplicateLabels);
        labels.add(label);
      }
    });
    // Partitions with an explicit start and size must not overlap (reported at the later one).
    const placed: { start: number; end: number }[] = [];
    partitions.forEach((p, j) => {
      const part = obj(p);
      if (typeof part.startMiB !== 'number' || typeof part.sizeMiB !== 'number' || part.startMiB === 0 || part.sizeMiB === 0) return;
      const me = { start: part.startMiB, end: part.startMiB + part.sizeMiB };
      if (placed.some((o) => me.start < o.end && o.start < me.end)) error([...path, 'partitions', j], ERR.partitionsOverlap);
      placed.push(me);
    });
  });

  const raids = list(storage.raid);
  dups(raids, (r) => str(obj(r).name), ['storage', 'raid']);
  raids.forEach((r, i) => {
    const raid = obj(r);
    const path = ['storage', 'raid', i];
    const level = str(raid.level);
    if (!nonEmpty(level)) error([...path, 'level'], ERR.raidLevelRequired);
    else if (!['linear', 'raid0', 'raid1', 'raid4', 'raid5', 'raid6', 'raid10'].includes(level)) error([...path, 'level'], ERR.raidLevel);
    else if ((level === 'linear' || level === 'raid0') && typeof raid.spares === 'number' && raid.spares > 0) {
      error([...path, 'level'], ERR.spares);
    }
    const devices = list(raid.devices);
    if (devices.length === 0) error([...path, 'devices'], ERR.raidDevices);
    devices.forEach((dev, j) => absolutePath(dev, [...path, 'devices', j]));
  });

  const filesystems = list(storage.filesystems);
  dups(filesystems, (f) => str(obj(f).device), ['storage', 'filesystems']);
  filesystems.forEach((f, i) => {
    const fs = obj(f);
    const path = ['storage', 'filesystems', i];
    absolutePath(fs.device, [...path, 'device']);
    const format = str(fs.format) ?? '';
    const formats = ['ext4', 'btrfs', 'xfs', 'vfat', 'swap', ...(minor >= 3 ? ['none'] : []), ''];
    if (!formats.includes(format)) error([...path, 'format'], ERR.fsFormat);
    if (format === '') {
      const others = ['path', 'label', 'uuid', 'wipeFilesystem', 'options', 'mountOptions'];
      if (others.some((k) => fs[k] !== undefined && fs[k] !== null && !(Array.isArray(fs[k]) && (fs[k] as unknown[]).length === 0))) {
        error([...path, 'format'], ERR.formatNilWithOthers);
      }
    }
    if (fs.path !== undefined && fs.path !== null) absolutePath(fs.path, [...path, 'path']);
    const label = str(fs.label);
    const limit = FS_LABEL_LIMITS[format];
    if (label !== undefined && limit && label.length > limit[0]) error([...path, 'label'], limit[1]);
  });

  const luks = list(storage.luks);
  dups(luks, (l) => str(obj(l).name), ['storage', 'luks']);
  luks.forEach((l, i) => {
    const volume = obj(l);
    const path = ['storage', 'luks', i];
    if (str(volume.name)?.includes('/')) error([...path, 'name'], ERR.luksNameSlash);
    const label = str(volume.label);
    if (label !== undefined && label.length > 47) error([...path, 'label'], ERR.luksLabel);
    if (!nonEmpty(volume.device)) error([...path, 'device'], ERR.diskDevice);
    else absolutePath(volume.device, [...path, 'device']);
    if (isObj(volume.keyFile) && Object.keys(volume.keyFile).length > 0) resource(volume.keyFile, [...path, 'keyFile'], false);
    const clevis = obj(volume.clevis);
    const custom = obj(clevis.custom);
    const customSet = Object.values(custom).some((v) => v !== undefined && v !== null && v !== '' && v !== false);
    if (customSet) {
      const pin = str(custom.pin);
      if (!nonEmpty(pin)) error([...path, 'clevis', 'custom', 'pin'], ERR.clevisPinRequired);
      else if (!['tpm2', 'tang', 'sss'].includes(pin)) error([...path, 'clevis', 'custom', 'pin'], ERR.clevisPin);
      if (!nonEmpty(custom.config)) error([...path, 'clevis', 'custom', 'config'], ERR.clevisConfigRequired);
      if (clevis.tpm2 === true || list(clevis.tang).length > 0 || typeof clevis.threshold === 'number') {
        error([...path, 'clevis'], ERR.clevisCustomWithOthers);
      }
    }
    const tangs = list(clevis.tang);
    dups(tangs, (t) => str(obj(t).url), [...path, 'clevis', 'tang']);
    tangs.forEach((t, j) => {
      const tang = obj(t);
      const tpath = [...path, 'clevis', 'tang', j];
      // Tang servers are reached over HTTP(S) only.
      const url = str(tang.url) ?? '';
      if (!/^https?:\/\//i.test(url)) error([...tpath, 'url'], ERR.scheme);
      else checkUrl(url, [...tpath, 'url']);
      if (!nonEmpty(tang.thumbprint)) error([...tpath, 'thumbprint'], ERR.tangThumbprint);
      const ad = str(tang.advertisement);
      if (nonEmpty(ad)) {
        try {
          JSON.parse(ad);
        } catch {
          error([...tpath, 'advertisement'], ERR.tangAdvertisement);
        }
      }
    });
  });

  // --- systemd
  const units = list(obj(config.systemd).units);
  dups(units, (u) => str(obj(u).name), ['systemd', 'units']);
  const unitPaths = new Set<string>();
  units.forEach((u, i) => {
    const unit = obj(u);
    const path = ['systemd', 'units', i];
    const name = str(unit.name) ?? '';
    const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
    if (!UNIT_TYPES.includes(ext)) error([...path, 'name'], ERR.systemdExt);
    if (nonEmpty(unit.contents)) unitPaths.add(`/etc/systemd/system/${name}`);
    const contents = str(unit.contents);
    if (contents !== undefined) {
      const problem = unitContentProblem(contents);
      if (problem) error([...path, 'contents'], problem);
      else if (unit.enabled === true && contents !== '' && !hasInstallOptions(contents)) {
        warn([...path, 'contents'], `unit ${JSON.stringify(name)} is enabled, but has no install section so enable does nothing`);
      }
    }
    const dropins = list(unit.dropins);
    dups(dropins, (d) => str(obj(d).name), [...path, 'dropins']);
    dropins.forEach((d, j) => {
      const dropin = obj(d);
      const dname = str(dropin.name) ?? '';
      if (!dname.endsWith('.conf')) error([...path, 'dropins', j, 'name'], ERR.dropinExt);
      if (nonEmpty(dropin.contents)) unitPaths.add(`/etc/systemd/system/${name}.d/${dname}`);
      const dcontents = str(dropin.contents);
      const problem = dcontents === undefined ? undefined : unitContentProblem(dcontents);
      if (problem) error([...path, 'dropins', j, 'contents'], problem);
    });
  });
  for (const [field, nodes] of [['files', files], ['directories', directories], ['links', links]] as const) {
    nodes.forEach((n, i) => {
      const p = str(obj(n).path);
      if (p !== undefined && unitPaths.has(p)) error(['storage', field, i, 'path'], ERR.pathConflictsSystemd);
    });
  }
  return sortByIgnitionOrder(entries);
}

const TOP_ORDER = ['ignition', 'kernelArguments', 'passwd', 'storage', 'systemd'];
const STORAGE_ORDER = ['directories', 'disks', 'files', 'filesystems', 'links', 'luks', 'raid'];

/** Ignition validates struct fields in declaration order; report in the same order (stable within a field). */
function sortByIgnitionOrder(entries: ReportEntry[]): ReportEntry[] {
  const rank = (e: ReportEntry): number => {
    const top = TOP_ORDER.indexOf(String(e.path[0] ?? ''));
    const sub = e.path[0] === 'storage' ? STORAGE_ORDER.indexOf(String(e.path[1] ?? '')) : 0;
    return (top < 0 ? TOP_ORDER.length : top) * 100 + (sub < 0 ? 99 : sub);
  };
  return entries.map((e, i) => ({ e, i, r: rank(e) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.e);
}

/** Whether an [Install] section with at least one option exists (an empty section does nothing either). */
function hasInstallOptions(contents: string): boolean {
  let section = '';
  for (const raw of contents.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) section = line;
    else if (section === '[Install]' && line.includes('=')) return true;
  }
  return false;
}

/** systemd unit file syntax, as far as Ignition checks it: `[Section]` headers and `Key=value` lines. */
function unitContentProblem(contents: string): string | undefined {
  const lines = contents.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${(lines[++i] as string).trim()}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      if (!/^\[[^\]]+\]$/.test(line)) return 'invalid unit content: unable to find end of section';
      continue;
    }
    if (!line.includes('=')) return 'invalid unit content: unexpected newline encountered while parsing option name';
  }
  return undefined;
}

export interface IgnitionTextResult {
  config?: Obj;
  version?: string;
  entries: ReportEntry[];
}

/** Validates Ignition JSON text: syntax, spec version, structure (unknown keys, types), then semantics. */
export async function validateIgnitionText(text: string, file?: string): Promise<IgnitionTextResult> {
  const withFile = (entries: ReportEntry[]): ReportEntry[] => entries.map((e) => ({ ...e, ...(file ? { file } : {}) }));
  if (text.trim() === '') return { entries: withFile([{ kind: 'error', path: [], message: 'not a config (empty)' }]) };
  // JSON.parse decides what is JSON (YAML would accept more); the YAML parser supplies positions.
  const parsed = parseYaml(text);
  try {
    JSON.parse(text);
  } catch (err) {
    const position = jsonErrorPosition(text, (err as Error).message) ?? parsed.errors[0]?.position;
    return { entries: withFile([{ kind: 'error', path: [], message: `invalid JSON: ${(err as Error).message}`, ...(position ? { position } : {}) }]) };
  }
  const locate = (entries: ReportEntry[]): ReportEntry[] =>
    withFile(
      entries.map((e) => {
        const position = positionOf(parsed.nodes, e.path, /^Unused key/.test(e.message) ? 'key' : 'value');
        return position ? { ...e, position: insideBracket(text, position) } : e;
      }),
    );
  const config = parsed.value;
  if (!isObj(config)) return { entries: locate([{ kind: 'error', path: [], message: 'config is not valid' }]) };
  const version = obj(config.ignition).version;
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
    return { entries: locate([{ kind: 'error', path: ['ignition', 'version'], message: ERR.invalidVersion }]) };
  }
  const load = IGNITION_VALIDATORS[version];
  if (!load) {
    return {
      entries: locate([
        {
          kind: 'error',
          path: ['ignition', 'version'],
          message: `${ERR.unknownVersion} ${version} (supported: ${SUPPORTED_IGNITION_VERSIONS.join(', ')})`,
        },
      ]),
    };
  }
  const { validate } = await load();
  const structural = schemaEntries(validate, config, jsonTypeName);
  if (structural.some((e) => e.kind === 'error')) return { version, entries: locate(structural) };
  const semantic = validateIgnitionSemantics(config, version);
  return { config, version, entries: locate([...structural, ...semantic]) };
}

function jsonErrorPosition(text: string, message: string): SourcePosition | undefined {
  const offset = /position (\d+)/.exec(message)?.[1];
  if (offset === undefined) return undefined;
  const before = text.slice(0, Number(offset)).split('\n');
  return { line: before.length, column: (before[before.length - 1] ?? '').length + 1 };
}

/** Ignition's JSON decoder places an object or array just inside its opening bracket. */
function insideBracket(text: string, position: SourcePosition): SourcePosition {
  const line = text.split('\n')[position.line - 1] ?? '';
  const ch = line[position.column - 1];
  return ch === '{' || ch === '[' ? { line: position.line, column: position.column + 1 } : position;
}

function jsonTypeName(schemaType: string, _path: ConfigPath): string {
  return schemaType === 'integer' ? 'int' : schemaType === 'boolean' ? 'bool' : schemaType;
}
