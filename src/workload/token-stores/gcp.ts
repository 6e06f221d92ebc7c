// `gcp-secretmanager:NAME`: Google Secret Manager over its REST API (v1). NAME is `projects/P/secrets/ID`, or `ID`
// with the project from GOOGLE_CLOUD_PROJECT (or CLOUDSDK_CORE_PROJECT). The token is a secret version whose payload
// is the JSON document {"pmmservertoken": …}. Credentials: CLOUDSDK_AUTH_ACCESS_TOKEN when set, else Application
// Default Credentials through google-auth-library (an optional peer, imported only here).
//   check:  GET    /v1/projects/P/secrets/ID                       (404: created by put)
//   put:    POST   /v1/projects/P/secrets?secretId=ID {replication: {automatic: {}}}   (409: exists)
//           POST   /v1/projects/P/secrets/ID:addVersion {payload: {data: base64}}
//   remove: DELETE /v1/projects/P/secrets/ID
import { jsonRequest, replyError } from './http.js';
import { importOptional } from './optional-sdk.js';
import { StoreError, tokenDocument, type TokenStore } from './types.js';

export const GCP_SECRETMANAGER_ENDPOINT = 'https://secretmanager.googleapis.com';
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;

export function gcpStore(spec: string, target: string, env: NodeJS.ProcessEnv = process.env): TokenStore {
  const full = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(target);
  const project = full ? full[1] : (env.GOOGLE_CLOUD_PROJECT ?? env.CLOUDSDK_CORE_PROJECT);
  const id = full ? (full[2] as string) : target;
  if (!SECRET_ID.test(id)) throw new StoreError(`--store ${spec}: a secret id is 1-255 letters, digits, - and _ (or give projects/P/secrets/ID)`, { kind: 'usage' });
  const endpoint = (env.CNVM_GCP_SECRETMANAGER_ENDPOINT ?? GCP_SECRETMANAGER_ENDPOINT).replace(/\/+$/, '');
  const secret = `projects/${project}/secrets/${id}`;
  let token: string | undefined;
  const headers = async (): Promise<Record<string, string>> => {
    if (!project) throw new StoreError(`--store ${spec}: no project: give gcp-secretmanager:projects/P/secrets/${id} or set GOOGLE_CLOUD_PROJECT`, { kind: 'usage' });
    token ??= env.CLOUDSDK_AUTH_ACCESS_TOKEN;
    if (!token) {
      const { GoogleAuth } = await importOptional(spec, 'google-auth-library', () => import('google-auth-library'));
      try {
        token = (await new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getAccessToken()) ?? undefined;
      } catch (err) {
        throw new StoreError(`--store ${spec}: no Google credentials (${(err as Error).message.split('\n')[0]}); run gcloud auth application-default login or set CLOUDSDK_AUTH_ACCESS_TOKEN`, { kind: 'usage', cause: err });
      }
      if (!token) throw new StoreError(`--store ${spec}: Google credentials gave no access token`, { kind: 'usage' });
    }
    return { authorization: `Bearer ${token}` };
  };
  const refused = (what: string, reply: { status: number; body: Record<string, unknown> | undefined }): StoreError =>
    new StoreError(`--store ${spec}: Secret Manager refused ${what} of ${secret} (${replyError(reply)})`, { kind: reply.status === 401 || reply.status === 403 ? 'usage' : 'provider' });
  return {
    spec,
    location: `${secret} (Secret Manager, JSON key pmmservertoken)`,
    async check() {
      const reply = await jsonRequest(spec, `${endpoint}/v1/${secret}`, { method: 'GET', headers: await headers() });
      if (reply.status !== 200 && reply.status !== 404) throw refused('the read', reply);
    },
    async put(v) {
      const h = await headers();
      const created = await jsonRequest(spec, `${endpoint}/v1/projects/${project}/secrets?secretId=${encodeURIComponent(id)}`, { method: 'POST', headers: h, body: { replication: { automatic: {} }, labels: { 'managed-by': 'cnvm' } } });
      if (created.status !== 200 && created.status !== 409) throw refused('the creation', created);
      const added = await jsonRequest(spec, `${endpoint}/v1/${secret}:addVersion`, { method: 'POST', headers: h, body: { payload: { data: Buffer.from(tokenDocument(v)).toString('base64') } } });
      if (added.status !== 200) throw refused('the new version', added);
      const name = typeof added.body?.name === 'string' ? added.body.name : undefined;
      return name ? { version: name.split('/').pop() as string } : {};
    },
    async remove() {
      const reply = await jsonRequest(spec, `${endpoint}/v1/${secret}`, { method: 'DELETE', headers: await headers() });
      if (reply.status === 404) return { removed: false, detail: `${secret} did not exist` };
      if (reply.status !== 200) throw refused('the deletion', reply);
      return { removed: true, detail: `${secret} and its versions deleted` };
    },
  };
}
