// --json output: one JSON document on stdout per command, documented in docs/json-output.md. Every document has
// the same envelope: `schema` (bumped on incompatible changes), `command`, `ok`; failures carry `error`.
export const JSON_SCHEMA = 'cnvm/v1';

export function jsonOut(command: string, payload: object): void {
  process.stdout.write(`${JSON.stringify({ schema: JSON_SCHEMA, command, ok: true, ...payload }, null, 2)}\n`);
}

export function jsonError(command: string, error: { kind: string; message: string; exitCode: number }): void {
  process.stdout.write(`${JSON.stringify({ schema: JSON_SCHEMA, command, ok: false, error }, null, 2)}\n`);
}
