// Butane ≥ 0.24 validates an Ignition config embedded inline for merging or replacing (`ignition.config.merge[]`
// or `.replace`) against the spec the output uses, and reports what Ignition would find in it at paths inside that
// config. A config of another version is not checked, with a warning. (Its check of `local` files never matches
// the path it tests, so local configs are not validated, and neither are they here.)
import type { ConfigPath, ReportEntry } from '../report.js';
import { validateDups } from '../ignition/dups.js';
import { isObj, obj } from '../ignition/go-values.js';
import { validateRules } from '../ignition/rules.js';
import { schemaEntries } from '../core/schema-entries.js';
import type { CompiledValidator, IgnitionSpecEntry } from '../core/spec-types.js';

export const ERR_UNKNOWN_MERGED_VERSION = 'skipping validation for the merge/replace ignition config due to an unkown version';

export interface MergedConfigCheck {
  spec: IgnitionSpecEntry;
  validate: CompiledValidator;
}

/** Go's semver.NewVersion, strict: no leading zeros, no `v`. */
const SEMVER = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export function validateMergedConfig(text: string, at: ConfigPath, check: MergedConfigCheck): ReportEntry[] {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return [{ kind: 'error', path: at, message: 'config is not valid' }];
  }
  if (!isObj(config)) return [{ kind: 'error', path: at, message: 'config is not valid' }];
  const version = obj(config.ignition).version;
  if (typeof version === 'string' && SEMVER.test(version) && version !== check.spec.version) {
    return [{ kind: 'warning', path: [...at.slice(0, -1), 'version'], message: ERR_UNKNOWN_MERGED_VERSION }];
  }
  const entries: ReportEntry[] = [];
  if (typeof version !== 'string' || !SEMVER.test(version)) {
    entries.push({ kind: 'error', path: ['ignition', 'version'], message: "invalid config version (couldn't parse)" });
  }
  const structural = schemaEntries(check.validate, config, (t) => (t === 'integer' ? 'int' : t === 'boolean' ? 'bool' : t));
  entries.push(...structural);
  if (structural.some((e) => e.kind === 'error')) return entries;
  entries.push(...validateRules(config, check.spec.minor, check.spec.experimental), ...validateDups(config));
  return entries;
}
