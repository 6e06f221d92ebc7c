// The connection to DigitalOcean's API v2 over node's fetch: the bearer token on every request (and nowhere else),
// JSON in and out, errors made typed, transient failures retried, rate limits waited out, actions polled until
// they finish. Why fetch and no SDK: the official @digitalocean/dots is a Kiota-generated client on preview
// packages and @azure/core-http, dots-wrapper wraps axios; neither retries 429 by `ratelimit-reset` nor knows a
// lost reply from a failed call, which is the part cnvm needs, and the ~20 endpoints cnvm uses are plain JSON.
//
// Retries: a 429 is never applied, so any request is sent again once the limit resets. A 5xx, a reset connection
// or a timeout may come after the call took effect: GET, PUT and DELETE are sent again (they are idempotent); a
// POST only through its `recover`, which looks for what the POST would have made (a droplet by name, a droplet
// already off) before sending it again.
import { InUseError, NotFoundError, PermissionError, ProviderError, TimeoutError } from '../errors.js';

type Json = Record<string, unknown>;

export interface RetryBudget {
  /** First wait after a 5xx or a dropped connection (production 1 s), doubled per attempt up to capMs. */
  baseMs: number;
  capMs: number;
  /** Give up once the waits add up to this (production 5 min: a rate-limit window is a minute). */
  budgetMs: number;
}

export const PRODUCTION_BUDGET: RetryBudget = { baseMs: 1000, capMs: 30_000, budgetMs: 300_000 };

export interface DoApiOptions {
  endpoint: string;
  token: string;
  retry?: RetryBudget;
  /** Between polls of an action (production 2 s). */
  pollIntervalMs?: number;
  /** How long an action may take (production 10 min). */
  actionTimeoutMs?: number;
  /** One request's timeout (production 60 s). */
  requestTimeoutMs?: number;
}

/** DigitalOcean's error body: `{ id: "not_found", message: "…" }`. */
export class DoHttpError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
    readonly resetAt?: number,
  ) {
    super(message);
    this.name = 'DoHttpError';
  }
}

export interface DoAction {
  id: number;
  status: 'in-progress' | 'completed' | 'errored';
  type: string;
}

/** An HTTP failure → a typed provider error; DigitalOcean's message is kept as the cause. */
export function classify(what: string, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (!(err instanceof DoHttpError)) return new ProviderError('failed', `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  const text = `${what}: ${err.message} (HTTP ${err.status}${err.id ? ` ${err.id}` : ''})`;
  if (err.status === 404) return new NotFoundError(text, { cause: err });
  if (err.status === 401) return new PermissionError(`${what}: DigitalOcean rejected the API token (${err.message}); give a valid one (DIGITALOCEAN_TOKEN)`, { cause: err });
  if (err.status === 403) return new PermissionError(`${text}; the token needs write scope for droplets, volumes, reserved IPs, firewalls and tags`, { cause: err });
  if (err.status === 409 || /in use|already attached|attached to|currently assigned|pending event/i.test(err.message)) return new InUseError(text, { cause: err });
  if (err.status === 422 || err.status === 400) return new ProviderError('invalid', text, { cause: err });
  return new ProviderError('failed', text, { cause: err });
}

const NETWORK = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_SOCKET|socket hang up|other side closed|fetch failed|terminated/i;

/** True for a failure after which the request may or may not have been applied, and may succeed if sent again. */
export function isTransient(err: unknown): boolean {
  if (err instanceof DoHttpError) return err.status >= 500;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return true;
  return NETWORK.test(`${e?.message ?? ''} ${e?.cause?.code ?? ''} ${e?.cause?.message ?? ''}`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function doApi(options: DoApiOptions) {
  const budget = options.retry ?? PRODUCTION_BUDGET;
  const pollMs = options.pollIntervalMs ?? 2000;
  const base = options.endpoint.replace(/\/+$/, '');

  async function once(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${options.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(options.requestTimeoutMs ?? 60_000),
    });
    const text = await res.text();
    if (res.ok) return text ? (JSON.parse(text) as unknown) : undefined;
    let id = '';
    let message = text.slice(0, 300) || res.statusText;
    try {
      const parsed = JSON.parse(text) as { id?: unknown; message?: unknown };
      if (typeof parsed.id === 'string') id = parsed.id;
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // Not JSON (a proxy's page): the first bytes are the message.
    }
    const reset = Number(res.headers.get('ratelimit-reset'));
    throw new DoHttpError(res.status, id, message, Number.isFinite(reset) && reset > 0 ? reset * 1000 : undefined);
  }

  /**
   * Sends a request until it succeeds or fails for good. `recover` (POSTs): after a failure that may have been
   * applied, finds its result instead of sending it again; undefined means it did not land, so it is sent again.
   */
  async function request<T>(what: string, method: string, path: string, body?: unknown, recover?: () => Promise<T | undefined>): Promise<T> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await once(method, path, body)) as T;
      } catch (err) {
        let wait: number;
        if (err instanceof DoHttpError && err.status === 429) {
          // Not applied. Wait until the window resets (DigitalOcean's ratelimit-reset, epoch seconds).
          wait = Math.max(budget.baseMs, (err.resetAt ?? Date.now() + budget.capMs) - Date.now());
        } else if (isTransient(err)) {
          wait = Math.min(budget.capMs, budget.baseMs * 2 ** attempt);
        } else throw classify(what, err);
        const mayHaveLanded = !(err instanceof DoHttpError && err.status === 429) && method === 'POST';
        if (mayHaveLanded && !recover) throw classify(`${what} (no reply: the call may or may not have been applied)`, err);
        if (waited + wait > budget.budgetMs) throw classify(`${what} (gave up after ${attempt + 1} attempts)`, err);
        await sleep(wait);
        waited += wait;
        if (mayHaveLanded && recover) {
          const found = await recover();
          if (found !== undefined) return found;
        }
      }
    }
  }

  /** GET that answers undefined for a 404. */
  async function get<T>(what: string, path: string): Promise<T | undefined> {
    try {
      return await request<T>(what, 'GET', path);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** DELETE that counts a 404 as done: the resource is gone (also when an earlier attempt's reply was lost). */
  async function del(what: string, path: string): Promise<void> {
    try {
      await request(what, 'DELETE', path);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** Every item of a paged collection (`key` is the array's name in the body: droplets, volumes, …). */
  async function list<T>(what: string, path: string, key: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = `${path}${path.includes('?') ? '&' : '?'}per_page=200`;
    while (next) {
      const page: Json = await request<Json>(what, 'GET', next);
      items.push(...(((page[key] as T[] | undefined) ?? []) as T[]));
      const href = ((page.links as Json | undefined)?.pages as Json | undefined)?.next;
      if (typeof href !== 'string') break;
      const url = new URL(href, base);
      next = `${url.pathname}${url.search}`;
    }
    return items;
  }

  /** Polls an action until it completes; an errored action is a failure naming it. */
  async function waitAction(what: string, action: DoAction | undefined): Promise<void> {
    if (!action) return;
    const deadline = Date.now() + (options.actionTimeoutMs ?? 600_000);
    let current = action;
    while (current.status === 'in-progress') {
      if (Date.now() > deadline) throw new TimeoutError(`${what}: action ${current.id} (${current.type}) still in progress`);
      await sleep(pollMs);
      const got = await request<{ action: DoAction }>(`${what}: action ${current.id}`, 'GET', `/v2/actions/${current.id}`);
      current = got.action;
    }
    if (current.status === 'errored') throw new ProviderError('failed', `${what}: DigitalOcean's action ${current.id} (${current.type}) errored`);
  }

  /** Polls `done` until it holds (a droplet leaving `new`), within the action timeout. */
  async function until(what: string, done: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + (options.actionTimeoutMs ?? 600_000);
    while (!(await done())) {
      if (Date.now() > deadline) throw new TimeoutError(`${what}: not done after ${Math.round((options.actionTimeoutMs ?? 600_000) / 1000)} s`);
      await sleep(pollMs);
    }
  }

  const enc = encodeURIComponent;
  return { request, get, del, list, waitAction, until, enc };
}

export type DoApi = ReturnType<typeof doApi>;
