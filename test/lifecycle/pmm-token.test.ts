// `cnvm pmm token`'s lifecycle against the loopback PMM stand-in (Grafana's service-account API under /graph/api,
// HTTPS with a self-signed certificate) and the root-only file store: create, rotate, list, revoke, and the failure
// paths — PMM unreachable or not ready, a wrong password, a replaced certificate, a store that refuses, an answer
// lost after PMM created the account or the token, an old token that cannot be revoked.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PmmFiles, urlKey } from '../../src/lifecycle/pmm-files.js';
import { createToken, listTokens, PartialRotationError, revokeToken, TokenConflictError, vmPmmUrl, type PmmEndpoint } from '../../src/lifecycle/pmm-token.js';
import { StateStore } from '../../src/lifecycle/store.js';
import { PmmAuthError, PmmNotReadyError } from '../../src/workload/pmm-api/client.js';
import { CertificateMismatchError, PmmUnreachableError } from '../../src/workload/pmm-api/tls-pin.js';
import { parseStore } from '../../src/workload/token-stores/index.js';
import { startFakePmm, type FakePmm } from '../support/fake-pmm.js';
import { createFakeProvider } from '../support/fake-provider.js';
import { provisionVm } from '../support/lifecycle.js';

let pmm: FakePmm;
let dir: string;
let state: StateStore;
const notes: string[] = [];

const endpoint = (over: Partial<PmmEndpoint> = {}): PmmEndpoint => ({
  url: pmm.url,
  user: 'admin',
  password: pmm.password,
  files: new PmmFiles(state.dir, urlKey(pmm.url)),
  note: (l) => notes.push(l),
  ...over,
});
const tokensOf = (name: string) => [...pmm.accounts.values()].find((a) => a.name === name)?.tokens ?? [];
/** Every file cnvm wrote locally, as text: none may hold a token. */
const localFiles = (root: string): string[] =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

beforeAll(async () => {
  pmm = await startFakePmm();
});
afterAll(async () => {
  await pmm.close();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnvm-pmm-token-'));
  state = new StateStore(join(dir, 'state'));
  mkdirSync(join(dir, 'out'));
  pmm.accounts.clear();
  pmm.faults.length = 0;
  pmm.requests.length = 0;
  pmm.ready = true;
  notes.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('create, rotate, list, revoke with the file store', () => {
  it('create makes one service account and one token, stores it 0600, and keeps no token anywhere else', async () => {
    const out = join(dir, 'out', 'pmm-token');
    const store = await parseStore(`file:${out}`);
    const r = await createToken(endpoint(), state, { name: 'ci', role: 'Viewer', store, rotate: false });
    expect(pmm.accounts.size).toBe(1);
    const [account] = [...pmm.accounts.values()];
    expect(account).toMatchObject({ name: 'ci', role: 'Viewer' });
    expect(account?.tokens).toHaveLength(1);
    const key = account?.tokens[0]?.key as string;
    expect(r.token).toEqual({ id: account?.tokens[0]?.id, name: account?.tokens[0]?.name, key });
    expect(r.serviceAccount).toEqual({ id: account?.id, name: 'ci', role: 'Viewer', created: true });
    expect(readFileSync(out, 'utf8')).toBe(key);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(await pmm.tokenWorks(key)).toBe(true);
    // The pin and the token record exist, 0600, and hold no token; nor does any note.
    expect(r.certificate.pinned).toBe('first-use');
    expect(localFiles(state.dir).length).toBeGreaterThanOrEqual(2);
    for (const text of localFiles(state.dir)) expect(text).not.toContain(key);
    for (const f of readdirSync(join(state.dir, 'pmm'))) expect(statSync(join(state.dir, 'pmm', f)).mode & 0o777).toBe(0o600);
    expect(notes.join('\n')).not.toContain(key);
    expect(notes.join('\n')).toContain('pinned');
  });

  it('a second create refuses (exit 8, conflict) and changes nothing; rotate stores a new token, then revokes the old one', async () => {
    const out = join(dir, 'out', 'tok');
    const store = await parseStore(`file:${out}`);
    const first = await createToken(endpoint(), state, { name: 'ci', store, rotate: false });
    const err = await createToken(endpoint(), state, { name: 'ci', store, rotate: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenConflictError);
    expect((err as Error).message).toMatch(/rotate/);
    expect(tokensOf('ci')).toHaveLength(1);
    const inode = statSync(out).ino;
    const second = await createToken(endpoint(), state, { name: 'ci', store, rotate: true, mustExist: true });
    expect(second.action).toBe('rotate');
    expect(second.revoked).toEqual([{ id: first.token.id, name: first.token.name }]);
    expect(tokensOf('ci').map((t) => t.id)).toEqual([second.token.id]);
    expect(await pmm.tokenWorks(first.token.key)).toBe(false);
    expect(await pmm.tokenWorks(second.token.key)).toBe(true);
    // Written through a rename: a new file, whole.
    expect(readFileSync(out, 'utf8')).toBe(second.token.key);
    expect(statSync(out).ino).not.toBe(inode);
    expect(second.certificate.pinned).toBe('pinned');
  });

  it('list shows each account, its tokens, which are cnvm\'s, and where cnvm stored them', async () => {
    const store = await parseStore(`file:${join(dir, 'out', 't')}`);
    const r = await createToken(endpoint(), state, { name: 'ci', role: 'Editor', store, rotate: false, secondsToLive: 86_400 });
    const { accounts } = await listTokens(endpoint());
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ name: 'ci', role: 'Editor', disabled: false, store: { spec: store.spec, location: store.location } });
    expect(accounts[0]?.tokens).toEqual([expect.objectContaining({ id: r.token.id, name: r.token.name, managedByCnvm: true, expired: false })]);
    expect(accounts[0]?.tokens[0]?.expiration).toMatch(/^\d{4}-/);
    expect(JSON.stringify(accounts)).not.toContain(r.token.key);
  });

  it('revoke removes cnvm\'s tokens and the account from PMM; the stored secret stays unless asked', async () => {
    const out = join(dir, 'out', 't');
    const store = await parseStore(`file:${out}`);
    const r = await createToken(endpoint(), state, { name: 'ci', store, rotate: false });
    const rev = await revokeToken(endpoint(), state, { name: 'ci', deleteSecret: false, store: (s) => parseStore(s) });
    expect(rev.revoked).toEqual([{ id: r.token.id, name: r.token.name }]);
    expect(rev.serviceAccount).toMatchObject({ name: 'ci', deleted: true });
    expect(rev.secret).toMatchObject({ spec: store.spec, deleted: false });
    expect(pmm.accounts.size).toBe(0);
    expect(await pmm.tokenWorks(r.token.key)).toBe(false);
    expect(readFileSync(out, 'utf8')).toBe(r.token.key);
    await createToken(endpoint(), state, { name: 'ci', store, rotate: false });
    const gone = await revokeToken(endpoint(), state, { name: 'ci', deleteSecret: true, store: (s) => parseStore(s) });
    expect(gone.secret).toMatchObject({ deleted: true });
    expect(() => statSync(out)).toThrow();
  });

  it('revoke keeps an account that holds tokens cnvm did not make, and leaves those tokens alone', async () => {
    const store = await parseStore(`file:${join(dir, 'out', 't')}`);
    const r = await createToken(endpoint(), state, { name: 'ci', store, rotate: false });
    const account = [...pmm.accounts.values()][0];
    account?.tokens.push({ id: 999, name: 'hand-made', key: 'glsa_hand', created: new Date().toISOString(), expiration: null });
    const rev = await revokeToken(endpoint(), state, { name: 'ci', deleteSecret: false });
    expect(rev.revoked.map((t) => t.id)).toEqual([r.token.id]);
    expect(rev.kept).toEqual([{ id: 999, name: 'hand-made' }]);
    expect(rev.serviceAccount?.deleted).toBe(false);
    expect(tokensOf('ci').map((t) => t.name)).toEqual(['hand-made']);
  });
});

describe('failures', () => {
  it('PMM unreachable: a typed error naming the URL, nothing stored', async () => {
    const url = `https://127.0.0.1:${await closedPort()}`;
    const out = join(dir, 'out', 't');
    const err = await createToken(endpoint({ url, files: new PmmFiles(state.dir, urlKey(url)) }), state, { name: 'ci', store: await parseStore(`file:${out}`), rotate: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PmmUnreachableError);
    expect((err as Error).message).toContain(url);
    expect(() => statSync(out)).toThrow();
  });

  it('PMM not ready: refused before any credential is sent', async () => {
    pmm.ready = false;
    const err = await createToken(endpoint(), state, { name: 'ci', store: await parseStore(`file:${join(dir, 'out', 't')}`), rotate: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PmmNotReadyError);
    expect(pmm.requests).toEqual(['GET /v1/server/readyz']);
  });

  it('a wrong admin password is a usage error (exit 2), and nothing is created', async () => {
    const err = await createToken(endpoint({ password: 'not-it' }), state, { name: 'ci', store: await parseStore(`file:${join(dir, 'out', 't')}`), rotate: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PmmAuthError);
    expect((err as PmmAuthError).kind).toBe('usage');
    expect((err as Error).message).not.toContain('not-it');
    expect(pmm.accounts.size).toBe(0);
  });

  it('a replaced certificate is refused with both fingerprints and no request; --pmm-fingerprint trusts the new one', async () => {
    const store = await parseStore(`file:${join(dir, 'out', 't')}`);
    await createToken(endpoint(), state, { name: 'ci', store, rotate: false });
    pmm.replaceCertificate();
    pmm.requests.length = 0;
    const err = await listTokens(endpoint()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CertificateMismatchError);
    expect((err as Error).message).toMatch(/--pmm-fingerprint [0-9A-F:]{95}/);
    expect(pmm.requests).toEqual([]);
    const fp = /--pmm-fingerprint ([0-9A-F:]{95})/.exec((err as Error).message)?.[1] as string;
    const { accounts, certificate } = await listTokens(endpoint({ fingerprint: fp }));
    expect(certificate).toEqual({ fingerprint256: fp, pinned: 'given' });
    expect(accounts).toHaveLength(1);
  });

  it('a store that cannot take the token is found before anything happens in PMM', async () => {
    mkdirSync(join(dir, 'out', 'is-a-dir'));
    const err = await createToken(endpoint(), state, { name: 'ci', store: await parseStore(`file:${join(dir, 'out', 'is-a-dir')}`), rotate: false }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/is-a-dir exists and is not a regular file/);
    expect(pmm.requests).toEqual([]);
    const missing = await createToken(endpoint(), state, { name: 'ci', store: await parseStore(`file:${join(dir, 'nope', 't')}`), rotate: false }).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/does not exist/);
    expect(pmm.requests).toEqual([]);
  });

  it('the answer to the token creation lost: the token nobody holds is revoked again, the account made in this run deleted', async () => {
    pmm.faults.push({ method: 'POST', path: /\/serviceaccounts\/\d+\/tokens$/, kind: 'lose-reply' });
    const out = join(dir, 'out', 't');
    const err = await createToken(endpoint(), state, { name: 'ci', store: await parseStore(`file:${out}`), rotate: false }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/PMM created token cnvm-ci-\S+ but its answer was lost .*cnvm revoked it again; nothing was stored/);
    expect(pmm.accounts.size).toBe(0);
    expect(() => statSync(out)).toThrow();
    // The next run succeeds.
    await createToken(endpoint(), state, { name: 'ci', store: await parseStore(`file:${out}`), rotate: false });
    expect(tokensOf('ci')).toHaveLength(1);
  });

  it('the answer to the account creation lost: the account PMM made is found and used', async () => {
    pmm.faults.push({ method: 'POST', path: /\/serviceaccounts$/, kind: 'lose-reply' });
    const r = await createToken(endpoint(), state, { name: 'ci', store: await parseStore(`file:${join(dir, 'out', 't')}`), rotate: false });
    expect(pmm.accounts.size).toBe(1);
    expect(tokensOf('ci').map((t) => t.id)).toEqual([r.token.id]);
  });

  it('during rotation, the old token not revocable: the new one is stored, both work, and the error says so', async () => {
    const out = join(dir, 'out', 't');
    const store = await parseStore(`file:${out}`);
    const first = await createToken(endpoint(), state, { name: 'ci', store, rotate: false });
    pmm.faults.push({ method: 'DELETE', path: /\/tokens\/\d+$/, kind: '503' });
    const err = await createToken(endpoint(), state, { name: 'ci', store, rotate: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialRotationError);
    const result = (err as PartialRotationError).result;
    expect((err as Error).message).toMatch(/both work now/);
    expect((err as Error).message).not.toContain(result.token.key);
    expect(readFileSync(out, 'utf8')).toBe(result.token.key);
    expect(await pmm.tokenWorks(first.token.key)).toBe(true);
    expect(await pmm.tokenWorks(result.token.key)).toBe(true);
    // Rotating again finishes the job: one token left, the newest.
    const again = await createToken(endpoint(), state, { name: 'ci', store, rotate: true });
    expect(tokensOf('ci').map((t) => t.id)).toEqual([again.token.id]);
  });

  it('rotate of an account PMM does not have is not-found (exit 5)', async () => {
    const err = await createToken(endpoint(), state, { name: 'nobody', store: await parseStore(`file:${join(dir, 'out', 't')}`), rotate: true, mustExist: true }).catch((e: unknown) => e);
    expect((err as { kind?: string }).kind).toBe('not-found');
    expect(pmm.accounts.size).toBe(0);
  });
});

describe('a cnvm VM (--vm)', () => {
  it("finds PMM at the VM's URL as cnvm status shows it; a stopped VM has none (PMM not ready, exit 4)", async () => {
    const provider = createFakeProvider({ implicitAddress: `127.0.0.1:${pmm.port}` });
    await provisionVm(provider, state, 'pmm1', { id: 'image-a', version: 'A' });
    const url = await vmPmmUrl(provider, state, 'pmm1');
    expect(url).toBe(`${pmm.url}/`);
    const files = new PmmFiles(state.dir, `${provider.name}-pmm1`);
    const r = await createToken({ url, user: 'admin', password: pmm.password, files }, state, { name: 'ci', store: await parseStore(`file:${join(dir, 'out', 't')}`), rotate: false });
    expect(tokensOf('ci').map((t) => t.id)).toEqual([r.token.id]);
    expect(files.tokens().ci).toMatchObject({ serviceAccount: 'ci', tokenId: r.token.id });
    await provider.stopVm('pmm1');
    const err = await vmPmmUrl(provider, state, 'pmm1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PmmNotReadyError);
    expect((err as Error).message).toMatch(/pmm1: no address yet: pmm1 is stopped/);
  });
});
