// The GCE adapter's connection to the Compute API: the @google-cloud/compute clients (imported only when a call is
// made), credentials checked once up front, each call retried on transient failures, errors made typed, and each
// mutation sent with a requestId and waited on until its operation is DONE.
import { randomUUID } from 'node:crypto';
import { noCredentialsError } from './credentials.js';
import { PRODUCTION_RETRY, withRetries, type RetryPolicy } from './retry.js';
import { InUseError, NotFoundError, PermissionError, ProviderError, TimeoutError, WrongStateError } from '../errors.js';
import { importSdk } from '../sdk.js';

type Json = Record<string, unknown>;
type Method = (req: Json) => Promise<unknown[]>;
export type Client = Record<string, Method>;
export interface Clients {
  instances: Client;
  disks: Client;
  firewalls: Client;
  addresses: Client;
  subnetworks: Client;
  zoneOperations: Client;
  regionOperations: Client;
  globalOperations: Client;
  projects: Client;
}
export type Scope = 'zone' | 'region' | 'global';

export interface ApiOptions {
  project: string;
  zone: string;
  /** Passed to every client: endpoint, auth (tests point this at a local fake). */
  clientOptions?: Record<string, unknown>;
  pollIntervalMs?: number;
  operationTimeoutSec?: number;
  retry?: RetryPolicy;
}

/** An API or operation error → a typed provider error; GCE's message is kept as the cause. */
export function classify(what: string, code: string | number | undefined, message: string): ProviderError {
  const cause = new Error(message);
  const text = `${what}: ${message}`;
  const c = String(code ?? '');
  const both = `${c} ${message}`;
  if (c === '404' || c === '5' || /NOT_FOUND|notFound/i.test(c) || /was not found/i.test(message)) return new NotFoundError(text, { cause });
  if (/RESOURCE_IN_USE|resourceInUseByAnotherResource|IP_IN_USE/i.test(both)) return new InUseError(text, { cause });
  if (/ZONE_RESOURCE_POOL_EXHAUSTED/.test(both)) return new ProviderError('failed', `${text} (the zone is out of this machine type for now: try again later or in another zone with --zone)`, { cause });
  if (/QUOTA_EXCEEDED|quotaExceeded/.test(both)) return new ProviderError('failed', `${text} (a project or region quota: raise it in the console, or free resources)`, { cause });
  if (c === '403' || c === '7' || /PERMISSION|forbidden/i.test(c)) return new PermissionError(text, { cause });
  if (/NOT_READY|resourceNotReady|UNSUPPORTED_OPERATION/i.test(both)) return new WrongStateError(text, { cause });
  return new ProviderError('failed', text, { cause });
}

/**
 * What the API said: the REST transport's error carries the HTTP status as `code` and GCE's JSON error body as its
 * message; that body's message and reason (rateLimitExceeded, notFound, …) are what a user needs to see.
 */
export function apiFailure(err: unknown): { code: string | number | undefined; message: string } {
  const e = (err ?? {}) as { code?: string | number; message?: string };
  const text = e.message ?? String(err);
  try {
    const body = JSON.parse(text) as { error?: { code?: number; message?: string; errors?: { reason?: string }[] } };
    if (body.error?.message) {
      const reasons = (body.error.errors ?? []).map((x) => x.reason).filter(Boolean);
      return { code: body.error.code ?? e.code, message: `${body.error.message}${reasons.length ? ` (${reasons.join(', ')})` : ''}` };
    }
  } catch {
    // not a JSON body: a transport or client error, shown as it is
  }
  return { code: e.code, message: text };
}

const isNoCredentials = (err: unknown): boolean => /Could not load the default credentials|Unable to detect a Project Id|default credentials/i.test((err as Error)?.message ?? '');

export interface GceApi {
  clients(): Promise<Clients>;
  /** One read, retried on transient failures; a missing resource is undefined. */
  get<T = Json>(what: string, fn: (c: Clients) => Promise<unknown[]>): Promise<T | undefined>;
  /** One call, retried on transient failures, its error made typed. */
  call<T>(what: string, fn: (c: Clients) => Promise<unknown[]>): Promise<T>;
  /** Sends a mutation with a requestId (the same on every retry) and waits for its operation to be DONE. */
  mutate(what: string, method: (c: Clients, r: Json) => Promise<unknown[]>, request: Json, scope?: Scope): Promise<void>;
}

export function gceApi(options: ApiOptions): GceApi {
  const pollMs = options.pollIntervalMs ?? 2000;
  const opTimeoutMs = (options.operationTimeoutSec ?? 600) * 1000;
  const policy = options.retry ?? PRODUCTION_RETRY;
  const region = options.zone.replace(/-[a-z]$/, '');
  let clients: Promise<Clients> | undefined;

  async function connect(): Promise<Clients> {
    // cnvm runs on operators' machines: never probe the GCE metadata server for credentials or a project.
    process.env.METADATA_SERVER_DETECTION ??= 'none';
    // The package's index loads every API version's clients (~1.4 s); these nine v1 modules take ~0.3 s.
    const compute = await importSdk('gcp', '@google-cloud/compute', async () => {
      const [i, d, f, a, s, z, r, g, p] = await Promise.all([
        import('@google-cloud/compute/build/src/v1/instances_client.js'),
        import('@google-cloud/compute/build/src/v1/disks_client.js'),
        import('@google-cloud/compute/build/src/v1/firewalls_client.js'),
        import('@google-cloud/compute/build/src/v1/addresses_client.js'),
        import('@google-cloud/compute/build/src/v1/subnetworks_client.js'),
        import('@google-cloud/compute/build/src/v1/zone_operations_client.js'),
        import('@google-cloud/compute/build/src/v1/region_operations_client.js'),
        import('@google-cloud/compute/build/src/v1/global_operations_client.js'),
        import('@google-cloud/compute/build/src/v1/projects_client.js'),
      ]);
      return {
        InstancesClient: i.InstancesClient,
        DisksClient: d.DisksClient,
        FirewallsClient: f.FirewallsClient,
        AddressesClient: a.AddressesClient,
        SubnetworksClient: s.SubnetworksClient,
        ZoneOperationsClient: z.ZoneOperationsClient,
        RegionOperationsClient: r.RegionOperationsClient,
        GlobalOperationsClient: g.GlobalOperationsClient,
        ProjectsClient: p.ProjectsClient,
      };
    });
    let opts: Record<string, unknown> = { fallback: true, ...(options.clientOptions ?? {}) };
    if (!opts.authClient) {
      // Resolve credentials once, here, so their absence is one clear error rather than a rejection inside the client.
      const { GoogleAuth } = await importSdk('gcp', 'google-auth-library', () => import('google-auth-library'));
      const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/compute'] });
      try {
        opts = { ...opts, authClient: await auth.getClient() };
      } catch (err) {
        throw isNoCredentials(err) ? noCredentialsError(err) : new PermissionError(`Google credentials: ${(err as Error).message}`, { cause: err });
      }
    }
    // Each client costs ~25 ms to construct (google-gax hashes the whole Compute proto JSON for every one): make each
    // on first use, so a command pays only for the services it calls.
    const constructors: Record<keyof Clients, unknown> = {
      instances: compute.InstancesClient,
      disks: compute.DisksClient,
      firewalls: compute.FirewallsClient,
      addresses: compute.AddressesClient,
      subnetworks: compute.SubnetworksClient,
      zoneOperations: compute.ZoneOperationsClient,
      regionOperations: compute.RegionOperationsClient,
      globalOperations: compute.GlobalOperationsClient,
      projects: compute.ProjectsClient,
    };
    const made = new Map<keyof Clients, Client>();
    const lazy = {} as Clients;
    for (const key of Object.keys(constructors) as (keyof Clients)[]) {
      Object.defineProperty(lazy, key, {
        enumerable: true,
        get: (): Client => {
          let client = made.get(key);
          if (!client) {
            client = new (constructors[key] as new (o: object) => Client)(opts);
            made.set(key, client);
          }
          return client;
        },
      });
    }
    return lazy;
  }

  function getClients(): Promise<Clients> {
    clients ??= connect();
    return clients;
  }

  async function call<T>(what: string, fn: (c: Clients) => Promise<unknown[]>): Promise<T> {
    const c = await getClients();
    try {
      return (await withRetries(() => fn(c), policy))[0] as T;
    } catch (err) {
      if (isNoCredentials(err)) throw noCredentialsError(err);
      const f = apiFailure(err);
      throw classify(what, f.code, f.message);
    }
  }

  async function waitFor(what: string, name: string, scope: Scope): Promise<void> {
    const deadline = Date.now() + opTimeoutMs;
    const base = { project: options.project };
    // `wait` returns when the operation is done or after a while regardless: loop until DONE.
    for (;;) {
      const op = await call<{ status?: string; error?: { errors?: { code?: string; message?: string }[] } }>(`${what} (operation ${name})`, (c) =>
        scope === 'zone'
          ? c.zoneOperations.wait!({ ...base, zone: options.zone, operation: name })
          : scope === 'region'
            ? c.regionOperations.wait!({ ...base, region, operation: name })
            : c.globalOperations.wait!({ ...base, operation: name }),
      );
      if (op?.status === 'DONE') {
        const first = op.error?.errors?.[0];
        if (first) throw classify(what, first.code, first.message ?? first.code ?? 'operation failed');
        return;
      }
      if (Date.now() > deadline) throw new TimeoutError(`${what}: operation ${name} not done after ${opTimeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  return {
    clients: getClients,
    call,
    async get<T>(what: string, fn: (c: Clients) => Promise<unknown[]>): Promise<T | undefined> {
      try {
        return await call<T>(what, fn);
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
    async mutate(what, method, request, scope = 'zone') {
      const requestId = randomUUID();
      const response = await call<{ latestResponse?: { name?: string }; name?: string }>(what, (c) => method(c, { ...request, requestId }));
      const name = response?.latestResponse?.name ?? response?.name;
      if (!name) throw new ProviderError('failed', `${what}: no operation returned`);
      await waitFor(what, name, scope);
    },
  };
}

