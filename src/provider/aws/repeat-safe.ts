// EC2 calls made safe to repeat after a lost reply (the call took effect, its answer never came, and the SDK or a
// re-run sends it again).
//
// - Creates (RunInstances, CreateVolume, AllocateAddress, CreateSecurityGroup) go out once, without the SDK's own
//   retries: after a failure cnvm first looks for what the lost attempt may have made (each is tagged at creation
//   with its name and owner, so it is found by those tags) and only sends again when nothing is there. RunInstances
//   and CreateVolume also carry a ClientToken, the same on every attempt, for EC2's own deduplication;
//   AllocateAddress and CreateSecurityGroup have none, so the look-up is what keeps a second Elastic IP from being
//   allocated (and billed) or a retried group from failing on "duplicate".
// - Changes (AuthorizeSecurityGroupIngress, AttachVolume, DetachVolume, the deletes) keep the SDK's retries; a
//   retry whose first attempt landed comes back as "already exists / already attached / not found", and `settle`
//   reads the state again: if it is what the call was for (the rule is there, the volume is on this instance, the
//   thing is gone), the call succeeded.
import type { ProviderError } from '../errors.js';

/** A failure another attempt may get past: a dropped connection, a timeout, throttling or a 5xx (the SDK's error). */
export function isTransient(err: unknown): boolean {
  const e = ((err as { cause?: unknown })?.cause ?? err) as { name?: string; code?: string; Code?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (status >= 500 || status === 429) return true;
  const code = `${e.Code ?? ''} ${e.code ?? ''} ${e.name ?? ''}`;
  if (/ECONNRESET|EPIPE|ETIMEDOUT|ECONNREFUSED|TimeoutError|RequestTimeout|Throttl|RequestLimitExceeded|InternalError|Unavailable/.test(code)) return true;
  return /socket hang up|ECONNRESET|network/i.test(e.message ?? '');
}

export interface CreateOnceOptions {
  attempts?: number;
  /** First wait between attempts, milliseconds (doubles each time). */
  baseMs?: number;
}

/**
 * Sends a create whose reply may be lost: on any failure, `existing` (a look-up by the tags the create put on it)
 * answers first; the create is sent again only when nothing is found and the failure was transient.
 */
export async function createOnce<T>(create: () => Promise<T>, existing: () => Promise<T | undefined>, options: CreateOnceOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  const baseMs = options.baseMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await create();
    } catch (err) {
      const found = await existing();
      if (found !== undefined) return found;
      if (attempt >= attempts || !isTransient(err)) throw err;
      await new Promise((r) => setTimeout(r, baseMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2)));
    }
  }
}

/**
 * Sends a change that the SDK may have repeated after a lost reply: a failure for which `done` (a fresh read)
 * says the wanted state holds is the call's success.
 */
export async function settle(call: () => Promise<unknown>, done: (err: ProviderError) => Promise<boolean>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (await done(err as ProviderError)) return;
    throw err;
  }
}
