// `aws-secretsmanager:NAME`: AWS Secrets Manager through the AWS SDK v3 client (an optional peer, imported only
// here). Region, credentials and endpoint come from the SDK's usual chain (AWS_REGION, AWS_PROFILE,
// AWS_ENDPOINT_URL_SECRETS_MANAGER, …). The SecretString is the JSON document {"pmmservertoken": …}, which an
// External Secrets Operator ExternalSecret reads with `property: pmmservertoken`.
//   check:  DescribeSecret (ResourceNotFoundException: created by put)
//   put:    CreateSecret, or PutSecretValue when it exists (each with a ClientRequestToken: a retry is one version)
//   remove: DeleteSecret (Secrets Manager's recovery window applies)
import { randomUUID } from 'node:crypto';
import { importOptional } from './optional-sdk.js';
import { StoreError, tokenDocument, type TokenStore } from './types.js';

type Sdk = typeof import('@aws-sdk/client-secrets-manager');
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

function errorName(err: unknown): string {
  return String((err as { name?: unknown })?.name ?? '');
}

export function awsStore(spec: string, name: string): TokenStore {
  if (!NAME.test(name)) throw new StoreError(`--store ${spec}: a Secrets Manager name is 1-512 of letters, digits and /_+=.@-`, { kind: 'usage' });
  let session: Promise<{ sdk: Sdk; client: InstanceType<Sdk['SecretsManagerClient']> }> | undefined;
  const load = () =>
    (session ??= (async () => {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const sdk = await importOptional(spec, '@aws-sdk/client-secrets-manager', () => import('@aws-sdk/client-secrets-manager'));
      return { sdk, client: new sdk.SecretsManagerClient({ maxAttempts: 5 }) };
    })());
  const fail = (what: string, err: unknown): StoreError => {
    const n = errorName(err);
    const message = (err as Error)?.message ?? String(err);
    const usage = /Region is missing|CredentialsProviderError|Could not load credentials|AccessDenied|UnrecognizedClient|InvalidSignature|InvalidClientTokenId/.test(`${n} ${message}`);
    return new StoreError(`--store ${spec}: Secrets Manager ${what} failed: ${n ? `${n}: ` : ''}${message.split('\n')[0]}`, { kind: usage ? 'usage' : 'provider', cause: err });
  };
  return {
    spec,
    location: `Secrets Manager secret ${name} (JSON key pmmservertoken)`,
    async check() {
      const { sdk, client } = await load();
      try {
        await client.send(new sdk.DescribeSecretCommand({ SecretId: name }));
      } catch (err) {
        if (errorName(err) === 'ResourceNotFoundException') return;
        throw fail('DescribeSecret', err);
      }
    },
    async put(v) {
      const { sdk, client } = await load();
      const SecretString = tokenDocument(v);
      try {
        const out = await client.send(new sdk.CreateSecretCommand({ Name: name, SecretString, ClientRequestToken: randomUUID(), Description: `PMM service-account token ${v.serviceAccount} (${v.pmmUrl}), written by cnvm` }));
        return out.VersionId ? { version: out.VersionId } : {};
      } catch (err) {
        if (errorName(err) !== 'ResourceExistsException') throw fail('CreateSecret', err);
      }
      try {
        const out = await client.send(new sdk.PutSecretValueCommand({ SecretId: name, SecretString, ClientRequestToken: randomUUID() }));
        return out.VersionId ? { version: out.VersionId } : {};
      } catch (err) {
        throw fail('PutSecretValue', err);
      }
    },
    async remove() {
      const { sdk, client } = await load();
      try {
        const out = await client.send(new sdk.DeleteSecretCommand({ SecretId: name }));
        return { removed: true, detail: `Secrets Manager secret ${name} scheduled for deletion${out.DeletionDate ? ` on ${out.DeletionDate.toISOString()}` : ''}` };
      } catch (err) {
        if (errorName(err) === 'ResourceNotFoundException') return { removed: false, detail: `Secrets Manager secret ${name} did not exist` };
        throw fail('DeleteSecret', err);
      }
    },
  };
}
