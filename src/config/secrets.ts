// Which settings look like secrets, so `cnvm config show` (text and --json) can print that they are set without
// printing them: a screen share or a pasted support log must not carry PMM_POSTGRES_PASSWORD.
import type { Resolved, Settings } from './layers.js';
import { isSecretName, isSecretSetting } from '../workload/pmm-secrets.js';

export { isSecretName, isSecretSetting, splitPmmEnv } from '../workload/pmm-secrets.js';

export const MASK = '<hidden>';

/** A copy of the resolved settings with every secret-looking value replaced by MASK (origins kept). */
export function maskSecrets(resolved: Resolved): Resolved {
  const mask = (value: Settings): Settings =>
    Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (k === 'secret_env' && v && typeof v === 'object') return [k, Object.fromEntries(Object.keys(v).map((n) => [n, MASK]))];
        if (v && typeof v === 'object' && !Array.isArray(v)) return [k, mask(v as Settings)];
        const secret = typeof v === 'string' ? v !== '' && isSecretSetting(k, v) : isSecretName(k) && v !== null;
        return [k, secret ? MASK : v];
      }),
    );
  return { ...resolved, settings: mask(resolved.settings) };
}
