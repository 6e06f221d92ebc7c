// --json output: one JSON document on stdout per command, documented in docs/json-output.md with a JSON Schema per
// command in schema/cli/. Every document has the same envelope: `schema` (the major version's name, kept for
// readers of cnvm/v1), `schemaVersion` (MAJOR.MINOR: MINOR grows when fields are added, MAJOR with `schema` on
// incompatible changes), `command`, `ok`; failures carry `error`.
export const JSON_SCHEMA = 'cnvm/v1';
export const JSON_SCHEMA_VERSION = '1.1';

export interface JsonErrorObject {
  kind: string;
  message: string;
  exitCode: number;
}

function write(command: string, ok: boolean, payload: object): void {
  process.stdout.write(`${JSON.stringify({ schema: JSON_SCHEMA, schemaVersion: JSON_SCHEMA_VERSION, command, ok, ...payload }, null, 2)}\n`);
}

export function jsonOut(command: string, payload: object): void {
  write(command, true, payload);
}

/** A command whose answer may be "no" (generate/validate of an invalid config): ok false then, with an `error`. */
export function jsonResult(command: string, ok: boolean, payload: object): void {
  write(command, ok, payload);
}

export function jsonError(command: string, error: JsonErrorObject): void {
  write(command, false, { error });
}
