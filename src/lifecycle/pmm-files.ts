// What cnvm keeps locally for PMM's API, beside the VM's record in the state directory (0700 directories, 0600
// files; neither holds a secret):
//   <stateDir>/pmm/<key>.cert.json     the certificate pinned on first use (PEM and SHA-256 fingerprint)
//   <stateDir>/pmm/<key>.tokens.json   per token name: the service account, the token's id and where it is stored
// <key> is `<provider>-<vm>` for a cnvm VM, `url-<host>-<port>` for a PMM given by --url. PMM holds the truth (its
// service accounts and tokens); the token file is a cache that lets `rotate`/`revoke` find the store again.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CnvmError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CertPin } from '../workload/pmm-api/tls-pin.js';

export const PMM_FILES_VERSION = 1;

export interface PinFile extends CertPin {
  version: number;
  url: string;
  pinnedAt: string;
}

export interface TokenEntry {
  serviceAccount: string;
  serviceAccountId: number;
  role: string;
  tokenId: number;
  tokenName: string;
  /** The --store value the token was written to (absent: shown once with --show, stored nowhere). */
  store?: string;
  location?: string;
  version?: string;
  storedAt: string;
}

interface TokenFile {
  version: number;
  tokens: Record<string, TokenEntry>;
}

export class PmmFiles {
  constructor(
    private readonly stateDir: string,
    readonly key: string,
  ) {}

  private path(kind: 'cert' | 'tokens'): string {
    return join(this.stateDir, 'pmm', `${this.key}.${kind}.json`);
  }

  get pinPath(): string {
    return this.path('cert');
  }

  private read<T extends { version: number }>(kind: 'cert' | 'tokens'): T | undefined {
    const path = this.path(kind);
    if (!existsSync(path)) return undefined;
    let doc: T;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch (err) {
      throw new CnvmError('io', `cannot read ${path}: ${(err as Error).message}`);
    }
    if (doc.version !== PMM_FILES_VERSION) throw new CnvmError('io', `${path} has version ${String(doc.version)}; this cnvm reads version ${PMM_FILES_VERSION}`);
    return doc;
  }

  private write(kind: 'cert' | 'tokens', doc: object): void {
    mkdirSync(join(this.stateDir, 'pmm'), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.path(kind), `${JSON.stringify(doc, null, 2)}\n`, 0o600);
  }

  readPin(): PinFile | undefined {
    return this.read<PinFile>('cert');
  }

  writePin(url: string, pin: CertPin): void {
    this.write('cert', { version: PMM_FILES_VERSION, url, pinnedAt: new Date().toISOString(), ...pin } satisfies PinFile);
  }

  tokens(): Record<string, TokenEntry> {
    return this.read<TokenFile>('tokens')?.tokens ?? {};
  }

  setToken(name: string, entry: TokenEntry | undefined): void {
    const tokens = { ...this.tokens() };
    if (entry) tokens[name] = entry;
    else delete tokens[name];
    this.write('tokens', { version: PMM_FILES_VERSION, tokens } satisfies TokenFile);
  }
}

/** The key of a PMM given by URL: its host and port (the pin belongs to the endpoint). */
export function urlKey(url: string): string {
  const u = new URL(url);
  return `url-${u.hostname.replace(/[^A-Za-z0-9.-]/g, '_')}-${u.port || '443'}`;
}
