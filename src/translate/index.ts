// Butane → Ignition, the whole pipeline: parse (with positions) → pick the spec → schema check (unused keys, types)
// → butane's own rules → translate → Ignition's rules on the output, mapped back to the Butane source → strict.
import { checkButaneSchema, UNUSED_KEY } from '../butane/schema-check.js';
import { validateButane } from '../butane/validate.js';
import { findSpec, isVariant, type ButaneSpec } from '../butane/versions.js';
import { parseYaml, positionOf, type NodeInfo, pathKey } from '../butane/yaml.js';
import { validateIgnitionSemantics } from '../ignition/validate.js';
import { Report, type ConfigPath, type ReportEntry } from '../report.js';
import { isObject, translateBase, type JsonObject, type Translated } from './base.js';
import { translateFcos } from './fcos.js';
import { coerceScalars } from './coerce.js';
import { sortKeys } from './sort.js';
import { variantChecks } from './variants.js';

export interface TranslateOptions {
  /** Directory that `local`, `contents_local`, `ssh_authorized_keys_local` and trees are read from. */
  filesDir?: string;
  /** Treat warnings as errors, like `butane --strict`. */
  strict?: boolean;
  /** Name of the input, used in every message (`<stdin>` when read from standard input). */
  file?: string;
  /** Allow gzip-compressing inline/local contents when that is shorter (butane's default). */
  autoCompress?: boolean;
}

export interface TranslateResult {
  /** The Ignition config; absent when there were errors (or warnings under `strict`). */
  config?: JsonObject;
  /** Every error, warning and info, located in the input where possible. */
  entries: ReportEntry[];
  spec?: ButaneSpec;
}

export const ERR_NO_VARIANT = 'error parsing variant; must be specified';
export const ERR_INVALID_VERSION = 'error parsing version; must be a valid semver';

/** Translates Butane YAML text, or a Butane config object (e.g. from cnvm's typed builders). */
export async function translate(input: string | object, options: TranslateOptions = {}): Promise<TranslateResult> {
  const file = options.file;
  let value: unknown;
  let nodes = new Map<string, NodeInfo>();
  if (typeof input === 'string') {
    const parsed = parseYaml(input);
    if (parsed.errors.length > 0) {
      return {
        entries: parsed.errors.map((e) => ({ kind: 'error', path: [], message: e.message, position: e.position, ...(file ? { file } : {}) })),
      };
    }
    value = parsed.value;
    nodes = parsed.nodes;
  } else {
    // Builders produce plain objects; a JSON round trip drops undefined fields and functions.
    const json = JSON.stringify(input) as string | undefined;
    value = json === undefined ? undefined : (JSON.parse(json) as unknown);
  }

  const locate = (entries: readonly ReportEntry[]): ReportEntry[] =>
    entries.map((e) => {
      const position = e.position ?? positionOf(nodes, e.path, e.message.startsWith(UNUSED_KEY) ? 'key' : 'value');
      return { ...e, ...(position ? { position } : {}), ...(file ? { file } : {}) };
    });

  const doc: JsonObject = isObject(value) ? value : {};
  const spec = pickSpec(doc);
  if ('entries' in spec) return { entries: locate(spec.entries) };

  const report = new Report();
  coerceScalars(doc, spec.spec, nodes);
  report.merge(await checkButaneSchema(doc, spec.spec.variant, spec.spec.version));
  if (report.hasErrors) {
    // A decode error stops butane before its unused-key pass; go-yaml lists them in document order.
    const byPosition = (a: ReportEntry, b: ReportEntry): number => (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0);
    return { entries: locate(report.errors).sort(byPosition), spec: spec.spec };
  }
  dropUnusedKeys(doc, report.entries);
  report.merge(validateButane(doc, spec.spec.variant, spec.spec.version, { ...(options.filesDir ? { filesDir: options.filesDir } : {}) }));
  if (report.hasErrors) return { entries: locate(report.entries), spec: spec.spec };

  const outputReport = new Report();
  const ctx = {
    spec: spec.spec,
    report,
    outputReport,
    autoCompress: options.autoCompress ?? true,
    ...(options.filesDir ? { filesDir: options.filesDir } : {}),
  };
  let translated: Translated = translateBase(doc, ctx);
  if (spec.spec.variant === 'fcos' && !report.hasErrors) translated = translateFcos(doc, translated, ctx);
  if (report.hasErrors) return { entries: locate(report.entries), spec: spec.spec };

  outputReport.merge(variantChecks(translated.config, spec.spec));
  outputReport.merge(validateIgnitionSemantics(translated.config, spec.spec.ignition));
  for (const e of outputReport.entries) {
    const from = translated.ts.lookupReport(e.path);
    report.add({ kind: e.kind, path: from, message: e.message });
  }
  const entries = locate(report.entries);
  const failed = report.hasErrors || (options.strict === true && report.hasWarnings);
  return { ...(failed ? {} : { config: sortKeys(translated.config) as JsonObject }), entries, spec: spec.spec };
}

function pickSpec(doc: JsonObject): { spec: ButaneSpec } | { entries: ReportEntry[] } {
  const variant = doc.variant;
  if (typeof variant !== 'string' || variant === '') {
    return { entries: [{ kind: 'error', path: ['variant'], message: ERR_NO_VARIANT }] };
  }
  const version = doc.version;
  if (typeof version !== 'string' || !/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version)) {
    return { entries: [{ kind: 'error', path: ['version'], message: ERR_INVALID_VERSION }] };
  }
  if (!isVariant(variant)) {
    return { entries: [{ kind: 'error', path: ['variant'], message: `No translator exists for variant ${variant} with version ${version}` }] };
  }
  const spec = findSpec(variant, version);
  if (!spec) {
    return {
      entries: [
        {
          kind: 'error',
          path: ['version'],
          message: `No translator exists for variant ${variant} with version ${version}`,
        },
      ],
    };
  }
  return { spec };
}

/** Keys butane ignores (reported as unused) must not leak into the output through the generic renaming. */
function dropUnusedKeys(doc: JsonObject, entries: readonly ReportEntry[]): void {
  for (const e of entries) {
    if (!e.message.startsWith(UNUSED_KEY) || e.path.length === 0) continue;
    let node: unknown = doc;
    for (const part of e.path.slice(0, -1)) node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[part as string] : undefined;
    const last = e.path[e.path.length - 1];
    if (isObject(node) && typeof last === 'string') delete node[last];
  }
}

/** Serialises like butane: compact or 2-space indented, HTML-sensitive characters escaped, trailing newline. */
export function formatIgnition(config: unknown, pretty = false): string {
  const text = JSON.stringify(config, null, pretty ? 2 : undefined)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `${text}\n`;
}

export type { ConfigPath };
export { pathKey };
