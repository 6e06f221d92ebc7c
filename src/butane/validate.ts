// Butane's own rules on the source document, checked before translation: the ones a JSON Schema cannot say
// (one content source per resource, mount-unit prerequisites, boot_device layouts, decimal-looking modes).
// Messages are butane's, word for word, so users can search for them.
import type { ConfigPath, ReportEntry } from '../report.js';
import { validateMergedConfig, type MergedConfigCheck } from './merged-config.js';
import { findSpec, atLeast, type Variant } from './versions.js';

export const ERR_TOO_MANY_RESOURCE_SOURCES = 'only one of the following can be set: inline, local, source';
export const ERR_TOO_MANY_SYSTEMD_SOURCES = 'only one of the following can be set: contents, contents_local';
export const ERR_TREE_NO_LOCAL = 'local is required';
export const ERR_DECIMAL_MODE = 'unreasonable mode would be reasonable if specified in octal; remember to add a leading zero';
export const ERR_MOUNT_UNIT_NO_PATH = 'path is required if with_mount_unit is true and format is not swap';
export const ERR_MOUNT_UNIT_NO_FORMAT = 'format is required if with_mount_unit is true';
export const ERR_MOUNT_POINT_FORBIDDEN = 'path must be under /etc or /var if with_mount_unit is true';
export const ERR_UNKNOWN_LAYOUT = 'layout must be one of: aarch64, ppc64le, s390x-eckd, s390x-virt, s390x-zfcp, x86_64';
/** fcos 1.3–1.5 accept only these three layouts, and butane ≥ 0.26 says so. */
export const ERR_UNKNOWN_LAYOUT_LEGACY = 'layout must be one of: aarch64, ppc64le, x86_64';
export const ERR_MIRROR_REQUIRES_LAYOUT = 'boot_device.layout should be specified when boot_device.mirror is specified';
export const ERR_NO_LUKS_METHOD = 'no method specified for luks';
export const ERR_TOO_FEW_MIRROR_DEVICES = 'mirroring requires at least two devices';
export const ERR_NO_LUKS_BOOT_DEVICE = 'device is required for layouts: s390x-eckd, s390x-zfcp';
export const ERR_MIRROR_NOT_SUPPORTED = 'mirroring not supported on layouts: s390x-eckd, s390x-zfcp, s390x-virt';
export const ERR_LUKS_BOOT_DEVICE_BAD_NAME = 'device name must start with /dev/dasd on s390x-eckd layout or /dev/sd on s390x-zfcp layout';
export const ERR_REUSE_BY_LABEL =
  'partitions cannot be reused by label; number must be specified except on boot disk (/dev/disk/by-id/coreos-boot-disk) or when wipe_table is true';
export const ERR_CEX_ARCHITECTURE = 'when using cex the targeted architecture must match s390x';
export const ERR_CEX_WITH_CLEVIS = 'cannot use cex with clevis';
export const ERR_GRUB_USER_NAME = 'field "name" is required';
export const ERR_GRUB_PASSWORD = 'field "password_hash" is required';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const isTrue = (v: unknown): boolean => v === true;
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

export interface ValidateButaneOptions {
  filesDir?: string;
  /** When given, inline configs to merge or replace are validated as Ignition configs of that spec. */
  mergedConfig?: MergedConfigCheck;
}

export function validateButane(doc: Obj, variant: Variant, version: string, options: ValidateButaneOptions = {}): ReportEntry[] {
  const spec = findSpec(variant, version);
  if (!spec) throw new Error(`unknown Butane spec ${variant} ${version}`);
  const entries: ReportEntry[] = [];
  const error = (path: ConfigPath, message: string): void => void entries.push({ kind: 'error', path, message });
  const warn = (path: ConfigPath, message: string): void => void entries.push({ kind: 'warning', path, message });

  const resource = (value: unknown, path: ConfigPath): void => {
    if (!isObj(value)) return;
    // butane names the last of local, inline, source that is set
    const set = ['local', 'inline', 'source'].filter((k) => value[k] !== undefined && value[k] !== null);
    if (set.length > 1) return error([...path, set[set.length - 1] as string], ERR_TOO_MANY_RESOURCE_SOURCES);
    if (path[1] === 'config' && typeof value.inline === 'string' && options.mergedConfig) {
      entries.push(...validateMergedConfig(value.inline, [...path, 'inline'], options.mergedConfig));
    }
  };

  // fcos ≥ 1.6's Config.Validate runs before the checks on its fields.
  const storage = obj(doc.storage);
  if (variant === 'fcos' && atLeast(spec, '1.6')) {
    // Mirrored boot disks are rewritten whole, so their partitions may be found by label.
    const mirrored = new Set(list(obj(obj(doc.boot_device).mirror).devices));
    list(storage.disks).forEach((d, i) => {
      const disk = obj(d);
      if (disk.device === '/dev/disk/by-id/coreos-boot-disk' || isTrue(disk.wipe_table) || mirrored.has(disk.device)) return;
      list(disk.partitions).forEach((p, j) => {
        const part = obj(p);
        if ((part.number === undefined || part.number === 0) && part.label !== undefined) {
          warn(['storage', 'disks', i, 'partitions', j, 'number'], ERR_REUSE_BY_LABEL);
        }
      });
    });
    list(storage.filesystems).forEach((f, i) => {
      const fs = obj(f);
      if (typeof fs.path === 'string' && isTrue(fs.with_mount_unit) && !/^\/(etc|var)(\/|$)/.test(fs.path)) {
        error(['storage', 'filesystems', i, 'path'], ERR_MOUNT_POINT_FORBIDDEN);
      }
    });
  }

  const ignition = obj(doc.ignition);
  const config = obj(ignition.config);
  list(config.merge).forEach((r, i) => resource(r, ['ignition', 'config', 'merge', i]));
  resource(config.replace, ['ignition', 'config', 'replace']);
  list(obj(obj(ignition.security).tls).certificate_authorities).forEach((r, i) =>
    resource(r, ['ignition', 'security', 'tls', 'certificate_authorities', i]),
  );

  list(storage.files).forEach((f, i) => {
    const path = ['storage', 'files', i];
    const file = obj(f);
    resource(file.contents, [...path, 'contents']);
    list(file.append).forEach((r, j) => resource(r, [...path, 'append', j]));
    if (typeof file.mode === 'number' && isDecimalLookingMode(file.mode, false)) warn([...path, 'mode'], ERR_DECIMAL_MODE);
  });
  list(storage.directories).forEach((d, i) => {
    const mode = obj(d).mode;
    if (typeof mode === 'number' && isDecimalLookingMode(mode, true)) warn(['storage', 'directories', i, 'mode'], ERR_DECIMAL_MODE);
  });
  list(storage.luks).forEach((l, i) => resource(obj(l).key_file, ['storage', 'luks', i, 'key_file']));
  list(storage.trees).forEach((t, i) => {
    if (!nonEmpty(obj(t).local)) error(['storage', 'trees', i], ERR_TREE_NO_LOCAL);
  });
  list(storage.filesystems).forEach((f, i) => {
    const fs = obj(f);
    const path = ['storage', 'filesystems', i];
    if (!isTrue(fs.with_mount_unit)) return;
    if (spec.base < 4) {
      // Before swap units (base v0_4), a mount unit needs both, each reported on its own.
      if (!nonEmpty(fs.path)) error([...path, 'path'], ERR_MOUNT_UNIT_NO_PATH);
      if (!nonEmpty(fs.format)) error([...path, 'format'], ERR_MOUNT_UNIT_NO_FORMAT);
    } else if (!nonEmpty(fs.format)) error([...path, 'format'], ERR_MOUNT_UNIT_NO_FORMAT);
    else if (fs.format !== 'swap' && !nonEmpty(fs.path)) error([...path, 'path'], ERR_MOUNT_UNIT_NO_PATH);
  });

  list(obj(doc.systemd).units).forEach((u, i) => {
    const unit = obj(u);
    const path = ['systemd', 'units', i];
    if (unit.contents_local !== undefined && unit.contents !== undefined) error([...path, 'contents_local'], ERR_TOO_MANY_SYSTEMD_SOURCES);
    list(unit.dropins).forEach((d, j) => {
      const dropin = obj(d);
      if (dropin.contents_local !== undefined && dropin.contents !== undefined) {
        error([...path, 'dropins', j, 'contents_local'], ERR_TOO_MANY_SYSTEMD_SOURCES);
      }
    });
  });

  if (variant === 'fcos') {
    validateBootDevice(obj(doc.boot_device), { s390x: atLeast(spec, '1.6'), strictLayout: atLeast(spec, '1.7') }, error, warn);
    list(obj(doc.grub).users).forEach((u, i) => {
      const user = obj(u);
      if (!nonEmpty(user.name)) error(['grub', 'users', i, 'name'], ERR_GRUB_USER_NAME);
      if (!nonEmpty(user.password_hash)) error(['grub', 'users', i, 'password_hash'], ERR_GRUB_PASSWORD);
    });
  }
  return entries;
}

interface BootDeviceRules {
  /** fcos ≥ 1.6: the s390x layouts and CEX. */
  s390x: boolean;
  /** fcos ≥ 1.7: a mirror without a layout is an error (a warning before), and a LUKS device needs a method. */
  strictLayout: boolean;
}

type Add = (path: ConfigPath, message: string) => void;

// Butane v0.29's BootDevice.Validate, then its walk of the struct's fields (luks, then mirror).
function validateBootDevice(bd: Obj, rules: BootDeviceRules, error: Add, warn: Add): void {
  const { s390x } = rules;
  const devices = list(obj(bd.mirror).devices);
  const luks = obj(bd.luks);
  const layout = bd.layout;
  if (devices.length > 0 && typeof layout !== 'string') (rules.strictLayout ? error : warn)(['boot_device', 'mirror'], ERR_MIRROR_REQUIRES_LAYOUT);
  if (typeof layout === 'string') {
    const device = luks.device;
    // butane reports every layout problem at boot_device.layout
    const at = ['boot_device', 'layout'];
    if (['aarch64', 'ppc64le', 'x86_64'].includes(layout)) {
      // always allowed
    } else if (!s390x) {
      error(at, ERR_UNKNOWN_LAYOUT_LEGACY);
    } else if (layout === 's390x-eckd' || layout === 's390x-zfcp') {
      const pattern = layout === 's390x-eckd' ? /\/dev\/dasd[a-z]$/ : /\/dev\/sd[a-z]$/;
      if (!nonEmpty(device)) error(at, ERR_NO_LUKS_BOOT_DEVICE);
      else if (!pattern.test(device)) error(at, ERR_LUKS_BOOT_DEVICE_BAD_NAME);
    } else if (layout !== 's390x-virt') {
      error(at, ERR_UNKNOWN_LAYOUT);
    }
    if (s390x && layout.startsWith('s390x') && devices.length > 0) error(at, ERR_MIRROR_NOT_SUPPORTED);
  }
  if (s390x && isTrue(obj(luks.cex).enabled)) {
    if (typeof layout !== 'string') error(['boot_device', 'luks', 'cex'], ERR_CEX_ARCHITECTURE);
    else if (!layout.startsWith('s390x')) error(['boot_device', 'layout'], ERR_CEX_ARCHITECTURE);
    if (list(luks.tang).length > 0 || isTrue(luks.tpm2)) error(['boot_device', 'luks'], ERR_CEX_WITH_CLEVIS);
  }
  // butane checks the mirror both from BootDevice.Validate and on its own walk of the struct: reported twice, with
  // the LUKS check of that walk in between. The LUKS error's path is the luks object's own, with `luks` appended.
  const tooFew = (): void => {
    if (devices.length === 1) error(['boot_device', 'mirror', 'devices'], ERR_TOO_FEW_MIRROR_DEVICES);
  };
  tooFew();
  if (rules.strictLayout && nonEmpty(luks.device)) {
    // butane compares each tang entry with the zero Tang: url is a plain string (set when non-empty), thumbprint and
    // advertisement are pointers (set even when "")
    const set = (v: unknown): boolean => v !== undefined && v !== null;
    const tang = list(luks.tang).some((t) => isObj(t) && (nonEmpty(t.url) || set(t.thumbprint) || set(t.advertisement)));
    if (!tang && !isTrue(luks.tpm2) && !isTrue(obj(luks.cex).enabled)) error(['boot_device', 'luks', 'luks'], ERR_NO_LUKS_METHOD);
  }
  tooFew();
}

/**
 * Whether a mode looks like octal digits typed as a decimal number (`644` meaning 0644): the number is an
 * unusual mode, and reading its digits as octal gives a usual one.
 */
export function isDecimalLookingMode(mode: number, directory: boolean): boolean {
  const octal = decimalDigitsAsOctal(mode);
  return octal !== undefined && !isTypicalMode(mode, directory) && isTypicalMode(octal, directory);
}

function decimalDigitsAsOctal(mode: number): number | undefined {
  if (!Number.isInteger(mode) || mode < 0 || mode > 7777) return undefined;
  let result = 0;
  for (const digit of String(mode).padStart(4, '0')) {
    const d = Number(digit);
    if (d > 7) return undefined;
    result = result * 8 + d;
  }
  return result;
}

/** A mode a person would plausibly mean: permissions widen from other to group to user, someone can read, … */
function isTypicalMode(mode: number, directory: boolean): boolean {
  if (mode === 0) return true;
  let hadR = false;
  let hadW = false;
  let hadX = false;
  for (const shift of [0, 3, 6]) {
    const perm = (mode >> shift) & 7;
    const r = (perm & 4) !== 0;
    const w = (perm & 2) !== 0;
    const x = (perm & 1) !== 0;
    if ((!r && hadR) || (!w && hadW) || (!x && hadX)) return false;
    if (x && hadR && !hadX) return false;
    if ((w || x) && !r) return false;
    hadR ||= r;
    hadW ||= w;
    hadX ||= x;
  }
  if (!hadR) return false;
  if (directory) {
    if (!hadX) return false;
    if (mode & 0o4000) return false;
    if (mode & 0o3000 && !hadW) return false;
  } else {
    if (mode & 0o6000 && (!hadX || mode & 2)) return false;
    if (mode & 0o1000) return false;
  }
  return true;
}
