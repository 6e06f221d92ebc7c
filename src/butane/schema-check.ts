// Structural check of a Butane document against its spec's JSON Schema (schema/butane/*.json), through the Ajv
// validator compiled at build time (src/generated/validators). Keys the spec does not know are warnings, as in
// butane ("Unused key NAME"); a value of the wrong type is an error worded like go-yaml's decode error, since that
// is what butane prints for it.
import type { ConfigPath, ReportEntry } from '../report.js';
import type { Variant } from './versions.js';

export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}

export type CompiledValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/** Loads only the one validator the document needs: each is ~100 kB of generated code. */
const BUTANE_VALIDATORS: Record<string, () => Promise<{ validate: CompiledValidator }>> = {
  'fcos-1.0.0': () => import('../generated/validators/butane-fcos-1_0.js'),
  'fcos-1.1.0': () => import('../generated/validators/butane-fcos-1_1.js'),
  'fcos-1.2.0': () => import('../generated/validators/butane-fcos-1_2.js'),
  'fcos-1.3.0': () => import('../generated/validators/butane-fcos-1_3.js'),
  'fcos-1.4.0': () => import('../generated/validators/butane-fcos-1_4.js'),
  'fcos-1.5.0': () => import('../generated/validators/butane-fcos-1_5.js'),
  'fcos-1.6.0': () => import('../generated/validators/butane-fcos-1_6.js'),
  'flatcar-1.0.0': () => import('../generated/validators/butane-flatcar-1_0.js'),
  'flatcar-1.1.0': () => import('../generated/validators/butane-flatcar-1_1.js'),
  'r4e-1.0.0': () => import('../generated/validators/butane-r4e-1_0.js'),
  'r4e-1.1.0': () => import('../generated/validators/butane-r4e-1_1.js'),
};

export async function checkButaneSchema(doc: Record<string, unknown>, variant: Variant, version: string): Promise<ReportEntry[]> {
  const load = BUTANE_VALIDATORS[`${variant}-${version}`];
  if (!load) throw new Error(`no schema validator for ${variant} ${version}`);
  const { validate } = await load();
  dropNulls(doc);
  return schemaEntries(validate, doc, goTypeNames);
}

/** Runs a compiled validator and words its findings; shared by the Butane and Ignition checks. */
export function schemaEntries(
  validate: CompiledValidator,
  doc: unknown,
  typeName: (schemaType: string) => string,
  unknownKey: (name: string) => string = (name) => `Unused key ${name}`,
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
      entries.push({ kind: 'error', path, message: `cannot unmarshal ${yamlTag(value)} into ${typeName(String(error.params.type))}` });
    } else if (error.keyword === 'required') {
      entries.push({ kind: 'error', path: [...path, String(error.params.missingProperty)], message: 'field is required' });
    } else {
      entries.push({ kind: 'error', path, message: `invalid value (${error.keyword})` });
    }
  }
  return entries;
}

function goTypeNames(schemaType: string): string {
  switch (schemaType) {
    case 'integer':
      return 'int';
    case 'boolean':
      return 'bool';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    default:
      return schemaType;
  }
}

function yamlTag(value: unknown): string {
  if (Array.isArray(value)) return '!!seq';
  if (value !== null && typeof value === 'object') return '!!map';
  if (typeof value === 'boolean') return `!!bool \`${value}\``;
  if (typeof value === 'number') return `${Number.isInteger(value) ? '!!int' : '!!float'} \`${value}\``;
  if (value === null) return '!!null';
  return `!!str \`${String(value)}\``;
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

/** A YAML `key:` with no value decodes to Go's zero value, i.e. as if the key were absent. */
function dropNulls(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(dropNulls);
  } else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (obj[key] === null) delete obj[key];
      else dropNulls(obj[key]);
    }
  }
}
