// The front of the pipeline: YAML (or a builder's object) to the document butane decodes, the spec it names, and
// the problems butane finds on the way: go-yaml syntax and decode errors, the version check, and the warnings its
// context tree gives (`<<` keys, aliased mappings).
import { UNUSED_KEY } from '../butane/schema-check.js';
import { findSpec, isVariant, parseSemver, type ButaneSpec } from '../butane/versions.js';
import { parseYaml, pathKey, type NodeInfo, type ParsedYaml } from '../core/yaml.js';
import { formatPath, type ConfigPath, type ReportEntry } from '../report.js';
import { isObject, type JsonObject } from './base.js';

export const ERR_NO_VARIANT = 'error parsing variant; must be specified';
export const ERR_INVALID_VERSION = 'error parsing version; must be a valid semver';

export interface Front {
  doc: JsonObject;
  nodes: Map<string, NodeInfo>;
  parsed?: ParsedYaml;
}

/** Parses the input; returns entries instead when go-yaml would refuse it outright. */
export function readInput(input: unknown): Front | { entries: ReportEntry[] } {
  if (typeof input !== 'string') {
    // Builders produce plain objects; a JSON round trip drops undefined fields and functions.
    const json = JSON.stringify(input) as string | undefined;
    const value = json === undefined ? undefined : (JSON.parse(json) as unknown);
    return { doc: isObject(value) ? value : {}, nodes: new Map() };
  }
  const parsed = parseYaml(input);
  if (parsed.errors.length > 0) {
    return { entries: parsed.errors.slice(0, 1).map((e) => ({ kind: 'error', path: [], message: e.message, position: e.position })) };
  }
  const root = parsed.nodes.get(pathKey([]));
  if (parsed.value !== null && parsed.value !== undefined && !isObject(parsed.value)) {
    const what = root?.kind === 'seq' ? '!!seq' : `${root?.scalar?.yamlTag ?? '!!str'} \`${root?.scalar?.text ?? ''}\``;
    const position = root?.value ?? { line: 1, column: 1 };
    return { entries: [{ kind: 'error', path: [], message: `cannot unmarshal ${what} into config.commonFields`, position }] };
  }
  return { doc: isObject(parsed.value) ? parsed.value : {}, nodes: parsed.nodes, parsed };
}

/** go-yaml's decode errors found while reading (duplicate keys), reported with the type errors of the full decode. */
export function decodeErrors(front: Front): ReportEntry[] {
  return (front.parsed?.decodeErrors ?? []).filter((d) => d.path?.length !== 0).map((d) => ({ kind: 'error', path: [], message: d.message, position: d.position }));
}

/** butane's variant/version check, on the text go-yaml decodes into those string fields. */
export function pickSpec(front: Front): { spec: ButaneSpec } | { entries: ReportEntry[] } {
  const { doc, nodes } = front;
  const decodeError = (field: string): ReportEntry | undefined => {
    const info = nodes.get(pathKey([field]));
    if (info?.kind === 'map' || info?.kind === 'seq') {
      return { kind: 'error', path: [field], message: `cannot unmarshal !!${info.kind} into string`, position: info.value };
    }
    return undefined;
  };
  const asText = (field: string): string | undefined => {
    const v = doc[field];
    if (v === null || v === undefined) return undefined;
    const scalar = nodes.get(pathKey([field]))?.scalar;
    return scalar ? scalar.text : typeof v === 'string' ? v : String(v);
  };
  // butane first decodes only variant and version, which already checks the top-level mapping for duplicate keys.
  const topLevel = (front.parsed?.decodeErrors ?? []).filter((d) => d.path?.length === 0);
  if (topLevel.length > 0) return { entries: topLevel.map((d) => ({ kind: 'error', path: [], message: d.message, position: d.position })) };
  const bad = decodeError('variant') ?? decodeError('version');
  if (bad) return { entries: [bad] };
  const variant = asText('variant');
  const versionText = asText('version');
  if (variant === undefined || variant === '') return { entries: [{ kind: 'error', path: ['variant'], message: ERR_NO_VARIANT }] };
  const version = versionText === undefined ? undefined : parseSemver(versionText);
  if (version === undefined) return { entries: [{ kind: 'error', path: ['version'], message: ERR_INVALID_VERSION }] };
  const spec = isVariant(variant) ? findSpec(variant, version) : undefined;
  if (!spec) {
    return { entries: [{ kind: 'error', path: [isVariant(variant) ? 'version' : 'variant'], message: `No translator exists for variant ${variant} with version ${version}` }] };
  }
  doc.variant = variant;
  doc.version = version;
  return { spec };
}

const under = (path: ConfigPath, prefix: ConfigPath): boolean => prefix.length <= path.length && prefix.every((p, i) => path[i] === p);

/**
 * The unused-key warnings butane prints, given the schema's: `<<` keys are unused too, nothing is reported inside
 * an alias or a merged mapping (butane's context tree does not reach there), and an aliased mapping gets butane's
 * warning that its context tree does not match.
 */
export function contextTreeWarnings(schemaWarnings: readonly ReportEntry[], parsed: ParsedYaml | undefined): ReportEntry[] {
  if (!parsed) return [...schemaWarnings];
  const hidden = parsed.hidden.filter((h) => !parsed.aliasedMaps.some((a) => pathKey(a) === pathKey(h)));
  const visible = schemaWarnings.filter((w) => !hidden.some((h) => under(w.path, h)) && !parsed.aliasedMaps.some((a) => under(w.path, a)));
  const extra: ReportEntry[] = [
    ...parsed.mergeKeys.map((path): ReportEntry => ({ kind: 'warning', path, message: `${UNUSED_KEY} <<` })),
    ...parsed.aliasedMaps.map(
      (path): ReportEntry => ({
        kind: 'warning',
        path,
        message: `context tree does not match content tree at ${formatPath(path)}. Line and column reporting may be inconsistent. Unused keys may not be reported`,
      }),
    ),
  ];
  return [...visible, ...extra];
}
