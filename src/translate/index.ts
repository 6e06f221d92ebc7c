// Butane → Ignition, the whole pipeline: parse (with positions) → pick the spec → schema check (unused keys, types)
// → butane's own rules → translate → Ignition's rules on the output, mapped back to the Butane source → strict.
import { checkButaneSchema, UNUSED_KEY } from '../butane/schema-check.js';
import { validateButane } from '../butane/validate.js';
import type { ButaneSpec } from '../butane/versions.js';
import { positionOf, type NodeInfo, pathKey } from '../core/yaml.js';
import { contextTreeWarnings, decodeErrors, pickSpec, readInput } from './front.js';
import { validateQuadlets } from './quadlets.js';
import { ignitionSpec, validateIgnitionSemantics } from '../ignition/validate.js';
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

export { ERR_INVALID_VERSION, ERR_NO_VARIANT } from './front.js';

/** Translates Butane YAML text, or a Butane config object (e.g. from cnvm's typed builders). */
export async function translate(input: string | object, options: TranslateOptions = {}): Promise<TranslateResult> {
  const file = options.file;
  const front = readInput(input);
  const nodes = 'entries' in front ? new Map<string, NodeInfo>() : front.nodes;
  const locate = (entries: readonly ReportEntry[], decode = false): ReportEntry[] =>
    entries.map((e) => {
      const prefer = e.message.startsWith(UNUSED_KEY) ? 'key' : decode ? 'decoded' : 'value';
      const position = e.position ?? positionOf(nodes, e.path, prefer);
      return { ...e, ...(position ? { position } : {}), ...(file ? { file } : {}) };
    });
  if ('entries' in front) return { entries: locate(front.entries) };
  const doc = front.doc;
  const spec = pickSpec(front);
  if ('entries' in spec) return { entries: locate(spec.entries) };

  const report = new Report();
  coerceScalars(doc, spec.spec, nodes);
  const schema = await checkButaneSchema(doc, spec.spec.variant, spec.spec.version, nodes);
  const duplicates = decodeErrors(front);
  if (duplicates.length > 0 || schema.some((e) => e.kind === 'error')) {
    // A decode error stops butane before its unused-key pass; go-yaml lists them in document order.
    const errors = locate([...duplicates, ...schema.filter((e) => e.kind === 'error')], true);
    return { entries: errors.sort(byPosition), spec: spec.spec };
  }
  dropUnusedKeys(doc, schema);
  report.merge(locate(contextTreeWarnings(schema, front.parsed)).sort(byPosition));
  const ignition = ignitionSpec(spec.spec.ignition);
  // Loaded only when there is an inline config to check: the validator is large and cold start matters.
  const wantsMerged = ignition && spec.spec.base >= 2 && hasInlineConfig(doc);
  const mergedConfig = wantsMerged ? { spec: ignition, validate: (await ignition.load()).validate } : undefined;
  report.merge(
    validateButane(doc, spec.spec.variant, spec.spec.version, {
      ...(options.filesDir ? { filesDir: options.filesDir } : {}),
      ...(mergedConfig ? { mergedConfig } : {}),
    }),
  );
  if (spec.spec.base >= 8) report.merge(validateQuadlets(doc));
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

  const mapBack = (entries: readonly ReportEntry[]): void => {
    for (const e of entries) report.add({ kind: e.kind, path: translated.ts.lookupReport(e.path), message: e.message });
  };
  // Fields the variant cannot use stop butane before it validates the output.
  mapBack(variantChecks(translated.config, spec.spec));
  if (!report.hasErrors) {
    mapBack(outputReport.entries);
    mapBack(validateIgnitionSemantics(translated.config, spec.spec.ignition));
  }
  const entries = locate(report.entries);
  const failed = report.hasErrors || (options.strict === true && report.hasWarnings);
  return { ...(failed ? {} : { config: sortKeys(translated.config) as JsonObject }), entries, spec: spec.spec };
}

function hasInlineConfig(doc: JsonObject): boolean {
  const config = isObject(doc.ignition) && isObject(doc.ignition.config) ? doc.ignition.config : {};
  const refs = [...(Array.isArray(config.merge) ? config.merge : []), config.replace];
  return refs.some((r) => isObject(r) && typeof r.inline === 'string');
}

function byPosition(a: ReportEntry, b: ReportEntry): number {
  return (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0);
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
