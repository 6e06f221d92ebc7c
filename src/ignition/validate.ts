// Ignition's checks on a config: the structural ones from the spec's JSON Schema (precompiled) and the semantic
// ones Ignition performs in code (rules*.ts, dups.ts). Used on butane's output (then mapped back to the Butane
// source) and by `cnvm validate` on a .ign file. Messages are Ignition's, word for word.
import { schemaEntries, UNUSED_KEY } from '../core/schema-entries.js';
import type { IgnitionSpecEntry } from '../core/spec-types.js';
import { parseYaml, positionOf } from '../core/yaml.js';
import { IGNITION_SPECS } from '../generated/specs.js';
import type { ConfigPath, ReportEntry, SourcePosition } from '../report.js';
import { validateDups } from './dups.js';
import { isObj, obj } from './go-values.js';
import { validateRules } from './rules.js';

export const SUPPORTED_IGNITION_VERSIONS: readonly string[] = IGNITION_SPECS.map((s) => s.version);

export const ERR = {
  duplicate: 'duplicate entry defined',
  invalidVersion: "invalid config version (couldn't parse)",
  unknownVersion: 'unsupported config version',
} as const;

export function ignitionSpec(version: string): IgnitionSpecEntry | undefined {
  return IGNITION_SPECS.find((s) => s.version === version);
}

/**
 * Ignition's semantic validation of a structurally valid config of spec `version`, in the order butane reports it
 * for its output: duplicates first, then every other check.
 */
export function validateIgnitionSemantics(config: Record<string, unknown>, version: string): ReportEntry[] {
  const spec = ignitionSpec(version);
  if (!spec) throw new Error(`unknown Ignition spec ${version}`);
  return [...validateDups(config), ...validateRules(config, spec.minor, spec.experimental)];
}

export interface IgnitionTextResult {
  config?: Record<string, unknown>;
  version?: string;
  entries: ReportEntry[];
}

/** Validates Ignition JSON text: syntax, spec version, structure (unknown keys, types), then semantics. */
export async function validateIgnitionText(text: string, file?: string): Promise<IgnitionTextResult> {
  const withFile = (entries: ReportEntry[]): ReportEntry[] => entries.map((e) => ({ ...e, ...(file ? { file } : {}) }));
  if (text.trim() === '') return { entries: withFile([{ kind: 'error', path: [], message: 'not a config (empty)' }]) };
  // JSON.parse decides what is JSON (YAML would accept more); the YAML parser supplies positions.
  const parsed = parseYaml(text);
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    const position = jsonErrorPosition(text, (err as Error).message) ?? parsed.errors[0]?.position;
    return { entries: withFile([{ kind: 'error', path: [], message: `invalid JSON: ${(err as Error).message}`, ...(position ? { position } : {}) }]) };
  }
  const locate = (entries: ReportEntry[]): ReportEntry[] =>
    withFile(
      entries.map((e) => {
        const position = positionOf(parsed.nodes, e.path, e.message.startsWith(UNUSED_KEY) ? 'key' : 'value');
        return position ? { ...e, position: insideBracket(text, position) } : e;
      }),
    );
  if (!isObj(config)) return { entries: locate([{ kind: 'error', path: [], message: 'config is not valid' }]) };
  const version = obj(config.ignition).version;
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
    return { entries: locate([{ kind: 'error', path: ['ignition', 'version'], message: ERR.invalidVersion }]) };
  }
  const spec = ignitionSpec(version);
  if (!spec) {
    const message = `${ERR.unknownVersion} ${version} (supported: ${SUPPORTED_IGNITION_VERSIONS.join(', ')})`;
    return { entries: locate([{ kind: 'error', path: ['ignition', 'version'], message }]) };
  }
  const { validate } = await spec.load();
  const structural = schemaEntries(validate, config, jsonTypeName);
  if (structural.some((e) => e.kind === 'error')) return { version, entries: locate(structural) };
  // Ignition itself runs its checks before the duplicate pass.
  const semantic = [...validateRules(config, spec.minor, spec.experimental), ...validateDups(config)];
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
