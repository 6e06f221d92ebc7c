// Which PMM settings are secrets. A secret setting's value may live only in the first boot's config (a root-only
// env file the server copies to its data volume) and the user's own profile: never in a record, provider
// metadata, tags, a journal, progress, `--json` output or an export template.

/** Words that mark a setting's name as a secret, matched against the words of its last path segment. */
const SECRET_WORDS = new Set(['password', 'passwd', 'pass', 'pwd', 'pw', 'token', 'secret', 'key', 'apikey', 'credentials', 'private']);

/** `PMM_POSTGRES_PASSWORD`, `api-token`, `clientSecret` → true; `ssh_keys` (public keys) or `memory` → false. */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w));
}

/** `postgres://pmm:hunter2@db/pmm`, `https://user@host/`: a URL that carries credentials in its userinfo. */
export function hasUrlCredentials(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@\s]+@/.test(value.trim());
}

/** A PMM setting whose value must never leave the secrets store and the VM's config: by name or by value. */
export function isSecretSetting(name: string, value: string): boolean {
  return isSecretName(name) || hasUrlCredentials(value);
}

/**
 * PMM settings split into what may be kept in records, provider metadata, journals and output (`env`) and what
 * may not (`secret`): every `pmm.secret_env` entry (the profile's explicit marker), and every `pmm.env` entry
 * that looks like a secret by its name or its value.
 */
export function splitPmmEnv(env: Record<string, string> | undefined, secretEnv: Record<string, string> | undefined): { env: Record<string, string>; secret: Record<string, string> } {
  const pub: Record<string, string> = {};
  const secret: Record<string, string> = { ...(secretEnv ?? {}) };
  for (const [k, v] of Object.entries(env ?? {})) {
    if (k in secret) continue;
    if (isSecretSetting(k, v)) secret[k] = v;
    else pub[k] = v;
  }
  return { env: pub, secret };
}


/** The record's PMM settings with secret-looking values taken out (kept by name only): for records written before. */
export function withoutSecretValues<T extends { env?: Record<string, string>; secretEnv?: string[] }>(pmm: T): T {
  const { env, secret } = splitPmmEnv(pmm.env, undefined);
  const names = Object.keys(secret);
  if (!names.length) return pmm;
  const { env: _all, ...rest } = pmm;
  const secretEnv = [...new Set([...(pmm.secretEnv ?? []), ...names])].sort();
  return { ...rest, ...(Object.keys(env).length ? { env } : {}), secretEnv } as T;
}
