// The Compute API's own message types, from the protos that ship with @google-cloud/compute, used two ways:
// - checkRequest: what the REST client does to a request before sending it (protobufjs `fromObject`, which drops
//   every key it does not know without a word), done here on purpose so a misspelt field fails a test instead of
//   silently never reaching the API; plus the checks `fromObject` does not make (values of the string fields GCE
//   declares as enums, fields marked REQUIRED by google.api.field_behavior);
// - decodeBody: what the fake API does with a JSON body (proto3 JSON into the message type, as GCE's front end
//   does), refusing unknown names the way GCE does ("Invalid JSON payload received. Unknown name …").
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { fromProto3JSON, toProto3JSON, type JSONValue } from 'proto3-json-serializer';

const require = createRequire(import.meta.url);
const PACKAGE = 'google.cloud.compute.v1';
const REQUIRED = '(google.api.field_behavior)';

let root: protobuf.Root | undefined;
function protoRoot(): protobuf.Root {
  root ??= protobuf.Root.fromJSON(require('@google-cloud/compute/build/protos/protos.json') as protobuf.INamespace);
  return root;
}

/** A message type of the Compute API, e.g. `InsertInstanceRequest`, `Instance`. */
export function computeType(name: string): protobuf.Type {
  const type = protoRoot().lookupType(`${PACKAGE}.${name}`);
  type.resolveAll();
  return type;
}

/**
 * The request type of a client method named as cnvm's plans name it (`compute.instances.insert`), from the
 * service definitions in the same protos: service Instances, rpc Insert → InsertInstanceRequest.
 */
export function requestTypeOf(action: string): string {
  const m = /^compute\.([a-zA-Z]+)\.([a-zA-Z]+)$/.exec(action);
  if (!m) throw new Error(`${action} is not a compute.<collection>.<method> action`);
  const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
  const service = protoRoot().lookupService(`${PACKAGE}.${cap(m[1] as string)}`);
  const method = service.methods[cap(m[2] as string)];
  if (!method) throw new Error(`${action}: the ${service.name} service has no method ${cap(m[2] as string)}`);
  return method.requestType;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * GCE declares most enums as string fields with a sibling enum named after the field (`type` → `Type`,
 * `networkTier` → `NetworkTier`); the allowed values are that enum's, less its UNDEFINED_ placeholder.
 */
function enumOf(type: protobuf.Type, field: protobuf.Field): string[] | undefined {
  if (field.resolvedType instanceof protobuf.Enum) return Object.keys(field.resolvedType.values);
  if (field.type !== 'string') return undefined;
  const nested = type.nested?.[field.name.charAt(0).toUpperCase() + field.name.slice(1)];
  return nested instanceof protobuf.Enum ? Object.keys(nested.values).filter((v) => !v.startsWith('UNDEFINED_')) : undefined;
}

/** Compares what was given with what survived the round trip, and checks enums and required fields on the way. */
function compare(type: protobuf.Type, given: Json, kept: Json, path: string, problems: string[]): void {
  for (const [name, field] of Object.entries(type.fields)) {
    const present = given[name] !== undefined && given[name] !== null && given[name] !== '';
    if (field.options?.[REQUIRED] === 'REQUIRED' && !present) problems.push(`${path}${name}: required by ${type.name} but missing`);
  }
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const field = type.fields[key];
    if (!field || !(key in kept)) {
      problems.push(`${path}${key}: not a field of ${type.name} (dropped by fromObject)`);
      continue;
    }
    const values = field.repeated ? (Array.isArray(value) ? value : [value]) : [value];
    const keptValues = field.repeated ? (kept[key] as unknown[]) : [kept[key]];
    if (field.repeated && !Array.isArray(value)) problems.push(`${path}${key}: ${type.name}.${key} is repeated; give an array`);
    values.forEach((v, i) => {
      const at = field.repeated ? `${path}${key}[${i}]` : `${path}${key}`;
      const allowed = enumOf(type, field);
      if (allowed && !allowed.includes(String(v))) problems.push(`${at}: ${JSON.stringify(v)} is not one of ${type.name}.${key}'s values (${allowed.join(', ')})`);
      if (field.resolvedType instanceof protobuf.Type) {
        if (!isObject(v)) problems.push(`${at}: expected a ${field.resolvedType.name} object`);
        else compare(field.resolvedType, v, (keptValues[i] ?? {}) as Json, `${at}.`, problems);
      } else if (field.map && isObject(v)) {
        for (const k of Object.keys(v)) if (!(k in ((kept[key] ?? {}) as Json))) problems.push(`${at}.${k}: dropped`);
      } else if (!field.resolvedType && !field.map && String(v) !== String(keptValues[i])) {
        problems.push(`${at}: ${JSON.stringify(v)} became ${JSON.stringify(keptValues[i])} (wrong type for ${field.type})`);
      }
    });
  }
}

/** Every problem the client's conversion would hide or the API would refuse; [] when the request is well formed. */
export function checkRequest(typeName: string, request: Json): string[] {
  const type = computeType(typeName);
  const problems: string[] = [];
  let kept: Json;
  try {
    kept = type.toObject(type.fromObject(request), { longs: String, enums: String, arrays: false }) as Json;
  } catch (err) {
    return [`${typeName}: fromObject refused it: ${(err as Error).message}`];
  }
  compare(type, request, kept, '', problems);
  return problems;
}

/**
 * A REST body decoded into its message type as the API's front end does; unknown names are refused with GCE's
 * wording. Returns the decoded body (proto3 JSON of what survived) and the problems.
 */
export function decodeBody(typeName: string, body: Json, resourceWord: string): { body: Json; problems: string[] } {
  const type = computeType(typeName);
  let message: protobuf.Message;
  try {
    message = fromProto3JSON(type, body as JSONValue) as protobuf.Message;
  } catch (err) {
    return { body: {}, problems: [`Invalid JSON payload received. ${(err as Error).message}`] };
  }
  const decoded = (toProto3JSON(message) ?? {}) as Json;
  const problems: string[] = [];
  const unknown = (t: protobuf.Type, given: Json, path: string): void => {
    for (const [key, value] of Object.entries(given)) {
      const field = t.fields[key];
      if (!field) {
        problems.push(`Invalid JSON payload received. Unknown name ${JSON.stringify(key)} at '${path}': Cannot find field.`);
        continue;
      }
      if (field.resolvedType instanceof protobuf.Type) {
        const items = Array.isArray(value) ? value : [value];
        items.forEach((item, i) => isObject(item) && unknown(field.resolvedType as protobuf.Type, item, `${path}.${key}${Array.isArray(value) ? `[${i}]` : ''}`));
      }
      const allowed = enumOf(t, field);
      for (const v of Array.isArray(value) ? value : [value]) {
        if (allowed && typeof v === 'string' && !allowed.includes(v)) problems.push(`Invalid value for field '${path}.${key}': ${JSON.stringify(v)}`);
      }
    }
  };
  unknown(type, body, resourceWord);
  return { body: decoded, problems };
}
