// Ignition's semantic validation (the Validate methods of config/v3_*/types), in the order Ignition's reflective
// walk calls them: a struct's own check, then its fields in declaration order. `minor` is the 3.x spec; checks that
// changed between specs branch on it. Storage is in rules-storage.ts, duplicate detection in dups.ts.
import type { ConfigPath, ReportEntry } from '../report.js';
import { parseGoUrl, validateUrl } from './go-url.js';
import { Findings, isTrue, list, nilOrEmpty, notEmpty, obj, pathExt, ptr, str, type Obj } from './go-values.js';
import { validateResource } from './rules-resource.js';
import { validateStorage } from './rules-storage.js';
import { parseUnit } from './unit-file.js';

export const ERR_SOURCE_REQUIRED = 'source is required';
import { ERR_URL } from './rules-resource.js';

/** Resource.validateRequiredSource: merged configs and CAs must name a source Ignition can fetch. */
function requiredSource(source: unknown, minor: number): string | undefined {
  if (nilOrEmpty(source)) return ERR_SOURCE_REQUIRED;
  return validateUrl(source as string, minor);
}

function validateProxyUrl(f: Findings, value: unknown, at: ConfigPath, httpOk: boolean): void {
  const s = ptr(value);
  if (s === undefined) return;
  const u = parseGoUrl(s);
  if (!u) return f.error(at, ERR_URL);
  if (u.scheme !== 'http' && u.scheme !== 'https') return f.error(at, 'proxies must be http(s)');
  if (u.scheme === 'http' && !httpOk) f.warn(at, 'insecure plaintext HTTP proxy specified for HTTPS resources');
}

function validateIgnition(f: Findings, ignition: Obj, minor: number): void {
  const base: ConfigPath = ['ignition'];
  const config = obj(ignition.config);
  const merge = list(config.merge);
  if (minor >= 1) merge.forEach((r, i) => f.error([...base, 'config', 'merge', i], requiredSource(obj(r).source, minor)));
  merge.forEach((r, i) => validateResource(f, r, [...base, 'config', 'merge', i], minor, 'config'));
  validateResource(f, config.replace, [...base, 'config', 'replace'], minor, 'config');
  if (minor >= 1) {
    const proxy = obj(ignition.proxy);
    validateProxyUrl(f, proxy.httpProxy, [...base, 'proxy', 'httpProxy'], true);
    validateProxyUrl(f, proxy.httpsProxy, [...base, 'proxy', 'httpsProxy'], false);
  }
  const cas = list(obj(obj(ignition.security).tls).certificateAuthorities);
  const caPath: ConfigPath = [...base, 'security', 'tls', 'certificateAuthorities'];
  if (minor >= 1) cas.forEach((r, i) => f.error([...caPath, i], requiredSource(obj(r).source, minor)));
  cas.forEach((r, i) => validateResource(f, r, [...caPath, i], minor, 'ca'));
}

/** Config.Validate: a file, directory or link may not be where a unit or drop-in with contents is written. */
function validateUnitPathConflicts(f: Findings, config: Obj): void {
  const paths = new Set<string>();
  for (const u of list(obj(config.systemd).units)) {
    const unit = obj(u);
    if (!nilOrEmpty(unit.contents)) paths.add(`/etc/systemd/system/${str(unit.name)}`);
    for (const d of list(unit.dropins)) {
      const dropin = obj(d);
      if (!nilOrEmpty(dropin.contents)) paths.add(`/etc/systemd/system/${str(unit.name)}.d/${str(dropin.name)}`);
    }
  }
  const storage = obj(config.storage);
  for (const field of ['files', 'directories', 'links']) {
    list(storage[field]).forEach((n, i) => {
      if (paths.has(str(obj(n).path))) f.error(['storage', field, i, 'path'], 'path conflicts with systemd unit or dropin');
    });
  }
}

const UNIT_EXTENSIONS = ['.service', '.socket', '.device', '.mount', '.automount', '.swap', '.target', '.path', '.timer', '.snapshot', '.slice', '.scope'];

function hasInstall(contents: string | undefined): boolean | undefined {
  if (contents === undefined) return undefined;
  const parsed = parseUnit(contents);
  return 'options' in parsed ? parsed.options.some((o) => o.section === 'Install') : undefined;
}

function validateSystemd(f: Findings, systemd: Obj): void {
  const units = list(systemd.units).map(obj);
  // Systemd.Validate: an enabled instance of a template that has contents but no [Install] section.
  const byName = new Map(units.map((u) => [str(u.name), u]));
  units.forEach((unit, i) => {
    const m = /^(.+?)@(.+?)\.service$/.exec(str(unit.name));
    if (!m || !isTrue(unit.enabled)) return;
    const template = `${m[1]}@.service`;
    const t = byName.get(template);
    if (!t || !notEmpty(t.contents)) return;
    if (hasInstall(t.contents) === false) {
      f.warn(['systemd', 'units', i, 'contents'], `template unit ${JSON.stringify(template)} for ${JSON.stringify(str(unit.name))} doesn't have Install section`);
    }
  });
  units.forEach((unit, i) => {
    const at: ConfigPath = ['systemd', 'units', i];
    const name = str(unit.name);
    if (!UNIT_EXTENSIONS.includes(pathExt(name))) f.error([...at, 'name'], 'invalid systemd unit extension');
    const contents = ptr(unit.contents);
    const parsed = contents === undefined ? { options: [] } : parseUnit(contents);
    if ('error' in parsed) f.error([...at, 'contents'], `invalid unit content: ${parsed.error}`);
    else if (isTrue(unit.enabled) && !nilOrEmpty(contents) && !parsed.options.some((o) => o.section === 'Install')) {
      f.warn([...at, 'contents'], `unit ${JSON.stringify(name)} is enabled, but has no install section so enable does nothing`);
    }
    list(unit.dropins).forEach((d, j) => {
      const dropin = obj(d);
      const dc = ptr(dropin.contents);
      const dp = dc === undefined ? undefined : parseUnit(dc);
      if (dp && 'error' in dp) f.error([...at, 'dropins', j, 'contents'], `invalid unit content: ${dp.error}`);
      if (pathExt(str(dropin.name)) !== '.conf') f.error([...at, 'dropins', j, 'name'], 'invalid systemd drop-in extension');
    });
  });
}

/** Every semantic check Ignition runs on a config of spec 3.`minor`, in its order. */
export function validateRules(config: Obj, minor: number, experimental = false): ReportEntry[] {
  const f = new Findings();
  validateUnitPathConflicts(f, config);
  validateIgnition(f, obj(config.ignition), minor);
  validateStorage(f, obj(config.storage), minor, experimental);
  validateSystemd(f, obj(config.systemd));
  return f.entries;
}

