// `vault:MOUNT/PATH`: HashiCorp Vault's KV secrets engine, version 2, over its HTTP API. The address and token come
// from VAULT_ADDR and VAULT_TOKEN (VAULT_NAMESPACE for Enterprise namespaces), as the vault CLI reads them. The
// token is written as the key `pmmservertoken` of the secret's data — what an External Secrets Operator
// ExternalSecret reads with `remoteRef: {key: PATH, property: pmmservertoken}`.
//   check:  GET  /v1/auth/token/lookup-self         the Vault token is valid
//           GET  /v1/MOUNT/data/PATH                readable (404: not written yet)
//   put:    POST /v1/MOUNT/data/PATH {data: {…}}    a new version
//   remove: DELETE /v1/MOUNT/metadata/PATH          every version and the metadata
import { jsonRequest, replyError } from './http.js';
import { StoreError, TOKEN_KEY, type TokenStore } from './types.js';

export function vaultStore(spec: string, target: string, env: NodeJS.ProcessEnv = process.env): TokenStore {
  const m = /^([^/]+)\/(.+)$/.exec(target);
  if (!m || target.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new StoreError(`--store ${spec}: give vault:MOUNT/PATH, e.g. vault:secret/pmm/ci (MOUNT is the KV v2 engine's mount)`, { kind: 'usage' });
  }
  const [, mount, path] = m as unknown as [string, string, string];
  const addr = env.VAULT_ADDR?.replace(/\/+$/, '');
  const enc = (p: string): string => p.split('/').map(encodeURIComponent).join('/');
  const url = (kind: 'data' | 'metadata'): string => `${addr}/v1/${enc(mount)}/${kind}/${enc(path)}`;
  const headers = (): Record<string, string> => {
    if (!addr) throw new StoreError(`--store ${spec}: set VAULT_ADDR to Vault's address (e.g. https://vault.example:8200)`, { kind: 'usage' });
    if (!env.VAULT_TOKEN) throw new StoreError(`--store ${spec}: set VAULT_TOKEN to a Vault token that may write ${mount}/data/${path}`, { kind: 'usage' });
    return { 'x-vault-token': env.VAULT_TOKEN, ...(env.VAULT_NAMESPACE ? { 'x-vault-namespace': env.VAULT_NAMESPACE } : {}) };
  };
  return {
    spec,
    location: `${addr ?? '$VAULT_ADDR'}/v1/${mount}/data/${path} (KV v2, key ${TOKEN_KEY})`,
    async check() {
      const h = headers();
      const self = await jsonRequest(spec, `${addr}/v1/auth/token/lookup-self`, { method: 'GET', headers: h });
      if (self.status === 403 || self.status === 401) throw new StoreError(`--store ${spec}: Vault at ${addr} rejects VAULT_TOKEN (${replyError(self)}); nothing was stored`, { kind: 'usage' });
      if (self.status !== 200) throw new StoreError(`--store ${spec}: Vault at ${addr} answered HTTP ${self.status} (${replyError(self)}); nothing was stored`);
      const read = await jsonRequest(spec, url('data'), { method: 'GET', headers: h });
      if (read.status === 403) throw new StoreError(`--store ${spec}: VAULT_TOKEN may not use ${mount}/data/${path} (${replyError(read)}); nothing was stored`, { kind: 'usage' });
      // KV v2 answers 404 with an empty `errors` for a secret not written yet; a 404 that names an error ("no handler
      // for route") means no KV v2 engine is mounted there.
      const notWrittenYet = read.status === 404 && !(Array.isArray(read.body?.errors) && read.body.errors.length > 0);
      if (read.status !== 200 && !notWrittenYet) throw new StoreError(`--store ${spec}: Vault answered HTTP ${read.status} for ${mount}/data/${path} (${replyError(read)}): is ${mount} a KV version 2 mount?`);
    },
    async put(v) {
      const reply = await jsonRequest(spec, url('data'), { method: 'POST', headers: headers(), body: { data: { [TOKEN_KEY]: v.token } } });
      if (reply.status !== 200 && reply.status !== 204) throw new StoreError(`--store ${spec}: Vault refused the write (${replyError(reply)})`);
      const version = (reply.body?.data as { version?: unknown } | undefined)?.version;
      return version !== undefined ? { version: String(version) } : {};
    },
    async remove() {
      const reply = await jsonRequest(spec, url('metadata'), { method: 'DELETE', headers: headers() });
      if (reply.status !== 204 && reply.status !== 200) throw new StoreError(`--store ${spec}: Vault refused the delete (${replyError(reply)})`);
      return { removed: true, detail: `every version of ${mount}/${path} deleted from Vault` };
    },
  };
}
