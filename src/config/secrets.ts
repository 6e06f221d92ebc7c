// Which settings look like secrets, so `cnvm config show` (text and --json) can print that they are set without
// printing them: a screen share or a pasted support log must not carry PMM_POSTGRES_PASSWORD.
import type { Resolved, Settings } from './layers.js';

export const MASK = '<hidden>';

/** Words that mark a setting's name as a secret, matched against the words of its last path segment. */
const SECRET_WORDS = new Set(['password', 'passwd', 'pass', 'pwd', 'token', 'secret', 'key', 'apikey', 'credentials', 'private']);

/** `PMM_POSTGRES_PASSWORD`, `api-token`, `clientSecret` → true; `ssh_keys` (public keys) or `memory` → false. */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w));
}

/** A copy of the resolved settings with every secret-looking value replaced by MASK (origins kept). */
export function maskSecrets(resolved: Resolved): Resolved {
  const mask = (value: Settings): Settings =>
    Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (v && typeof v === 'object' && !Array.isArray(v)) return [k, mask(v as Settings)];
        return [k, isSecretName(k) && v !== '' && v !== null ? MASK : v];
      }),
    );
  return { ...resolved, settings: mask(resolved.settings) };
}
