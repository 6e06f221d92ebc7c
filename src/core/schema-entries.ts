// Words a JSON Schema validator's findings as butane and Ignition report them: unknown keys are "unused key"
// warnings, wrong types are go-yaml-style "cannot unmarshal" errors. Shared by the Butane and Ignition checks.
import type { ConfigPath, ReportEntry } from '../report.js';
import type { CompiledValidator } from './spec-types.js';

/** Butane ≥ 0.24 (Ignition ≥ 2.23) spells the warning in lower case. */
export const UNUSED_KEY = 'unused key';

/** Runs a compiled validator and words its findings; shared by the Butane and Ignition checks. */
export function schemaEntries(
  validate: CompiledValidator,
  doc: unknown,
  typeName: (schemaType: string, path: ConfigPath) => string,
  unknownKey: (name: string) => string = (name) => `${UNUSED_KEY} ${name}`,
  describe: (value: unknown, path: ConfigPath) => string = yamlTag,
): ReportEntry[] {
  if (validate(doc)) return [];
  const entries: ReportEntry[] = [];
  for (const error of validate.errors ?? []) {
    const path = parsePointer(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const name = String(error.params.additionalProperty);
      entries.push({ kind: 'warning', path: [...path, name], message: unknownKey(name) });
    } else if (error.keyword === 'type') {
      const value = valueAt(doc, path);
      entries.push({ kind: 'error', path, message: `cannot unmarshal ${describe(value, path)} into ${typeName(String(error.params.type), path)}` });
    } else if (error.keyword === 'required') {
      entries.push({ kind: 'error', path: [...path, String(error.params.missingProperty)], message: 'field is required' });
    } else {
      entries.push({ kind: 'error', path, message: `invalid value (${error.keyword})` });
    }
  }
  return entries;
}

/** go-yaml shortens long values in its messages: more than 10 bytes become the first 7 and "...". */
export function shorten(text: string): string {
  return Buffer.byteLength(text) > 10 ? `${Buffer.from(text).subarray(0, 7).toString()}...` : text;
}


/** go-yaml's name for a decoded value in its messages: its tag and (shortened) text. */
export function yamlTag(value: unknown): string {
  if (Array.isArray(value)) return '!!seq';
  if (value !== null && typeof value === 'object') return '!!map';
  if (typeof value === 'boolean') return `!!bool \`${shorten(String(value))}\``;
  if (typeof value === 'number') return `${Number.isInteger(value) ? '!!int' : '!!float'} \`${shorten(String(value))}\``;
  if (value === null) return '!!null';
  return `!!str \`${shorten(String(value))}\``;
}

/** JSON Pointer (`/storage/files/0`) to a config path; array indexes become numbers. */
function parsePointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^(0|[1-9]\d*)$/.test(part) ? Number(part) : part));
}

function valueAt(doc: unknown, path: ConfigPath): unknown {
  let node = doc;
  for (const part of path) node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[part] : undefined;
  return node;
}
