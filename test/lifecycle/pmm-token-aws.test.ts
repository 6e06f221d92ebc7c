// `--store aws-secretsmanager:NAME` through the real AWS SDK v3 Secrets Manager client against moto (an independent
// implementation of the API), checked with boto3: the secret holds {"pmmservertoken": …}; rotation writes a new
// version; revoke removes the token from PMM and keeps the secret unless --delete-secret; a Secrets Manager that
// refuses the write after the check leaves no token in PMM; a lost answer is retried as one request.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PmmFiles, urlKey } from '../../src/lifecycle/pmm-files.js';
import { createToken, revokeToken, type PmmEndpoint } from '../../src/lifecycle/pmm-token.js';
import { StateStore } from '../../src/lifecycle/store.js';
import { parseStore } from '../../src/workload/token-stores/index.js';
import { startFakePmm, type FakePmm } from '../support/fake-pmm.js';
import { startMoto, TEST_CREDENTIALS, type MotoServer } from '../support/moto.js';

const execFileAsync = promisify(execFile);
let moto: MotoServer;
let pmm: FakePmm;
let dir: string;
let state: StateStore;

/** boto3's view of the secrets (the reference client, not the SDK under test). */
async function sm<T>(body: string): Promise<T> {
  const script = ['import boto3, json', `c = boto3.client("secretsmanager", endpoint_url="${moto.endpoint}", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")`, body].join('\n');
  const { stdout } = await execFileAsync('python3', ['-c', script], { encoding: 'utf8' });
  return JSON.parse(stdout) as T;
}
const secretValue = (name: string) => sm<{ SecretString: string; VersionId: string }>(`r = c.get_secret_value(SecretId="${name}")\nprint(json.dumps({"SecretString": r["SecretString"], "VersionId": r["VersionId"]}))`);
const secretState = (name: string) => sm<{ exists: boolean; deleted: boolean }>(`
try:
    r = c.describe_secret(SecretId="${name}")
    print(json.dumps({"exists": True, "deleted": "DeletedDate" in r}))
except c.exceptions.ResourceNotFoundException:
    print(json.dumps({"exists": False, "deleted": False}))`);

/**
 * A loopback relay in front of moto that can refuse or drop one call by its X-Amz-Target (Secrets Manager speaks
 * AWS JSON 1.1): the faults moto itself never produces.
 */
interface Relay {
  endpoint: string;
  faults: { target: string; kind: 'deny' | 'lose-reply' }[];
  seen: string[];
  close(): Promise<void>;
}
async function startRelay(upstream: string): Promise<Relay> {
  const faults: Relay['faults'] = [];
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
      seen.push(target);
      const i = faults.findIndex((f) => f.target === target);
      const fault = i >= 0 ? faults.splice(i, 1)[0] : undefined;
      if (fault?.kind === 'deny') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        return void res.end(JSON.stringify({ __type: 'AccessDeniedException', message: `User: arn:aws:iam::123456789012:user/ci is not authorized to perform: secretsmanager:${target}` }));
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length').map(([k, v]) => [k, String(v)]));
      fetch(`${upstream}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, body: Buffer.concat(chunks) }).then(async (up) => {
        const body = Buffer.from(await up.arrayBuffer());
        if (fault?.kind === 'lose-reply') return void req.socket.destroy();
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/x-amz-json-1.1' });
        res.end(body);
      }, () => req.socket.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    faults,
    seen,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
let proxy: Relay;
async function withEndpoint(url: string, body: () => Promise<void>): Promise<void> {
  const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = url;
  try {
    await body();
  } finally {
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
  }
}

const endpoint = (): PmmEndpoint => ({ url: pmm.url, user: 'admin', password: pmm.password, files: new PmmFiles(state.dir, urlKey(pmm.url)) });

beforeAll(async () => {
  moto = await startMoto();
  pmm = await startFakePmm();
  proxy = await startRelay(moto.endpoint);
  Object.assign(process.env, { AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey });
}, 90_000);
afterAll(async () => {
  await pmm?.close();
  await proxy?.close();
  await moto?.close();
});
beforeEach(async () => {
  await moto.reset();
  pmm.accounts.clear();
  proxy.faults.length = 0;
  proxy.seen.length = 0;
  dir = mkdtempSync(join(tmpdir(), 'cnvm-pmm-aws-'));
  state = new StateStore(join(dir, 'state'));
  return () => rmSync(dir, { recursive: true, force: true });
});

describe('aws-secretsmanager store on moto', () => {
  it('create stores the token; rotate writes a new version; revoke removes it from PMM and keeps the secret', async () => {
    const store = await parseStore('aws-secretsmanager:pmm/ci');
    const r = await createToken(endpoint(), state, { name: 'ci', store, rotate: false });
    const v1 = await secretValue('pmm/ci');
    expect(JSON.parse(v1.SecretString)).toEqual({ pmmservertoken: r.token.key });
    expect(r.store).toMatchObject({ spec: 'aws-secretsmanager:pmm/ci', version: v1.VersionId });
    const r2 = await createToken(endpoint(), state, { name: 'ci', store, rotate: true });
    const v2 = await secretValue('pmm/ci');
    expect(JSON.parse(v2.SecretString)).toEqual({ pmmservertoken: r2.token.key });
    expect(v2.VersionId).not.toBe(v1.VersionId);
    expect(await pmm.tokenWorks(r.token.key)).toBe(false);
    const rev = await revokeToken(endpoint(), state, { name: 'ci', deleteSecret: false, store: (s) => parseStore(s) });
    expect(rev.secret).toMatchObject({ deleted: false });
    expect(pmm.accounts.size).toBe(0);
    expect(await secretState('pmm/ci')).toEqual({ exists: true, deleted: false });
  });

  it('revoke --delete-secret schedules the secret for deletion', async () => {
    const store = await parseStore('aws-secretsmanager:pmm/ci');
    await createToken(endpoint(), state, { name: 'ci', store, rotate: false });
    const rev = await revokeToken(endpoint(), state, { name: 'ci', deleteSecret: true, store: (s) => parseStore(s) });
    expect(rev.secret).toMatchObject({ deleted: true });
    expect(await secretState('pmm/ci')).toEqual({ exists: true, deleted: true });
  });

  it('Secrets Manager refusing the write after the check (AccessDenied on CreateSecret): the new token is revoked again, the account too', async () => {
    proxy.faults.push({ target: 'CreateSecret', kind: 'deny' });
    await withEndpoint(proxy.endpoint, async () => {
      const err = await createToken(endpoint(), state, { name: 'ci', store: await parseStore('aws-secretsmanager:pmm/ci'), rotate: false }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/--store aws-secretsmanager:pmm\/ci: Secrets Manager CreateSecret failed: AccessDeniedException: .*; the new token was revoked again/);
      expect((err as { kind?: string }).kind).toBe('usage');
    });
    expect(pmm.accounts.size).toBe(0);
    expect(await secretState('pmm/ci')).toEqual({ exists: false, deleted: false });
  });

  it("Secrets Manager's answer to CreateSecret lost: the SDK's retry carries the same request token, and the secret holds the token", async () => {
    proxy.faults.push({ target: 'CreateSecret', kind: 'lose-reply' });
    await withEndpoint(proxy.endpoint, async () => {
      const r = await createToken(endpoint(), state, { name: 'ci', store: await parseStore('aws-secretsmanager:pmm/ci'), rotate: false });
      expect(JSON.parse((await secretValue('pmm/ci')).SecretString)).toEqual({ pmmservertoken: r.token.key });
    });
    expect(proxy.seen.filter((t) => t === 'CreateSecret').length).toBeGreaterThanOrEqual(2);
  });

  it('Secrets Manager unreachable: found by the check, before anything happens in PMM', async () => {
    pmm.requests.length = 0;
    await withEndpoint('http://127.0.0.1:9', async () => {
      const err = await createToken(endpoint(), state, { name: 'ci', store: await parseStore('aws-secretsmanager:pmm/ci'), rotate: false }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/Secrets Manager DescribeSecret failed/);
    });
    expect(pmm.requests).toEqual([]);
  });
});
