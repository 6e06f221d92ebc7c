// PMM 3's own API for service accounts: PMM serves its Grafana under /graph, and Grafana's service-account HTTP API
// (search, create, tokens) is what PMM's documentation has users call with the admin's basic auth. Every request
// goes over a connection that trusts only the pinned certificate (tls-pin.ts). Failures become typed errors: a
// wrong password is the user's input (usage), a PMM that is not up yet or answers 5xx is the workload failing.
import { request } from 'node:https';
import { CnvmError } from '../../errors.js';
import { CertificateMismatchError, PmmUnreachableError, pinnedTlsOptions, presentedCertificate, type CertPin } from './tls-pin.js';

export const GRAFANA_PREFIX = '/graph/api';
export const READYZ_PATH = '/v1/server/readyz';

export type PmmRole = 'Viewer' | 'Editor' | 'Admin';

export interface ServiceAccount {
  id: number;
  name: string;
  login?: string;
  role: PmmRole | string;
  isDisabled?: boolean;
  tokens?: number;
}

export interface TokenInfo {
  id: number;
  name: string;
  created?: string;
  expiration?: string | null;
  hasExpired?: boolean;
}

export interface NewToken {
  id: number;
  name: string;
  /** The token itself: returned once, by the create call only. */
  key: string;
}

/** PMM rejected the admin credentials. */
export class PmmAuthError extends CnvmError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** PMM answered, but not yet (or not properly) as PMM: 5xx, not ready, an answer that is not the API's. */
export class PmmNotReadyError extends CnvmError {
  constructor(message: string) {
    super('provider', message);
  }
}

export interface PmmApiOptions {
  url: string;
  pin: CertPin;
  user: string;
  password: string;
  timeoutMs?: number;
}

interface Reply {
  status: number;
  body: unknown;
}

export class PmmApi {
  private readonly base: URL;
  constructor(private readonly options: PmmApiOptions) {
    this.base = new URL(options.url);
  }

  get url(): string {
    return this.base.href;
  }

  private raw(method: string, path: string, body?: unknown, auth = true): Promise<Reply> {
    const { pin, user, password } = this.options;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const port = Number(this.base.port || 443);
    const host = this.base.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host,
          port,
          method,
          path: `${this.base.pathname.replace(/\/$/, '')}${path}`,
          ...pinnedTlsOptions(pin),
          // A new connection per call: each one checks the pin (no kept-alive socket or resumed TLS session that
          // was verified against an earlier certificate).
          agent: false,
          timeout: this.options.timeoutMs ?? 20_000,
          headers: {
            accept: 'application/json',
            ...(auth ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : {}),
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* kept as text: an error page, not the API */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer within the timeout')));
      req.on('error', (err) => void this.explain(err, host, port).then(reject, reject));
      req.end(payload);
    });
  }

  /** A TLS failure is a certificate mismatch when the server now presents another certificate than the pinned one. */
  private async explain(err: Error, host: string, port: number): Promise<Error> {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS/.test(code) || /certificate/.test(err.message)) {
      const presented = await presentedCertificate(host, port).catch(() => undefined);
      if (presented && presented.fingerprint256 !== this.options.pin.fingerprint256) {
        return new CertificateMismatchError(
          `PMM at ${this.url} presents a certificate with SHA-256 ${presented.fingerprint256}, not the one pinned on first use (${this.options.pin.fingerprint256}); refusing to send the admin password. If PMM's certificate was replaced on purpose, pass --pmm-fingerprint ${presented.fingerprint256} after checking it on the server`,
        );
      }
      return new PmmUnreachableError(`TLS with PMM at ${this.url} failed: ${err.message}`, { cause: err });
    }
    return new PmmUnreachableError(`PMM at ${this.url} does not answer: ${err.message}`, { cause: err });
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const reply = await this.raw(method, `${GRAFANA_PREFIX}${path}`, body);
    if (reply.status === 401) throw new PmmAuthError(`PMM at ${this.url} rejected the admin password (HTTP 401): check --admin-password-file`);
    if (reply.status === 403) throw new PmmAuthError(`PMM at ${this.url} refused ${method} ${GRAFANA_PREFIX}${path} (HTTP 403): the user needs PMM's Admin role`);
    if (reply.status >= 500 || reply.status === 0) throw new PmmNotReadyError(`PMM at ${this.url} answered ${method} ${GRAFANA_PREFIX}${path} with HTTP ${reply.status}: not ready yet, or failing`);
    if (reply.status < 200 || reply.status > 299) {
      const message = typeof reply.body === 'object' && reply.body && 'message' in reply.body ? String((reply.body as { message: unknown }).message) : `HTTP ${reply.status}`;
      throw Object.assign(new PmmNotReadyError(`PMM refused ${method} ${GRAFANA_PREFIX}${path}: ${message} (HTTP ${reply.status})`), { status: reply.status });
    }
    return reply.body;
  }

  /** PMM's readiness (no credentials): true once it can serve. */
  async ready(): Promise<boolean> {
    const reply = await this.raw('GET', READYZ_PATH, undefined, false);
    return reply.status === 200;
  }

  /** Every service account whose name contains `query` (Grafana pages them; all pages are read). */
  async searchAccounts(query = ''): Promise<ServiceAccount[]> {
    const out: ServiceAccount[] = [];
    const perpage = 100;
    for (let page = 1; page <= 1000; page++) {
      const body = (await this.call('GET', `/serviceaccounts/search?perpage=${perpage}&page=${page}&query=${encodeURIComponent(query)}`)) as { totalCount?: number; serviceAccounts?: ServiceAccount[] };
      const batch = Array.isArray(body?.serviceAccounts) ? body.serviceAccounts : undefined;
      if (!batch) throw new PmmNotReadyError(`PMM at ${this.url} answered the service-account search without a serviceAccounts list`);
      out.push(...batch);
      if (batch.length < perpage || out.length >= (body.totalCount ?? 0)) break;
    }
    return out;
  }

  async findAccount(name: string): Promise<ServiceAccount | undefined> {
    return (await this.searchAccounts(name)).find((a) => a.name === name);
  }

  async createAccount(name: string, role: PmmRole): Promise<ServiceAccount> {
    const body = (await this.call('POST', '/serviceaccounts', { name, role, isDisabled: false })) as ServiceAccount;
    if (typeof body?.id !== 'number') throw new PmmNotReadyError(`PMM at ${this.url} created service account ${name} but returned no id`);
    return body;
  }

  async deleteAccount(id: number): Promise<void> {
    await this.call('DELETE', `/serviceaccounts/${id}`);
  }

  async listTokens(accountId: number): Promise<TokenInfo[]> {
    const body = await this.call('GET', `/serviceaccounts/${accountId}/tokens`);
    if (!Array.isArray(body)) throw new PmmNotReadyError(`PMM at ${this.url} answered the token list of service account ${accountId} with something else than a list`);
    return body as TokenInfo[];
  }

  async createToken(accountId: number, name: string, secondsToLive?: number): Promise<NewToken> {
    const body = (await this.call('POST', `/serviceaccounts/${accountId}/tokens`, { name, ...(secondsToLive ? { secondsToLive } : {}) })) as NewToken;
    if (typeof body?.key !== 'string' || typeof body.id !== 'number') throw new PmmNotReadyError(`PMM at ${this.url} created token ${name} but returned no key`);
    return body;
  }

  async deleteToken(accountId: number, tokenId: number): Promise<void> {
    await this.call('DELETE', `/serviceaccounts/${accountId}/tokens/${tokenId}`);
  }
}
