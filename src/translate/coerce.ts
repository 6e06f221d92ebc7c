// Butane decodes YAML into typed Go structs, so a plain scalar takes the type of the field it lands in: `name: 1234`
// is the string "1234" and `enabled: yes` is true (go-yaml v3's YAML 1.1 compatibility for bool targets). Here
// the same happens before the schema check. Every Butane field that is not a string is an integer or a boolean,
// and every list of scalars holds strings, so the field name alone says which type is wanted.
import type { ButaneSpec } from '../butane/versions.js';
import { pathKey, type NodeInfo } from '../core/yaml.js';
import type { ConfigPath } from '../report.js';

const INT_FIELDS = new Set([
  'mode', 'id', 'uid', 'gid', 'number', 'size_mib', 'start_mib', 'threshold', 'spares', 'http_response_headers', 'http_total',
  'file_mode', 'dir_mode',
]);
const BOOL_FIELDS = new Set([
  'overwrite', 'hard', 'enabled', 'mask', 'wipe_table', 'wipe_filesystem', 'wipe_volume', 'wipe_partition_entry', 'resize',
  'should_exist', 'no_create_home', 'no_user_group', 'no_log_init', 'system', 'tpm2', 'with_mount_unit', 'discard',
  'needs_network', 'rootful',
]);
const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

export function coerceScalars(doc: Record<string, unknown>, _spec: ButaneSpec, nodes: Map<string, NodeInfo>): void {
  if (nodes.size === 0) return; // built in code: values already have their intended types
  const visit = (value: unknown, path: ConfigPath): unknown => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => (value[i] = visit(item, [...path, i])));
      return value;
    }
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      for (const key of Object.keys(obj)) obj[key] = visit(obj[key], [...path, key]);
      return obj;
    }
    const scalar = nodes.get(pathKey(path))?.scalar;
    if (!scalar || !scalar.plain || scalar.tag || value === null) return value;
    const last = path[path.length - 1];
    const field = typeof last === 'string' ? last : undefined;
    if (field !== undefined && INT_FIELDS.has(field)) return floatToInt(value);
    if (field !== undefined && BOOL_FIELDS.has(field)) {
      if (YAML11_TRUE.has(scalar.text)) return true;
      if (YAML11_FALSE.has(scalar.text)) return false;
      return value;
    }
    // A string field (or an item of a list of strings): keep the text as written.
    return typeof value === 'number' || typeof value === 'boolean' ? scalar.text : value;
  };
  visit(doc, []);
}

/**
 * go-yaml stores a float in an int field by Go's conversion: truncated toward zero, and -Inf as the smallest int64
 * (what amd64 gives); +Inf and NaN stay errors.
 */
function floatToInt(value: unknown): unknown {
  if (typeof value !== 'number' || Number.isNaN(value) || value === Infinity) return value;
  // Beyond int64 go-yaml refuses the value; a non-number makes the schema check report it with its source text.
  if (value >= 2 ** 63) return String(value);
  if (Number.isInteger(value)) return value;
  return value === -Infinity ? -9223372036854775808 : Math.trunc(value);
}
