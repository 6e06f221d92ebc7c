// The one HTTP helper the REST stores share: a JSON request with a deadline, transport failures and non-JSON
// answers turned into StoreErrors naming the store, never the credential.
import { StoreError } from './types.js';

export interface JsonReply {
  status: number;
  body: Record<string, unknown> | undefined;
}

export async function jsonRequest(spec: string, url: string, init: { method: string; headers: Record<string, string>; body?: unknown }, timeoutMs = 20_000): Promise<JsonReply> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new StoreError(`--store ${spec}: ${new URL(url).origin} does not answer (${cause?.code ?? cause?.message ?? (err as Error).message}); nothing was stored`, { cause: err });
  }
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

/** The API's own words for a failure (Vault's `errors`, Google's `error.message`), for the message a user reads. */
export function replyError(reply: JsonReply): string {
  const b = reply.body ?? {};
  // Vault's errors may be multi-line ("1 error occurred:\n\t* permission denied\n\n"): one line for the message.
  if (Array.isArray(b.errors) && b.errors.length) return b.errors.map((e) => String(e).replace(/^\d+ errors? occurred:/, '').replace(/\s+/g, ' ').trim()).join('; ');
  const e = b.error as { message?: unknown } | undefined;
  if (e && typeof e.message === 'string') return e.message;
  return `HTTP ${reply.status}`;
}
