// One EC2 client per adapter, loaded lazily (rendering and dry runs that never call EC2 never import the SDK), and
// the ways its answers reach cnvm: typed errors, waiters with cnvm's bounds, and NextToken paging.
//
// Retries are the SDK's own: the adaptive retry mode retries throttling (RequestLimitExceeded), 5xx answers and
// transient network errors (resets, timeouts) with exponential backoff and jitter, and on throttling also slows the
// client's own send rate (a token bucket), so a burst against EC2's per-account request quota spreads out over the
// bucket's refill instead of failing. maxAttempts 10 lets the backoff reach its 20 s cap a few times (a minute or
// more in all) before the call fails.
import { ProviderError, InUseError, NotFoundError, PermissionError, TimeoutError, WrongStateError } from '../errors.js';
import { importSdk } from '../sdk.js';

export type Ec2 = typeof import('@aws-sdk/client-ec2');

export interface Ec2ClientOptions {
  region: string;
  profile?: string;
  /** Extra EC2Client configuration (tests: endpoint and static credentials). */
  clientConfig?: Record<string, unknown>;
  maxAttempts?: number;
  waitMaxSec?: number;
  waitDelaySec?: number;
}

export const CREDENTIALS_HELP =
  'no AWS credentials found. Provide them one of these ways: a named profile (AWS_PROFILE or --aws-profile, defined in ' +
  '~/.aws/config and ~/.aws/credentials); the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and ' +
  'AWS_SESSION_TOKEN for temporary keys); IAM Identity Center, after `aws sso login --profile NAME`; or an instance ' +
  'role when cnvm runs on EC2';

/** EC2's error codes → cnvm's typed provider errors, keeping EC2's own words. */
export function classify(what: string, err: unknown): ProviderError {
  const e = err as { name?: string; Code?: string; message?: string };
  const code = e.Code ?? e.name ?? '';
  if (code === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return new PermissionError(`${what}: ${CREDENTIALS_HELP}`, { cause: err });
  }
  const text = `${what}: ${code ? `${code}: ` : ''}${e.message ?? String(err)}`;
  if (/NotFound/.test(code)) return new NotFoundError(text, { cause: err });
  if (/VolumeInUse|InUse|AlreadyAssociated|DependencyViolation/.test(code)) return new InUseError(text, { cause: err });
  if (/IncorrectState|IncorrectInstanceState|ZoneMismatch/.test(code)) return new WrongStateError(text, { cause: err });
  if (/UnauthorizedOperation|AuthFailure|AccessDenied|InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken/.test(code)) return new PermissionError(text, { cause: err });
  if (/TimeoutError|Waiter/.test(code)) return new TimeoutError(text, { cause: err });
  return new ProviderError('failed', text, { cause: err });
}

type Waiter = (params: { client: unknown; maxWaitTime: number; minDelay: number; maxDelay: number }, input: object) => Promise<unknown>;

export function ec2Session(options: Ec2ClientOptions) {
  let sdk: Promise<{ ec2: Ec2; client: InstanceType<Ec2['EC2Client']>; once: InstanceType<Ec2['EC2Client']> }> | undefined;
  const waitMax = options.waitMaxSec ?? 600;
  const waitDelay = options.waitDelaySec ?? 5;

  function load() {
    sdk ??= (async () => {
      // The pinned SDK release supports node 20 (cnvm's floor); its notice about future releases is not the user's concern.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const ec2 = await importSdk('aws', '@aws-sdk/client-ec2', () => import('@aws-sdk/client-ec2'));
      const config = { region: options.region, retryMode: 'adaptive', ...(options.profile ? { profile: options.profile } : {}), ...(options.clientConfig ?? {}) };
      const client = new ec2.EC2Client({ ...config, maxAttempts: options.maxAttempts ?? 10 });
      // For the calls repeat-safe.ts retries itself, after looking for what a lost reply may have created.
      const once = new ec2.EC2Client({ ...config, maxAttempts: 1 });
      return { ec2, client, once };
    })();
    return sdk;
  }

  async function send<T>(what: string, command: object): Promise<T> {
    const { client } = await load();
    try {
      return (await client.send(command as never)) as T;
    } catch (err) {
      throw classify(what, err);
    }
  }

  /** One attempt, no SDK retry (repeat-safe.ts decides whether and how to repeat it); the error keeps the SDK's as cause. */
  async function sendOnce<T>(what: string, command: object): Promise<T> {
    const { once } = await load();
    try {
      return (await once.send(command as never)) as T;
    } catch (err) {
      throw classify(what, err);
    }
  }

  /**
   * Every item of a Describe* call that pages: EC2 cuts a page before applying filters, so a filtered page may be
   * empty and still carry a NextToken; only the last page has none.
   */
  async function all<T>(what: string, command: (token: string | undefined) => object, items: (page: Record<string, unknown>) => T[] | undefined): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const page = await send<Record<string, unknown> & { NextToken?: string }>(what, command(token));
      out.push(...(items(page) ?? []));
      token = page.NextToken;
    } while (token);
    return out;
  }

  /** Waits up to `maxSec` (default: the session's bound) for the waiter's state; TimeoutError after that. */
  async function wait(what: string, waiter: Waiter, input: object, maxSec = waitMax): Promise<void> {
    const { client } = await load();
    try {
      // The SDK wants minDelay ≤ maxDelay < maxWaitTime: a short bound polls more often.
      const minDelay = Math.min(waitDelay, maxSec / 4);
      await waiter({ client, maxWaitTime: maxSec, minDelay, maxDelay: Math.max(minDelay, Math.min(30, waitDelay * 16, maxSec / 2)) }, input);
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e.name === 'TimeoutError' || /timed out|exceeded/i.test(e.message ?? '')) throw new TimeoutError(`${what}: not done after ${maxSec} s`, { cause: err });
      throw classify(what, err);
    }
  }

  return { load, send, sendOnce, all, wait };
}

export type Ec2Session = ReturnType<typeof ec2Session>;
