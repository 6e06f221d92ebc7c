// Where a PMM service-account token is kept: a contract every store follows. A store is checked (reachable,
// writable, credentials present) before cnvm creates anything in PMM, so a store that cannot take the token never
// leaves one behind; `put` writes the whole value or nothing; `remove` is asked for explicitly (--delete-secret).
import { CnvmError } from '../../errors.js';

/** The one key the token is stored under, as the Kubernetes Secret `pmm-token` its clients read carries it. */
export const TOKEN_KEY = 'pmmservertoken';

export interface TokenValue {
  token: string;
  /** Non-secret facts some stores keep beside the token (the Kubernetes manifest's annotations). */
  serviceAccount: string;
  tokenName: string;
  pmmUrl: string;
}

export interface PutResult {
  /** The store's own version of what was written (Vault's version number, a Secrets Manager VersionId, …). */
  version?: string;
}

export interface RemoveResult {
  removed: boolean;
  detail: string;
}

export interface TokenStore {
  /** The --store value as given: `vault:secret/pmm/ci`. */
  readonly spec: string;
  /** Where it lands, in words a user can look up (no secret in it). */
  readonly location: string;
  check(): Promise<void>;
  put(value: TokenValue): Promise<PutResult>;
  remove(): Promise<RemoveResult>;
}

/** A store could not be reached or refused the write; nothing was stored. */
export class StoreError extends CnvmError {
  constructor(message: string, options?: { cause?: unknown; kind?: 'io' | 'provider' | 'usage' }) {
    super(options?.kind ?? 'provider', message, options);
  }
}

/** The token as a JSON document with its one key, for the stores that hold key/value secrets. */
export const tokenDocument = (v: TokenValue): string => JSON.stringify({ [TOKEN_KEY]: v.token });
