// Checks a Terraform JSON document against hand-written subsets of the providers' published schemas
// (test/fixtures/export/schemas/*.json): every resource type and argument exists, literal values have the documented
// type (expressions `${…}` are typed by Terraform at plan time and only checked for their references), required
// arguments are present, single blocks are single; every var./local./resource reference is declared.
import { readFileSync } from 'node:fs';
import { FIXTURES } from './helpers.js';

interface AttrSchema {
  type: string;
  required?: boolean;
  computed?: boolean;
  enum?: string[];
}
interface BlockSchema {
  attributes: Record<string, AttrSchema>;
  blocks?: Record<string, BlockSchema & { nesting: string; min_items?: number; max_items?: number }>;
}
interface ProviderSchema {
  resource_schemas: Record<string, BlockSchema>;
  data_source_schemas?: Record<string, BlockSchema>;
  provider_schema?: BlockSchema;
}

export const loadSchema = (file: string): ProviderSchema => JSON.parse(readFileSync(`${FIXTURES}schemas/${file}.json`, 'utf8')) as ProviderSchema;

const META = new Set(['lifecycle', 'for_each', 'count', 'depends_on', 'provider']);
const isExpr = (v: unknown): boolean => typeof v === 'string' && /^\$\{[\s\S]*\}$/.test(v) && !v.startsWith('$${');

function checkValue(path: string, type: string, v: unknown, errors: string[]): void {
  if (isExpr(v)) return;
  const fail = (): number => errors.push(`${path}: expected ${type}, got ${JSON.stringify(v)?.slice(0, 60)}`);
  if (type === 'string') return void (typeof v !== 'string' && fail());
  if (type === 'number') return void (typeof v !== 'number' && fail());
  if (type === 'bool') return void (typeof v !== 'boolean' && fail());
  const coll = /^(list|set|map)\((.+)\)$/.exec(type);
  if (!coll) return void errors.push(`${path}: unknown schema type ${type}`);
  const [, kind, inner] = coll as unknown as [string, string, string];
  if (kind === 'map') {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return void fail();
    for (const [k, x] of Object.entries(v)) checkValue(`${path}.${k}`, inner, x, errors);
    return;
  }
  if (!Array.isArray(v)) return void fail();
  v.forEach((x, i) => checkValue(`${path}[${i}]`, inner, x, errors));
}

function checkBlock(path: string, schema: BlockSchema, body: Record<string, unknown>, errors: string[], meta: boolean): void {
  for (const [k, v] of Object.entries(body)) {
    if (meta && META.has(k)) {
      if (k === 'lifecycle' && (typeof v !== 'object' || Object.keys(v as object).some((x) => !['prevent_destroy', 'create_before_destroy', 'ignore_changes', 'replace_triggered_by'].includes(x)))) errors.push(`${path}.lifecycle: unknown setting`);
      continue;
    }
    const attr = schema.attributes[k];
    const block = schema.blocks?.[k];
    if (attr) {
      checkValue(`${path}.${k}`, attr.type, v, errors);
      if (attr.enum && typeof v === 'string' && !isExpr(v) && !attr.enum.includes(v)) errors.push(`${path}.${k}: ${v} is not one of ${attr.enum.join(', ')}`);
    } else if (block) {
      const items = Array.isArray(v) ? v : [v];
      if (block.max_items !== undefined && items.length > block.max_items) errors.push(`${path}.${k}: at most ${block.max_items} block(s)`);
      items.forEach((item, i) => {
        if (!item || typeof item !== 'object' || Array.isArray(item)) return void errors.push(`${path}.${k}[${i}]: a block must be an object`);
        checkBlock(`${path}.${k}[${i}]`, block, item as Record<string, unknown>, errors, false);
      });
    } else {
      errors.push(`${path}.${k}: no such argument or block in the provider schema`);
    }
  }
  for (const [k, a] of Object.entries(schema.attributes)) if (a.required && !(k in body)) errors.push(`${path}: required argument ${k} missing`);
  for (const [k, b] of Object.entries(schema.blocks ?? {})) if ((b.min_items ?? 0) > 0 && !(k in body)) errors.push(`${path}: required block ${k} missing`);
}

/** Every string of the document, for reference checks. */
const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : []);

export function checkTerraform(doc: Record<string, unknown>, schemas: Record<string, ProviderSchema>): string[] {
  const errors: string[] = [];
  const all: ProviderSchema = { resource_schemas: {}, data_source_schemas: {} };
  for (const s of Object.values(schemas)) {
    Object.assign(all.resource_schemas, s.resource_schemas);
    Object.assign(all.data_source_schemas as object, s.data_source_schemas ?? {});
  }
  const resources = (doc.resource ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const data = (doc.data ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  for (const [type, byName] of Object.entries(resources)) {
    const schema = all.resource_schemas[type];
    if (!schema) errors.push(`resource type ${type} is not in the provider schemas`);
    else for (const [name, body] of Object.entries(byName)) checkBlock(`resource.${type}.${name}`, schema, body, errors, true);
  }
  for (const [type, byName] of Object.entries(data)) {
    const schema = all.data_source_schemas?.[type];
    if (!schema) errors.push(`data source ${type} is not in the provider schemas`);
    else for (const [name, body] of Object.entries(byName)) checkBlock(`data.${type}.${name}`, schema, body, errors, true);
  }
  for (const [name, body] of Object.entries((doc.provider ?? {}) as Record<string, Record<string, unknown>>)) {
    const schema = schemas[name]?.provider_schema;
    if (!schema) errors.push(`provider ${name} has no schema fixture`);
    else checkBlock(`provider.${name}`, schema, body, errors, false);
  }
  const required = Object.keys(((doc.terraform as { required_providers?: object })?.required_providers ?? {}) as object);
  for (const p of Object.keys((doc.provider ?? {}) as object)) if (!required.includes(p)) errors.push(`provider ${p} is not in required_providers`);
  for (const [name, v] of Object.entries((doc.variable ?? {}) as Record<string, { type?: string }>)) {
    if (!v.type || !/^(string|number|bool|(list|set|map)\((string|number)\))$/.test(v.type)) errors.push(`variable ${name}: type ${v.type}`);
  }
  // References inside expressions.
  const vars = new Set(Object.keys((doc.variable ?? {}) as object));
  const locals = new Set(Object.keys((doc.locals ?? {}) as object));
  for (const text of strings(doc)) {
    const unescaped = text.replace(/\$\$\{/g, '').replace(/%%\{/g, '');
    for (const m of unescaped.matchAll(/\$\{([^}]*)\}/g)) {
      const expr = m[1] as string;
      for (const r of expr.matchAll(/\bvar\.([a-z_][a-z0-9_]*)/g)) if (!vars.has(r[1] as string)) errors.push(`undeclared var.${r[1]}`);
      for (const r of expr.matchAll(/\blocal\.([a-z_][a-z0-9_]*)/g)) if (!locals.has(r[1] as string)) errors.push(`undeclared local.${r[1]}`);
      for (const r of expr.matchAll(/\bdata\.([a-z_0-9]+)\.([a-z_0-9]+)/g)) if (!data[r[1] as string]?.[r[2] as string]) errors.push(`undeclared data.${r[1]}.${r[2]}`);
      for (const r of expr.matchAll(/(?<![.\w])((?:aws|google|libvirt|digitalocean|random)_[a-z_0-9]+)\.([a-z_0-9]+)/g)) if (!resources[r[1] as string]?.[r[2] as string]) errors.push(`undeclared resource ${r[1]}.${r[2]}`);
    }
  }
  return errors;
}

/** The Terraform string template of the Ignition, evaluated with the given values for its two expressions. */
export function evaluateIgnitionTemplate(template: string, values: { volumeSerial?: string; adminPassword?: string }): string {
  return template.replace(/\$\$\{|%%\{|\$\{([^}]*)\}/g, (whole, expr: string | undefined) => {
    if (whole === '$${') return '${';
    if (whole === '%%{') return '%{';
    if (expr === 'replace(aws_ebs_volume.data.id, "-", "")' && values.volumeSerial) return values.volumeSerial;
    if (expr === 'replace(urlencode(local.admin_password), "+", "%20")' && values.adminPassword !== undefined) return encodeURIComponent(values.adminPassword);
    throw new Error(`unexpected expression \${${expr}}`);
  });
}
