// The token stores on their own: `--store` forms, the Vault KV v2 store against a stateful loopback Vault, the
// Google Secret Manager store against a stateful loopback Secret Manager, the Kubernetes Secret manifest (parsed back
// with a YAML parser), and the token flowing from the PMM stand-in into Vault
// with a refusing Vault leaving no token in PMM.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PmmFiles, urlKey } from '../../src/lifecycle/pmm-files.js';
import { createToken, revokeToken } from '../../src/lifecycle/pmm-token.js';
import { StateStore } from '../../src/lifecycle/store.js';
import { parseStore } from '../../src/workload/token-stores/index.js';
import { startFakePmm, type FakePmm } from '../support/fake-pmm.js';
import { startFakeVault, type FakeVault } from '../support/fake-vault.js';
import { startFakeGcpSecrets, type FakeGcpSecrets } from '../support/fake-gcp-secrets.js';

let vault: FakeVault;
let gcp: FakeGcpSecrets;
let pmm: FakePmm;
let dir: string;
const value = { token: 'glsa_abcdefghijklmnopqrstuvwxyz012345_0a1b2c3d', serviceAccount: 'ci', tokenName: 'cnvm-ci-1', pmmUrl: 'https://127.0.0.1:8443' };
const vaultEnv = (): NodeJS.ProcessEnv => ({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token });

beforeAll(async () => {
  vault = await startFakeVault();
  gcp = await startFakeGcpSecrets();
  pmm = await startFakePmm();
});
afterAll(async () => {
  await vault.close();
  await gcp.close();
  await pmm.close();
});
beforeEach(() => {
  vault.secrets.clear();
  vault.denyWrites = false;
  gcp.secrets.clear();
  gcp.denyAddVersion = false;
  pmm.accounts.clear();
  dir = mkdtempSync(join(tmpdir(), 'cnvm-stores-'));
  return () => rmSync(dir, { recursive: true, force: true });
});

describe('--store forms', () => {
  it.each([
    ['nope', /give KIND:TARGET/],
    ['file:', /give KIND:TARGET/],
    ['vault:secret', /give vault:MOUNT\/PATH/],
    ['vault:secret/../x', /give vault:MOUNT\/PATH/],
    ['aws-secretsmanager:bad name', /a Secrets Manager name/],
    ['gcp-secretmanager:bad/id', /a secret id is/],
  ])('%s is a usage error', async (spec, message) => {
    const err = await parseStore(spec, {}).catch((e: unknown) => e);
    expect((err as { kind?: string }).kind).toBe('usage');
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(`--store ${spec}`);
  });

  it('vault without VAULT_ADDR or VAULT_TOKEN says which to set', async () => {
    await expect((await parseStore('vault:secret/pmm/ci', {})).check()).rejects.toThrow(/set VAULT_ADDR/);
    await expect((await parseStore('vault:secret/pmm/ci', { VAULT_ADDR: vault.addr })).check()).rejects.toThrow(/set VAULT_TOKEN/);
  });
});

describe('vault KV v2', () => {
  it('put writes a new version under the key pmmservertoken; remove deletes every version', async () => {
    const store = await parseStore('vault:secret/pmm/ci', vaultEnv());
    await store.check();
    expect(await store.put(value)).toEqual({ version: '1' });
    expect(await store.put({ ...value, token: 'glsa_second' })).toEqual({ version: '2' });
    expect(vault.secrets.get('pmm/ci')).toEqual([{ pmmservertoken: value.token }, { pmmservertoken: 'glsa_second' }]);
    expect(store.location).toBe(`${vault.addr}/v1/secret/data/pmm/ci (KV v2, key pmmservertoken)`);
    expect(store.location).not.toContain(vault.token);
    expect(await store.remove()).toMatchObject({ removed: true });
    expect(vault.secrets.has('pmm/ci')).toBe(false);
  });

  it('a rejected VAULT_TOKEN or a mount that is not KV v2 fails the check, naming the store but not the token', async () => {
    const bad = await parseStore('vault:secret/pmm/ci', { VAULT_ADDR: vault.addr, VAULT_TOKEN: 'hvs.wrong' });
    const err = await bad.check().catch((e: unknown) => e);
    expect((err as { kind?: string }).kind).toBe('usage');
    expect((err as Error).message).toMatch(/rejects VAULT_TOKEN \(permission denied\)/);
    expect((err as Error).message).not.toContain('hvs.wrong');
    await expect((await parseStore('vault:kv1/pmm/ci', vaultEnv())).check()).rejects.toThrow(/is kv1 a KV version 2 mount/);
    await expect((await parseStore('vault:secret/pmm/ci', { VAULT_ADDR: 'http://127.0.0.1:9', VAULT_TOKEN: 'x' })).check()).rejects.toThrow(/does not answer/);
  });

  it('through pmm token: create stores in Vault; a Vault that refuses the write leaves no token in PMM', async () => {
    const state = new StateStore(join(dir, 'state'));
    const ep = () => ({ url: pmm.url, user: 'admin', password: pmm.password, files: new PmmFiles(state.dir, urlKey(pmm.url)) });
    const r = await createToken(ep(), state, { name: 'ci', store: await parseStore('vault:secret/pmm/ci', vaultEnv()), rotate: false });
    expect(vault.secrets.get('pmm/ci')).toEqual([{ pmmservertoken: r.token.key }]);
    expect(r.store?.version).toBe('1');
    await revokeToken(ep(), state, { name: 'ci', deleteSecret: false });
    vault.denyWrites = true;
    const err = await createToken(ep(), state, { name: 'ci', store: await parseStore('vault:secret/pmm/ci', vaultEnv()), rotate: false }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Vault refused the write .*; the new token was revoked again/);
    expect(pmm.accounts.size).toBe(0);
    expect(vault.secrets.get('pmm/ci')).toHaveLength(1);
  });
});

describe('k8s-secret', () => {
  it('writes a 0600 Secret manifest pmm-token whose data.pmmservertoken decodes to the token', async () => {
    const path = join(dir, 'pmm-token.yaml');
    const store = await parseStore(`k8s-secret:${path}`);
    await store.check();
    await store.put({ ...value, serviceAccount: 'ci "quoted"' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const doc = parse(readFileSync(path, 'utf8')) as { apiVersion: string; kind: string; type: string; metadata: { name: string; annotations: Record<string, string> }; data: Record<string, string> };
    expect(doc).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'pmm-token' } });
    expect(doc.metadata.annotations['cnvm.dev/service-account']).toBe('ci "quoted"');
    expect(Object.keys(doc.data)).toEqual(['pmmservertoken']);
    expect(Buffer.from(doc.data.pmmservertoken as string, 'base64').toString('utf8')).toBe(value.token);
  });
});

describe('gcp-secretmanager', () => {
  const env = (): NodeJS.ProcessEnv => ({ CNVM_GCP_SECRETMANAGER_ENDPOINT: gcp.endpoint, CLOUDSDK_AUTH_ACCESS_TOKEN: gcp.accessToken, GOOGLE_CLOUD_PROJECT: 'proj-1' });

  it('creates the secret once, adds a version per put with {"pmmservertoken": …}, and removes it', async () => {
    const store = await parseStore('gcp-secretmanager:pmm-ci', env());
    await store.check();
    expect(await store.put(value)).toEqual({ version: '1' });
    expect(await store.put({ ...value, token: 'glsa_second' })).toEqual({ version: '2' });
    expect(gcp.secrets.get('projects/proj-1/secrets/pmm-ci')?.map((v) => JSON.parse(v) as unknown)).toEqual([{ pmmservertoken: value.token }, { pmmservertoken: 'glsa_second' }]);
    expect(await store.remove()).toMatchObject({ removed: true });
    expect(await store.remove()).toMatchObject({ removed: false });
  });

  it('a full name needs no project; no project, bad credentials and a refused version are errors naming the store', async () => {
    await (await parseStore('gcp-secretmanager:projects/other/secrets/x', { ...env(), GOOGLE_CLOUD_PROJECT: '' })).put(value);
    expect(gcp.secrets.has('projects/other/secrets/x')).toBe(true);
    await expect((await parseStore('gcp-secretmanager:x', { CNVM_GCP_SECRETMANAGER_ENDPOINT: gcp.endpoint, CLOUDSDK_AUTH_ACCESS_TOKEN: 't' })).check()).rejects.toThrow(/no project/);
    const bad = await (await parseStore('gcp-secretmanager:x', { ...env(), CLOUDSDK_AUTH_ACCESS_TOKEN: 'ya29.wrong' })).check().catch((e: unknown) => e);
    expect((bad as { kind?: string }).kind).toBe('usage');
    expect((bad as Error).message).toMatch(/Request had invalid authentication credentials/);
    expect((bad as Error).message).not.toContain('ya29.wrong');
    gcp.denyAddVersion = true;
    await expect((await parseStore('gcp-secretmanager:x', env())).put(value)).rejects.toThrow(/refused the new version of projects\/proj-1\/secrets\/x \(Permission 'secretmanager.versions.add' denied/);
  });
});
