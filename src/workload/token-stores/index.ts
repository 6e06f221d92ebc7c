// `--store KIND:TARGET` → the store. Parsing is pure and checks the form; each store's `check()` then proves it can
// take the token before anything is created in PMM.
import { StoreError, type TokenStore } from './types.js';

export type { TokenStore, TokenValue, PutResult, RemoveResult } from './types.js';
export { StoreError, TOKEN_KEY } from './types.js';

export const STORE_KINDS = ['file', 'k8s-secret', 'vault', 'aws-secretsmanager', 'gcp-secretmanager'] as const;

export async function parseStore(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<TokenStore> {
  const i = spec.indexOf(':');
  const kind = i > 0 ? spec.slice(0, i) : '';
  const target = i > 0 ? spec.slice(i + 1) : '';
  if (!(STORE_KINDS as readonly string[]).includes(kind) || !target) {
    throw new StoreError(`--store ${spec}: give KIND:TARGET with KIND one of ${STORE_KINDS.join(', ')} (e.g. file:./pmm-token, vault:secret/pmm/ci)`, { kind: 'usage' });
  }
  switch (kind) {
    case 'file':
    case 'k8s-secret':
      return (await import('./file.js')).fileStore(spec, target, kind === 'file' ? 'token' : 'k8s-secret');
    case 'vault':
      return (await import('./vault.js')).vaultStore(spec, target, env);
    case 'aws-secretsmanager':
      return (await import('./aws.js')).awsStore(spec, target);
    default:
      return (await import('./gcp.js')).gcpStore(spec, target, env);
  }
}
