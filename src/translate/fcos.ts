// Fedora CoreOS sugar on top of the shared translation: `boot_device` (LUKS root, mirrored boot disk) becomes the
// partitions, RAID arrays, LUKS volumes and filesystems FCOS expects; `grub.users` becomes /boot/grub2/user.cfg.
import type { ConfigPath } from '../report.js';
import { makeDataUrl } from './data-url.js';
import { ignitionKey, isObject, layerGenerated, type Json, type JsonObject, type TranslateContext, type Translated } from './base.js';
import { TranslationSet } from './translation-set.js';

const BIOS_GUID = '21686148-6449-6E6F-744E-656564454649';
const PREP_GUID = '9E1A2D38-C612-4316-AA26-8B49521E5A8B';
const ESP_GUID = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const RESERVED_GUID = '8DA63339-0007-60C0-C436-083AC8230908';

export const ERR_WRONG_PARTITION_NUMBER = 'incorrect partition number; a new partition will be created using reserved label';

/** Partition labels FCOS's own disk layout uses, and the number each must keep. */
const RESERVED_LABELS: Record<string, number> = { 'BIOS-BOOT': 1, 'PowerPC-PReP-boot': 1, 'EFI-SYSTEM': 2, boot: 3, root: 4 };

export interface VariantContext extends TranslateContext {
  /** Problems found in the output, at Ignition paths (mapped back to Butane paths by the caller). */
  outputReport: { warn(path: ConfigPath, message: string): void };
}

export function translateFcos(butane: JsonObject, base: Translated, ctx: VariantContext): Translated {
  let result = layerGenerated(bootDevice(butane), base);
  warnReservedPartitionLabels(result.config, ctx);
  result = layerGenerated(grubUsers(butane, ctx), result);
  return result;
}

function warnReservedPartitionLabels(config: JsonObject, ctx: VariantContext): void {
  const disks = isObject(config.storage) && Array.isArray(config.storage.disks) ? config.storage.disks : [];
  disks.forEach((disk, i) => {
    if (!isObject(disk) || disk.wipeTable === true || !Array.isArray(disk.partitions)) return;
    disk.partitions.forEach((p, j) => {
      if (!isObject(p) || typeof p.label !== 'string') return;
      const wanted = RESERVED_LABELS[p.label];
      const number = typeof p.number === 'number' ? p.number : 0;
      if (wanted !== undefined && number !== wanted) {
        ctx.outputReport.warn(['storage', 'disks', i, 'partitions', j, 'label'], ERR_WRONG_PARTITION_NUMBER);
      }
    });
  });
}

function bootDevice(butane: JsonObject): Translated | undefined {
  const bd = isObject(butane.boot_device) ? butane.boot_device : {};
  const luks = isObject(bd.luks) ? bd.luks : {};
  const cex = isObject(luks.cex) ? luks.cex : {};
  const mirror = isObject(bd.mirror) ? bd.mirror : {};
  const devices = Array.isArray(mirror.devices) ? mirror.devices.filter((d): d is string => typeof d === 'string') : [];
  const wantLuks = luks.tpm2 === true || (Array.isArray(luks.tang) && luks.tang.length > 0) || cex.enabled === true;
  const wantMirror = devices.length > 0;
  if (!wantLuks && !wantMirror) return undefined;

  const layout = typeof bd.layout === 'string' ? bd.layout : 'x86_64';
  const wantBios = layout === 'x86_64';
  const wantEsp = layout === 'x86_64' || layout === 'aarch64';
  const wantPrep = layout === 'ppc64le';

  const ts = new TranslationSet();
  const disks: JsonObject[] = [];
  const filesystems: JsonObject[] = [];
  const storage: JsonObject = {};
  const bd0: ConfigPath = ['boot_device'];

  if (wantMirror) {
    devices.forEach((device, i) => {
      const n = disks.length + 1;
      const partitions: JsonObject[] = [];
      if (wantBios) partitions.push({ label: `bios-${n}`, sizeMiB: 1, typeGuid: BIOS_GUID });
      else if (wantPrep) partitions.push({ label: `prep-${n}`, sizeMiB: 4, typeGuid: PREP_GUID });
      else partitions.push({ label: `reserved-${n}`, sizeMiB: 1, typeGuid: RESERVED_GUID });
      if (wantEsp) partitions.push({ label: `esp-${n}`, sizeMiB: 127, typeGuid: ESP_GUID });
      else partitions.push({ label: `reserved-${n}`, sizeMiB: 1, typeGuid: RESERVED_GUID });
      partitions.push({ label: `boot-${n}`, sizeMiB: 384 }, { label: `root-${n}` });
      const disk = { device, partitions, wipeTable: true };
      ts.addTree(['boot_device', 'mirror', 'devices', i], ['storage', 'disks', disks.length], disk);
      disks.push(disk);
      if (wantEsp) {
        const esp = { device: `/dev/disk/by-partlabel/esp-${n}`, format: 'vfat', label: `esp-${n}`, wipeFilesystem: true };
        ts.addTree(['boot_device', 'mirror', 'devices', i], ['storage', 'filesystems', filesystems.length], esp);
        filesystems.push(esp);
      }
    });
    ts.add(['boot_device', 'mirror', 'devices'], ['storage', 'disks']);
    const raidDevices = (prefix: string) => disks.map((_, i) => `/dev/disk/by-partlabel/${prefix}-${i + 1}`);
    storage.raid = [
      { devices: raidDevices('boot'), level: 'raid1', name: 'md-boot', options: ['--metadata=1.0'] },
      { devices: raidDevices('root'), level: 'raid1', name: 'md-root' },
    ];
    ts.addTree(['boot_device', 'mirror'], ['storage', 'raid'], storage.raid);
    const bootFs = { device: '/dev/md/md-boot', format: 'ext4', label: 'boot', wipeFilesystem: true };
    ts.addTree(['boot_device', 'mirror'], ['storage', 'filesystems', filesystems.length], bootFs);
    filesystems.push(bootFs);
  }

  if (wantLuks) {
    const luksDevice =
      layout === 's390x-eckd'
        ? `${String(luks.device)}2`
        : layout === 's390x-zfcp'
          ? `${String(luks.device)}4`
          : wantMirror
            ? '/dev/md/md-root'
            : '/dev/disk/by-partlabel/root';
    const lpath: ConfigPath = ['boot_device', 'luks'];
    const rpath: ConfigPath = ['storage', 'luks', 0];
    const entry: JsonObject = {};
    if (cex.enabled === true) {
      entry.cex = { enabled: true };
      ts.add([...lpath, 'cex', 'enabled'], [...rpath, 'cex', 'enabled']);
      ts.add([...lpath, 'cex'], [...rpath, 'cex']);
    } else {
      const clevis: JsonObject = {};
      if (Array.isArray(luks.tang) && luks.tang.length > 0) {
        clevis.tang = luks.tang.map((t, i) => {
          const out: JsonObject = {};
          if (isObject(t)) {
            for (const [k, v] of Object.entries(t)) {
              // Tang.URL is a plain string with omitempty in Ignition: an empty one is not printed.
              if (v === null || v === undefined || (k === 'url' && v === '')) continue;
              out[ignitionKey(k)] = v;
              ts.add([...lpath, 'tang', i, k], [...rpath, 'clevis', 'tang', i, ignitionKey(k)]);
            }
          }
          ts.add([...lpath, 'tang', i], [...rpath, 'clevis', 'tang', i]);
          return out;
        });
        ts.add([...lpath, 'tang'], [...rpath, 'clevis', 'tang']);
      }
      for (const k of ['threshold', 'tpm2'] as const) {
        if (luks[k] !== undefined && luks[k] !== null) {
          clevis[k] = luks[k];
          ts.add([...lpath, k], [...rpath, 'clevis', k]);
        }
      }
      entry.clevis = clevis;
      ts.add(lpath, [...rpath, 'clevis']);
    }
    entry.device = luksDevice;
    if (luks.discard !== undefined && luks.discard !== null) {
      entry.discard = luks.discard;
      ts.add([...lpath, 'discard'], [...rpath, 'discard']);
    }
    entry.label = 'luks-root';
    entry.name = 'root';
    entry.wipeVolume = true;
    for (const f of ['device', 'label', 'name', 'wipeVolume']) ts.add(lpath, [...rpath, f]);
    ts.add(lpath, rpath);
    ts.add(lpath, ['storage', 'luks']);
    storage.luks = [entry];
  }

  const rootFs = {
    device: wantLuks ? '/dev/mapper/root' : '/dev/md/md-root',
    format: 'xfs',
    label: 'root',
    wipeFilesystem: true,
  };
  ts.addTree(bd0, ['storage', 'filesystems', filesystems.length], rootFs);
  ts.add(bd0, ['storage', 'filesystems']);
  filesystems.push(rootFs);
  if (disks.length > 0) storage.disks = disks;
  storage.filesystems = filesystems;
  ts.add(bd0, ['storage']);
  return { config: { storage: orderStorage(storage) }, ts };
}

function orderStorage(storage: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of ['disks', 'filesystems', 'luks', 'raid']) if (storage[k] !== undefined) out[k] = storage[k];
  return out;
}

function grubUsers(butane: JsonObject, ctx: VariantContext): Translated | undefined {
  const grub = isObject(butane.grub) ? butane.grub : {};
  const users = Array.isArray(grub.users) ? grub.users.filter(isObject) : [];
  if (users.length === 0) return undefined;
  const names = users.map((u) => String(u.name ?? ''));
  const text =
    `# Generated by Butane\n\nset superusers="${names.join(' ')}"\n` +
    users.map((u) => `password_pbkdf2 ${String(u.name ?? '')} ${String(u.password_hash ?? '')}\n`).join('');
  const url = makeDataUrl(Buffer.from(text, 'utf8'), undefined, ctx.autoCompress);
  const storage: JsonObject = {
    files: [{ path: '/boot/grub2/user.cfg', append: [{ compression: url.compression ?? '', source: url.source }] }],
    filesystems: [{ device: '/dev/disk/by-label/boot', format: 'ext4', path: '/boot' }],
  };
  const ts = new TranslationSet();
  ts.addTree(['grub', 'users'], ['storage'], storage);
  return { config: { storage }, ts };
}

export type { Json };
