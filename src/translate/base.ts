// The translation every variant shares (butane's "base" schema): field renaming, resources to data URLs, local
// files, users' local ssh keys, units' local contents, mount/swap units for `with_mount_unit`, and trees.
import type { GoShape } from '../core/spec-types.js';
import { ignitionSpec } from '../ignition/validate.js';
import type { ConfigPath } from '../report.js';
import { makeDataUrl, makePlainDataUrl } from './data-url.js';
import { ERR_NO_FILES_DIR, LocalFileError, readLocalFile } from './files-dir.js';
import { mergeConfigs } from './merge.js';
import { escapeUnitPath } from './systemd-escape.js';
import { TranslationSet } from './translation-set.js';
import { processQuadlets } from './quadlets.js';
import { processTrees } from './trees.js';
import { isObject, type Json, type JsonObject, type TranslateContext, type Translated } from './types.js';

export { isObject, type Json, type JsonObject, type TranslateContext, type Translated } from './types.js';

export { ERR_FILE_TYPE, ERR_NODE_EXISTS, ERR_TREE_NOT_DIRECTORY } from './trees.js';


/** `size_mib` → `sizeMiB`, `type_guid` → `typeGuid`, `ssh_authorized_keys` → `sshAuthorizedKeys`. */
export function ignitionKey(butaneKey: string): string {
  return butaneKey
    .split('_')
    .map((part, i) => (i === 0 ? part : part === 'mib' ? 'MiB' : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');
}

function pattern(path: ConfigPath): string {
  return path.map((p) => (typeof p === 'number' ? '*' : p)).join('.');
}

const RESOURCE_PATTERNS = new Set([
  'ignition.config.merge.*',
  'ignition.config.replace',
  'ignition.security.tls.certificate_authorities.*',
  'storage.files.*.contents',
  'storage.files.*.append.*',
  'storage.luks.*.key_file',
]);

/** Butane-only keys that never reach the output as themselves. */
const CONSUMED = new Set(['storage.trees', 'storage.filesystems.*.with_mount_unit', 'systemd.quadlets']);

class Translator {
  readonly ts = new TranslationSet();
  private readonly shapes: Readonly<Record<string, GoShape>>;
  constructor(private readonly ctx: TranslateContext) {
    this.shapes = ignitionSpec(ctx.spec.ignition)?.shapes ?? {};
  }

  /**
   * Translates one Butane value at `from` into the Ignition value at `to`, printed the way Ignition's Go structs
   * print it (see {@link GoShape}): list entries are always kept, a struct with nothing set is left out unless it
   * is held by pointer, plain strings are printed even when empty.
   */
  value(v: Json, from: ConfigPath, to: ConfigPath, inList = false): Json {
    if (v === null || v === undefined) return undefined;
    const pat = pattern(from);
    if (Array.isArray(v)) {
      const out: Json[] = [];
      v.forEach((item, i) => {
        const t = this.value(item, [...from, i], [...to, out.length], true);
        if (t !== undefined) out.push(t);
      });
      if (out.length === 0) return undefined;
      this.ts.add(from, to);
      return out;
    }
    if (isObject(v)) {
      const out: JsonObject = {};
      for (const [k, child] of Object.entries(v)) {
        const childPat = pat === '' ? k : `${pat}.${k}`;
        if (CONSUMED.has(childPat)) continue;
        if (RESOURCE_PATTERNS.has(pat) && (k === 'inline' || k === 'local')) continue;
        if ((pat === 'systemd.units.*' || pat === 'systemd.units.*.dropins.*') && k === 'contents_local') continue;
        if (pat === 'passwd.users.*' && k === 'ssh_authorized_keys_local') continue;
        const key = ignitionKey(k);
        const t = this.value(child, [...from, k], [...to, key]);
        if (t === undefined) continue;
        if (this.shape([...to, key]) === 'omitZero' && (t === 0 || t === '')) continue;
        out[key] = t;
      }
      if (RESOURCE_PATTERNS.has(pat)) this.resource(v, out, from, to);
      if (pat === 'systemd.units.*' || pat === 'systemd.units.*.dropins.*') this.contentsLocal(v, out, from, to);
      if (pat === 'passwd.users.*') this.sshKeysLocal(v, out, from, to);
      const zero = this.fillUnset(out, to);
      if (zero && !inList && this.shape(to) !== 'pointer') return undefined;
      this.ts.add(from, to);
      return out;
    }
    this.ts.add(from, to);
    return v;
  }

  private shape(to: ConfigPath): GoShape | undefined {
    return this.shapes[pattern(to)];
  }

  /**
   * Adds the plain strings (and 3.0's null sources) Go prints when unset, and says whether the struct is Go's
   * zero value: nothing in it but such unset fields.
   */
  private fillUnset(out: JsonObject, to: ConfigPath): boolean {
    const prefix = `${pattern(to)}.`;
    for (const [path, kind] of Object.entries(this.shapes)) {
      if (!path.startsWith(prefix) || path.slice(prefix.length).includes('.')) continue;
      const key = path.slice(prefix.length);
      if (out[key] !== undefined) continue;
      if (kind === 'always') out[key] = '';
      else if (kind === 'null') out[key] = null;
    }
    return Object.entries(out).every(([k, v]) => {
      const kind = this.shape([...to, k]);
      return (kind === 'always' && v === '') || (kind === 'null' && v === null);
    });
  }

  private resource(from: JsonObject, out: JsonObject, fromPath: ConfigPath, toPath: ConfigPath): void {
    const put = (contents: Uint8Array, key: 'inline' | 'local') => {
      const src = [...fromPath, key];
      if (this.ctx.spec.base === 1) {
        out.source = makePlainDataUrl(contents);
        this.ts.add(src, [...toPath, 'source']);
        return;
      }
      const url = makeDataUrl(contents, out.compression as string | undefined, this.ctx.autoCompress);
      out.source = url.source;
      this.ts.add(src, [...toPath, 'source']);
      if (url.compression !== undefined) {
        out.compression = url.compression;
        this.ts.add(src, [...toPath, 'compression']);
      }
    };
    if (typeof from.local === 'string') {
      const contents = this.readLocal(from.local, [...fromPath, 'local']);
      if (contents) put(contents, 'local');
    }
    if (typeof from.inline === 'string') put(Buffer.from(from.inline, 'utf8'), 'inline');
  }

  private contentsLocal(from: JsonObject, out: JsonObject, fromPath: ConfigPath, toPath: ConfigPath): void {
    if (typeof from.contents_local !== 'string' || from.contents_local === '') return;
    const contents = this.readLocal(from.contents_local, [...fromPath, 'contents_local']);
    if (!contents) return;
    out.contents = contents.toString('utf8');
    this.ts.add([...fromPath, 'contents_local'], [...toPath, 'contents']);
  }

  private sshKeysLocal(from: JsonObject, out: JsonObject, fromPath: ConfigPath, toPath: ConfigPath): void {
    const files = from.ssh_authorized_keys_local;
    if (!Array.isArray(files) || files.length === 0) return;
    const at = [...fromPath, 'ssh_authorized_keys_local'];
    this.ts.add(at, [...toPath, 'sshAuthorizedKeys']);
    if (!this.ctx.filesDir) {
      this.ctx.report.error(at, ERR_NO_FILES_DIR);
      return;
    }
    const keys = Array.isArray(out.sshAuthorizedKeys) ? [...(out.sshAuthorizedKeys as Json[])] : [];
    files.forEach((file, i) => {
      if (typeof file !== 'string') return;
      const contents = this.readLocal(file, [...at, i]);
      if (!contents) return;
      for (const line of contents.toString('utf8').split(/\r?\n/)) {
        if (line === '') continue;
        this.ts.add([...at, i], [...toPath, 'sshAuthorizedKeys', keys.length]);
        keys.push(line);
      }
    });
    if (keys.length > 0) out.sshAuthorizedKeys = keys;
  }

  readLocal(relative: string, at: ConfigPath): Buffer | undefined {
    try {
      return readLocalFile(relative, this.ctx.filesDir);
    } catch (err) {
      this.ctx.report.error(at, err instanceof LocalFileError ? err.message : String(err));
      return undefined;
    }
  }
}

/** Translates everything but variant-specific sugar (boot_device, grub), which the variant layers on top. */
export function translateBase(butane: JsonObject, ctx: TranslateContext): Translated {
  const tr = new Translator(ctx);
  const out: JsonObject = { ignition: { version: ctx.spec.ignition } };
  tr.ts.add(['version'], ['ignition', 'version']);
  tr.ts.add(['ignition'], ['ignition']);
  for (const [key, value] of Object.entries(butane)) {
    if (key === 'variant' || key === 'version' || key === 'boot_device' || key === 'grub') continue;
    const outKey = ignitionKey(key);
    const t = tr.value(value, [key], [outKey]);
    if (t === undefined) continue;
    if (key === 'ignition' && isObject(t)) out.ignition = { ...t, version: ctx.spec.ignition };
    else out[outKey] = t;
  }
  let result: Translated = { config: out, ts: tr.ts };
  result = layerGenerated(mountUnits(butane, ctx), result);
  processTrees(butane, result, ctx, (relative, at) => tr.readLocal(relative, at));
  processQuadlets(butane, result, ctx, (relative, at) => tr.readLocal(relative, at));
  return result;
}

/** Lays the user's translated config over a generated one, keeping the origin of every output path. */
export function layerGenerated(generated: Translated | undefined, user: Translated): Translated {
  if (!generated) return user;
  const { merged, relocate } = mergeConfigs(generated.config, user.config);
  const ts = new TranslationSet();
  ts.mergeFrom(generated.ts);
  ts.mergeFrom(user.ts, relocate);
  return { config: merged as JsonObject, ts };
}

function mountUnits(butane: JsonObject, ctx: TranslateContext): Translated | undefined {
  const storage = isObject(butane.storage) ? butane.storage : {};
  const filesystems = Array.isArray(storage.filesystems) ? storage.filesystems : [];
  const luks = Array.isArray(storage.luks) ? storage.luks.filter(isObject) : [];
  const units: JsonObject[] = [];
  const ts = new TranslationSet();
  filesystems.forEach((fs, i) => {
    if (!isObject(fs) || fs.with_mount_unit !== true) return;
    const device = typeof fs.device === 'string' ? fs.device : '';
    const format = typeof fs.format === 'string' ? fs.format : '';
    const swap = format === 'swap' && ctx.spec.base >= 4;
    // Validation has already required these; without them there is nothing sensible to generate.
    if (!format || (!swap && typeof fs.path !== 'string')) return;
    const remote = luks.some(
      (l) =>
        (device === `/dev/mapper/${String(l.name)}` || device === `/dev/disk/by-id/dm-name-${String(l.name)}`) &&
        isObject(l.clevis) &&
        Array.isArray(l.clevis.tang) &&
        l.clevis.tang.length > 0,
    );
    const mountOptions = Array.isArray(fs.mount_options) ? fs.mount_options.map(String) : [];
    const unit = {
      contents: mountUnitText({ device, format, path: String(fs.path ?? ''), mountOptions, remote, swap }),
      enabled: true,
      name: swap ? `${escapeUnitPath(device)}.swap` : `${escapeUnitPath(String(fs.path))}.mount`,
    };
    ts.addTree(['storage', 'filesystems', i, 'with_mount_unit'], ['systemd', 'units', units.length], unit);
    units.push(unit);
  });
  if (units.length === 0) return undefined;
  ts.add(['storage', 'filesystems'], ['systemd', 'units']);
  ts.add(['storage', 'filesystems'], ['systemd']);
  return { config: { systemd: { units } }, ts };
}

interface MountUnitFacts {
  device: string;
  format: string;
  path: string;
  mountOptions: string[];
  remote: boolean;
  swap: boolean;
}

/** The text butane generates for `with_mount_unit` (no trailing newline, like butane's). */
export function mountUnitText(f: MountUnitFacts): string {
  const options = [...f.mountOptions, ...(f.remote ? ['_netdev'] : [])];
  const optionLine = options.length > 0 ? [`Options=${options.join(',')}`] : [];
  if (f.swap) {
    return ['# Generated by Butane', '[Swap]', `What=${f.device}`, ...optionLine, '', '[Install]', 'RequiredBy=swap.target'].join('\n');
  }
  const fsck = `systemd-fsck@${escapeUnitPath(f.device)}.service`;
  return [
    '# Generated by Butane',
    '[Unit]',
    `Requires=${fsck}`,
    `After=${fsck}`,
    '',
    '[Mount]',
    `Where=${f.path}`,
    `What=${f.device}`,
    `Type=${f.format}`,
    ...optionLine,
    '',
    '[Install]',
    `RequiredBy=${f.remote ? 'remote-fs.target' : 'local-fs.target'}`,
  ].join('\n');
}
