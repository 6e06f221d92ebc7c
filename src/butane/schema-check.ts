// Structural check of a Butane document against its spec's JSON Schema (schema/butane/*.json), through the Ajv
// validator compiled at build time (src/generated/validators). Keys the spec does not know are warnings, as in
// butane ("unused key NAME"); a value of the wrong type is an error worded like go-yaml's decode error, since that
// is what butane prints for it.
import type { ConfigPath, ReportEntry } from '../report.js';
import { pathKey, type NodeInfo } from '../core/yaml.js';
import { schemaEntries, shorten, yamlTag } from '../core/schema-entries.js';
import { findSpec, type Variant } from './versions.js';

export type { CompiledValidator, SchemaError } from '../core/spec-types.js';

export { UNUSED_KEY } from '../core/schema-entries.js';

export async function checkButaneSchema(
  doc: Record<string, unknown>,
  variant: Variant,
  version: string,
  nodes: Map<string, NodeInfo> = new Map(),
): Promise<ReportEntry[]> {
  const spec = findSpec(variant, version);
  if (!spec) throw new Error(`no schema validator for ${variant} ${version}`);
  const { validate } = await spec.load();
  dropNulls(doc);
  // go-yaml names the offending node by its tag and source text (`!!int \`0x1F\``), not by the decoded value.
  const describe = (value: unknown, path: ConfigPath): string => {
    const info = nodes.get(pathKey(path));
    if (info?.kind === 'map') return '!!map';
    if (info?.kind === 'seq') return '!!seq';
    if (info?.scalar) return info.scalar.yamlTag === '!!null' ? '!!null' : `${info.scalar.yamlTag} \`${shorten(info.scalar.text)}\``;
    return yamlTag(value);
  };
  return schemaEntries(validate, doc, (type, path) => goTypeName(type, path, spec.base, spec.id, spec.experimental), undefined, describe);
}

/** Element types of Butane's list fields, by field name (Go struct names in butane's base/v0_N and config/fcos/v1_N). */
const LIST_ELEMENTS: Record<string, string> = {
  files: 'File', directories: 'Directory', links: 'Link', disks: 'Disk', partitions: 'Partition', filesystems: 'Filesystem',
  luks: 'Luks', raid: 'Raid', trees: 'Tree', units: 'Unit', quadlets: 'Quadlet', dropins: 'Dropin', users: 'PasswdUser',
  merge: 'Resource', append: 'Resource', certificate_authorities: 'Resource', tang: 'Tang', ssh_authorized_keys: 'SSHAuthorizedKey',
  should_exist: 'KernelArgument', should_not_exist: 'KernelArgument',
};
/** Struct types of Butane's mapping fields, by field name. */
const STRUCTS: Record<string, string> = {
  ignition: 'Ignition', storage: 'Storage', passwd: 'Passwd', systemd: 'Systemd', kernel_arguments: 'KernelArguments',
  config: 'IgnitionConfig', replace: 'Resource', contents: 'Resource', key_file: 'Resource', proxy: 'Proxy', security: 'Security',
  tls: 'TLS', timeouts: 'Timeouts', verification: 'Verification', user: 'NodeUser', group: 'NodeGroup', clevis: 'Clevis',
  custom: 'ClevisCustom', boot_device: 'BootDevice', mirror: 'BootDeviceMirror', grub: 'Grub', cex: 'Cex',
};
/** Types declared in the fcos package rather than the shared base. */
const FCOS_TYPES = new Set(['BootDevice', 'BootDeviceLuks', 'BootDeviceMirror', 'Grub', 'GrubUser', 'Config']);
/** Base v0_1 (fcos 1.0) has Ignition 3.0's own names for its resources. */
const V0_1_TYPES: Record<string, string> = {
  merge: 'ConfigReference', replace: 'ConfigReference', certificate_authorities: 'CaReference', contents: 'FileContents', append: 'FileContents',
};

/** The Go type go-yaml names in "cannot unmarshal … into T", as butane's structs declare it. */
function goTypeName(schemaType: string, path: ConfigPath, base: number, variantId: string, experimental: boolean): string {
  const field = [...path].reverse().find((p) => typeof p === 'string') as string | undefined;
  const renamed = base === 1 && field !== undefined ? V0_1_TYPES[field] : undefined;
  // Experimental specs build on the experimental base package (v0_8_exp).
  const basePkg = `v0_${base}${experimental ? '_exp' : ''}`;
  const pkg = (t: string): string => `${FCOS_TYPES.has(t) ? `v${variantId}` : basePkg}.${renamed && t === 'Resource' ? renamed : t}`;
  const parent = path.filter((p) => typeof p === 'string').at(-2);
  switch (schemaType) {
    case 'integer':
      return 'int';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'array': {
      if (field === 'http_headers') return pkg('HTTPHeaders');
      if (field === 'groups') return `[]${pkg(parent === 'passwd' ? 'PasswdGroup' : 'Group')}`;
      if (field === 'devices') return parent === 'raid' ? `[]${pkg('Device')}` : '[]string';
      if (field === 'users' && parent === 'grub') return `[]${pkg('GrubUser')}`;
      const element = field ? LIST_ELEMENTS[field] : undefined;
      return element ? `[]${pkg(element)}` : '[]string';
    }
    case 'object': {
      if (path.length === 0) return pkg('Config');
      // An item of a list: the list's element type.
      if (typeof path[path.length - 1] === 'number') {
        const element = field ? LIST_ELEMENTS[field] : undefined;
        if (field === 'users' && parent === 'grub') return pkg('GrubUser');
        if (field === 'groups') return pkg('PasswdGroup');
        if (field === 'http_headers') return pkg('HTTPHeader');
        return element ? pkg(element) : 'string';
      }
      if (field === 'luks' && parent === 'boot_device') return pkg('BootDeviceLuks');
      const struct = field ? STRUCTS[field] : undefined;
      return struct ? pkg(struct) : 'map[string]interface {}';
    }
    default:
      return schemaType;
  }
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
