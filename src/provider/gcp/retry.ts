// Which Compute API failures are worth retrying, and how long to keep at it. As Google's client libraries and
// gcloud do: 429, 500, 502, 503, 504, dropped connections, and the per-minute rate quota (403 rateLimitExceeded, or
// quotaExceeded with a rate reason) are transient; everything else (a 403 for a missing permission, a 400, a
// regional CPU quota, a zone out of stock) is not. Backoff is exponential with jitter, capped per wait, and lasts
// long enough to outwait a per-minute quota window; every mutation carries a requestId, so a retry whose first
// attempt did land is not applied twice.

export interface RetryPolicy {
  /** First wait (production 1 s). */
  baseMs: number;
  /** Longest single wait (production 32 s, as Google's guidance on exponential backoff). */
  capMs: number;
  /** Give up once the waits add up to this (production 120 s: two per-minute quota windows). */
  budgetMs: number;
}

export const PRODUCTION_RETRY: RetryPolicy = { baseMs: 1000, capMs: 32_000, budgetMs: 120_000 };

/** The waits before each retry, in order, with `random` in [0, 1) for the jitter (half fixed, half random). */
export function backoffSchedule(policy: RetryPolicy, random: () => number = Math.random): number[] {
  const waits: number[] = [];
  let total = 0;
  for (let attempt = 0; total < policy.budgetMs; attempt++) {
    const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
    const wait = Math.round(ceiling / 2 + (ceiling / 2) * random());
    waits.push(wait);
    total += wait;
  }
  return waits;
}

interface ApiFailure {
  code?: unknown;
  message?: unknown;
  reason?: unknown;
  errors?: { reason?: string }[];
}

const HTTP_RETRYABLE = [429, 500, 502, 503, 504];
// gRPC codes the REST client maps those statuses to: RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED.
const RPC_RETRYABLE = [8, 13, 14, 4];
const NETWORK_RETRYABLE = ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET'];

/** True for a failure another attempt may get past. */
export function isTransient(err: unknown): boolean {
  const e = (err ?? {}) as ApiFailure & { cause?: ApiFailure; type?: unknown };
  const text = `${String(e.message ?? '')} ${String(e.reason ?? '')} ${(e.errors ?? []).map((x) => x.reason ?? '').join(' ')}`;
  if (NETWORK_RETRYABLE.includes(String(e.code)) || NETWORK_RETRYABLE.includes(String(e.cause?.code))) return true;
  if (/socket hang up|ECONNRESET|network timeout|fetch failed/i.test(text)) return true;
  // A stockout or a project/region quota (CPUs, addresses) does not clear by waiting a minute.
  if (/ZONE_RESOURCE_POOL_EXHAUSTED|QUOTA_EXCEEDED\b/.test(text) && !/rate/i.test(text)) return false;
  if (/rateLimitExceeded|userRateLimitExceeded|RATE_LIMIT_EXCEEDED|backendError|resourceNotReady|RESOURCE_NOT_READY/.test(text)) return true;
  // quotaExceeded is also a rate limit when the message names a per-minute (or per-100-seconds) quota.
  if (/quotaExceeded|Quota exceeded/i.test(text) && /per minute|per 100 seconds|rate/i.test(text)) return true;
  const code = Number(e.code);
  return HTTP_RETRYABLE.includes(code) || RPC_RETRYABLE.includes(code);
}

/** Runs `attempt` until it succeeds, fails for good, or the schedule runs out (then the last error is thrown). */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy, onRetry?: (err: unknown, waitMs: number) => void): Promise<T> {
  const waits = backoffSchedule(policy);
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const wait = waits[i];
      if (wait === undefined || !isTransient(err)) throw err;
      onRetry?.(err, wait);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
