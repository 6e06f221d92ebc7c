// `cnvm pmm token`: PMM service-account tokens, created through PMM's API and kept in the team's secret store.
// Order of work, so that a failure never leaves a token nobody holds:
//   1. every input checked: the name, the role, the store's form and reachability (before anything in PMM);
//   2. PMM reached over its pinned certificate, ready, and the admin password accepted;
//   3. the service account found or created; a new token created;
//   4. the token stored — if that fails, the new token (and an account made in this run) is deleted again; so is a
//      token whose creation answer was lost (its key is gone), found by its unique name;
//   5. only then (rotation) the old tokens revoked — if that fails, both tokens work, and the error says so.
// The token value leaves this module only in the result's `token.key`, which the CLI prints with --show alone.
import { CnvmError } from '../errors.js';
import { NotFoundError } from '../provider/errors.js';
import type { Provider } from '../provider/types.js';
import { PmmApi, PmmNotReadyError, type PmmRole, type ServiceAccount, type TokenInfo } from '../workload/pmm-api/client.js';
import { CertificateMismatchError, PmmUnreachableError, normalizeFingerprint, pinIsConsistent, presentedCertificate, type CertPin } from '../workload/pmm-api/tls-pin.js';
import type { TokenStore } from '../workload/token-stores/index.js';
import { PmmFiles, type TokenEntry } from './pmm-files.js';
import { status } from './status.js';
import type { StateStore } from './store.js';

export const TOKEN_ROLES = { viewer: 'Viewer', editor: 'Editor', admin: 'Admin' } as const satisfies Record<string, PmmRole>;
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export class TokenConflictError extends CnvmError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** Rotation stored the new token but could not revoke an old one: both work. */
export class PartialRotationError extends CnvmError {
  constructor(
    message: string,
    readonly result: TokenResult,
  ) {
    super('provider', message);
  }
}

export function validateTokenName(name: string): void {
  if (!TOKEN_NAME.test(name)) throw new CnvmError('usage', `token name ${JSON.stringify(name)}: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit`);
}

export function roleOf(flag: string): PmmRole {
  const role = (TOKEN_ROLES as Record<string, PmmRole>)[flag.toLowerCase()];
  if (!role) throw new CnvmError('usage', `--role ${flag}: give viewer, editor or admin`);
  return role;
}

/** Where PMM answers for a cnvm VM: the URL `cnvm status` shows. */
export async function vmPmmUrl(provider: Provider, store: StateStore, vm: string): Promise<string> {
  const s = await status(provider, store, vm);
  if (!s.url) throw new PmmNotReadyError(`${vm}: ${s.urlMissing ?? 'no PMM URL yet'}`);
  return s.url;
}

export interface PmmEndpoint {
  url: string;
  files: PmmFiles;
  user: string;
  password: string;
  /** A fingerprint the user vouches for (--pmm-fingerprint): pins it, or replaces a pin that no longer matches. */
  fingerprint?: string;
  note?: (line: string) => void;
}

export interface Connected {
  api: PmmApi;
  fingerprint: string;
  pinned: 'first-use' | 'pinned' | 'given';
}

/** PMM over its pinned certificate (pinned now, on first use), ready, with the admin password accepted. */
export async function connectPmm(ep: PmmEndpoint): Promise<Connected> {
  const u = new URL(ep.url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 443);
  const wanted = ep.fingerprint === undefined ? undefined : normalizeFingerprint(ep.fingerprint);
  if (ep.fingerprint !== undefined && !wanted) throw new CnvmError('usage', `--pmm-fingerprint ${ep.fingerprint}: give the certificate's SHA-256 fingerprint (64 hex digits, colons optional)`);
  const saved = ep.files.readPin();
  if (saved && !pinIsConsistent(saved)) throw new CnvmError('io', `${ep.files.pinPath}: the pinned certificate does not match its own fingerprint; remove the file to pin again`);
  let pin: CertPin | undefined = saved && (!wanted || saved.fingerprint256 === wanted) ? saved : undefined;
  let how: Connected['pinned'] = 'pinned';
  if (!pin) {
    const presented = await presentedCertificate(host, port);
    if (wanted && presented.fingerprint256 !== wanted) {
      throw new CertificateMismatchError(`PMM at ${ep.url} presents a certificate with SHA-256 ${presented.fingerprint256}, not the --pmm-fingerprint given (${wanted}); nothing was sent to it`);
    }
    pin = presented;
    how = wanted ? 'given' : 'first-use';
    ep.files.writePin(ep.url, pin);
    ep.note?.(`pinned PMM's certificate on ${how === 'given' ? 'your word (--pmm-fingerprint)' : 'first use'}: SHA-256 ${pin.fingerprint256} (${ep.files.pinPath})`);
  }
  const api = new PmmApi({ url: ep.url, pin, user: ep.user, password: ep.password });
  if (!(await api.ready())) throw new PmmNotReadyError(`PMM at ${ep.url} is not ready (GET /v1/server/readyz did not answer 200); wait until it is (cnvm status shows it), then run this again`);
  return { api, fingerprint: pin.fingerprint256, pinned: how };
}

export interface TokenResult {
  action: 'create' | 'rotate';
  serviceAccount: { id: number; name: string; role: string; created: boolean };
  token: { id: number; name: string; key: string };
  store: { spec: string; location: string; version?: string } | null;
  revoked: { id: number; name: string }[];
  /** Old tokens that could not be revoked: they still work. */
  notRevoked: { id: number; name: string; error: string }[];
  certificate: { fingerprint256: string; pinned: Connected['pinned'] };
}

export interface CreateInput {
  name: string;
  role?: PmmRole;
  store?: TokenStore;
  /** Replace cnvm's existing token(s) of this account (create --rotate, and rotate). */
  rotate: boolean;
  /** rotate: the account must exist already. */
  mustExist?: boolean;
  secondsToLive?: number;
}

const managedPrefix = (name: string): string => `cnvm-${name}-`;
const managed = (name: string, tokens: TokenInfo[]): TokenInfo[] => tokens.filter((t) => t.name.startsWith(managedPrefix(name)));
const stamp = (): string => new Date().toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '$1Z');

export async function createToken(ep: PmmEndpoint, lock: StateStore, input: CreateInput): Promise<TokenResult> {
  validateTokenName(input.name);
  await input.store?.check();
  const held = lock.lock('pmm', ep.files.key, `pmm token ${input.rotate ? 'rotate' : 'create'} ${input.name}`);
  try {
    const conn = await connectPmm(ep);
    return await createWith(conn, ep, input);
  } finally {
    held.release();
  }
}

async function createWith(conn: Connected, ep: PmmEndpoint, input: CreateInput): Promise<TokenResult> {
  const { api } = conn;
  let account: ServiceAccount | undefined = await api.findAccount(input.name);
  if (!account && input.mustExist) throw new NotFoundError(`PMM at ${ep.url} has no service account ${input.name}: create it with cnvm pmm token create ${input.name}`);
  if (account && input.role && account.role !== input.role) {
    throw new TokenConflictError(`service account ${input.name} exists in PMM with role ${account.role}, not ${input.role}; change its role in PMM (Administration → Users and access → Service accounts) or pick another name`);
  }
  const old = account ? managed(input.name, await api.listTokens(account.id)) : [];
  if (old.length && !input.rotate) {
    throw new TokenConflictError(`service account ${input.name} already has cnvm's token ${old.map((t) => `${t.name} (id ${t.id})`).join(', ')}; a token is shown only when created, so rotate it: cnvm pmm token rotate ${input.name} (or create --rotate)`);
  }
  const created = !account;
  account ??= await createAccount(api, input.name, input.role ?? 'Viewer');
  const tokenName = `${managedPrefix(input.name)}${stamp()}`;
  let token;
  try {
    token = await api.createToken(account.id, tokenName, input.secondsToLive);
  } catch (err) {
    const lost = err instanceof PmmUnreachableError ? await undoLostToken(api, account.id, tokenName) : undefined;
    if (created && lost !== 'unknown') await api.deleteAccount(account.id).catch(() => undefined);
    if (lost === undefined) throw err;
    const why = (err as Error).message;
    const tail = old.length ? '; the old token still works' : '';
    if (lost === 'unknown') {
      throw new CnvmError('provider', `PMM's answer to creating token ${tokenName} of service account ${input.name} was lost (${why}), and PMM cannot be asked now whether it exists: if it does, nobody holds it — delete the token ${tokenName} in PMM (Administration → Users and access → Service accounts → ${input.name})${tail}`, { cause: err });
    }
    throw new CnvmError('provider', `${lost === 'revoked' ? `PMM created token ${tokenName} but its answer was lost (${why}); cnvm revoked it again` : `PMM did not create token ${tokenName} (${why})`}; nothing was stored${tail}. Run the command again`, { cause: err });
  }
  let version: string | undefined;
  if (input.store) {
    try {
      ({ version } = await input.store.put({ token: token.key, serviceAccount: account.name, tokenName, pmmUrl: ep.url }));
    } catch (err) {
      // Nothing half-done: the token nobody holds is deleted again (and the account, if this run made it).
      const undo = await api.deleteToken(account.id, token.id).then(() => (created ? api.deleteAccount(account.id) : undefined)).then(
        () => 'the new token was revoked again',
        (e: Error) => `revoking the new token ${tokenName} (id ${token.id}) failed too (${e.message}); revoke it in PMM`,
      );
      const message = `${(err as Error).message}; ${undo}${old.length ? '; the old token still works' : ''}`;
      throw new CnvmError((err as CnvmError).kind ?? 'provider', message, { cause: err });
    }
  }
  const entry: TokenEntry = {
    serviceAccount: account.name,
    serviceAccountId: account.id,
    role: account.role,
    tokenId: token.id,
    tokenName,
    ...(input.store ? { store: input.store.spec, location: input.store.location } : {}),
    ...(version ? { version } : {}),
    storedAt: new Date().toISOString(),
  };
  ep.files.setToken(input.name, entry);
  const result: TokenResult = {
    action: input.rotate && old.length ? 'rotate' : 'create',
    serviceAccount: { id: account.id, name: account.name, role: account.role, created },
    token: { id: token.id, name: tokenName, key: token.key },
    store: input.store ? { spec: input.store.spec, location: input.store.location, ...(version ? { version } : {}) } : null,
    revoked: [],
    notRevoked: [],
    certificate: { fingerprint256: conn.fingerprint, pinned: conn.pinned },
  };
  for (const t of old) {
    try {
      await api.deleteToken(account.id, t.id);
      result.revoked.push({ id: t.id, name: t.name });
    } catch (err) {
      result.notRevoked.push({ id: t.id, name: t.name, error: (err as Error).message });
    }
  }
  if (result.notRevoked.length) {
    const names = result.notRevoked.map((t) => `${t.name} (id ${t.id}): ${t.error}`).join('; ');
    throw new PartialRotationError(`the new token ${tokenName} is stored${input.store ? ` at ${input.store.location}` : ''} and works, but revoking the old one failed — both work now: ${names}. Run cnvm pmm token rotate ${input.name} again, or delete the old token in PMM`, result);
  }
  return result;
}

/** Creates the account; when PMM's answer is lost, the account it may have made is looked up and used. */
async function createAccount(api: PmmApi, name: string, role: PmmRole): Promise<ServiceAccount> {
  try {
    return await api.createAccount(name, role);
  } catch (err) {
    if (!(err instanceof PmmUnreachableError)) throw err;
    const made = await api.findAccount(name).catch(() => undefined);
    if (!made) throw err;
    return made;
  }
}

/**
 * PMM's answer to a token creation was lost: the token may exist, and its key (shown only in that answer) is gone.
 * A token by that (unique) name is revoked again, so none is left that nobody holds.
 */
async function undoLostToken(api: PmmApi, accountId: number, tokenName: string): Promise<'revoked' | 'absent' | 'unknown'> {
  try {
    const found = (await api.listTokens(accountId)).find((t) => t.name === tokenName);
    if (!found) return 'absent';
    await api.deleteToken(accountId, found.id);
    return 'revoked';
  } catch {
    return 'unknown';
  }
}

export interface AccountListing {
  id: number;
  name: string;
  role: string;
  disabled: boolean;
  tokens: { id: number; name: string; created: string | null; expiration: string | null; expired: boolean; managedByCnvm: boolean }[];
  store: { spec: string; location: string } | null;
}

export async function listTokens(ep: PmmEndpoint): Promise<{ accounts: AccountListing[]; certificate: TokenResult['certificate'] }> {
  const conn = await connectPmm(ep);
  const known = ep.files.tokens();
  const accounts: AccountListing[] = [];
  for (const a of await conn.api.searchAccounts('')) {
    const tokens = await conn.api.listTokens(a.id);
    const entry = known[a.name];
    accounts.push({
      id: a.id,
      name: a.name,
      role: a.role,
      disabled: a.isDisabled === true,
      tokens: tokens.map((t) => ({ id: t.id, name: t.name, created: t.created ?? null, expiration: t.expiration ?? null, expired: t.hasExpired === true, managedByCnvm: t.name.startsWith(managedPrefix(a.name)) })),
      store: entry?.store && entry.location ? { spec: entry.store, location: entry.location } : null,
    });
  }
  return { accounts, certificate: { fingerprint256: conn.fingerprint, pinned: conn.pinned } };
}

export interface RevokeResult {
  serviceAccount: { id: number; name: string; deleted: boolean } | null;
  revoked: { id: number; name: string }[];
  kept: { id: number; name: string }[];
  secret: { spec: string; location: string; deleted: boolean; detail: string } | null;
}

/** Revokes cnvm's tokens of NAME in PMM (and the account once no token is left); the stored secret only if asked. */
export async function revokeToken(ep: PmmEndpoint, lock: StateStore, input: { name: string; deleteSecret: boolean; store?: (spec: string) => Promise<TokenStore>; storeSpec?: string }): Promise<RevokeResult> {
  validateTokenName(input.name);
  const entry = ep.files.tokens()[input.name];
  const spec = input.storeSpec ?? entry?.store;
  if (input.deleteSecret && !spec) throw new CnvmError('usage', `--delete-secret: cnvm has no store on record for ${input.name}; give --store`);
  const store = input.deleteSecret && spec && input.store ? await input.store(spec) : undefined;
  await store?.check();
  const held = lock.lock('pmm', ep.files.key, `pmm token revoke ${input.name}`);
  try {
    const { api } = await connectPmm(ep);
    const account = await api.findAccount(input.name);
    if (!account && !entry) throw new NotFoundError(`PMM at ${ep.url} has no service account ${input.name}, and cnvm has no token of that name on record`);
    const result: RevokeResult = { serviceAccount: null, revoked: [], kept: [], secret: null };
    if (account) {
      const tokens = await api.listTokens(account.id);
      for (const t of managed(input.name, tokens)) {
        await api.deleteToken(account.id, t.id);
        result.revoked.push({ id: t.id, name: t.name });
      }
      result.kept = tokens.filter((t) => !t.name.startsWith(managedPrefix(input.name))).map((t) => ({ id: t.id, name: t.name }));
      const deleted = result.kept.length === 0;
      if (deleted) await api.deleteAccount(account.id);
      result.serviceAccount = { id: account.id, name: account.name, deleted };
    }
    ep.files.setToken(input.name, undefined);
    if (store) {
      const r = await store.remove();
      result.secret = { spec: store.spec, location: store.location, deleted: r.removed, detail: r.detail };
    } else if (spec) {
      result.secret = { spec, location: entry?.location ?? spec, deleted: false, detail: 'kept (--delete-secret removes it); it holds a revoked token now' };
    }
    return result;
  } finally {
    held.release();
  }
}
