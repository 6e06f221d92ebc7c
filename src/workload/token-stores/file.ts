// Local stores: `file:PATH` (the token alone) and `k8s-secret:FILE` (a Kubernetes Secret manifest `pmm-token` with
// the key `pmmservertoken`, for an operator to `kubectl apply` or an External Secrets push). Both are written like
// `-o`: a temporary file beside the target, 0600 from its creation, renamed over it — a reader sees the old token
// or the new one, never half of one.
import { accessSync, constants, existsSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { StoreError, TOKEN_KEY, type TokenStore, type TokenValue } from './types.js';

export const K8S_SECRET_NAME = 'pmm-token';

function checkWritable(spec: string, path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new StoreError(`--store ${spec}: the directory ${dir} does not exist`, { kind: 'usage' });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new StoreError(`--store ${spec}: cannot write in ${dir}`, { kind: 'io' });
  }
  if (existsSync(path) && !statSync(path).isFile()) throw new StoreError(`--store ${spec}: ${path} exists and is not a regular file`, { kind: 'usage' });
}

/** The manifest: YAML whose strings are JSON-quoted (valid YAML double-quoted scalars), the token base64 in `data`. */
export function secretManifest(v: TokenValue): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${K8S_SECRET_NAME}`,
    '  annotations:',
    `    cnvm.dev/pmm-url: ${q(v.pmmUrl)}`,
    `    cnvm.dev/service-account: ${q(v.serviceAccount)}`,
    `    cnvm.dev/token-name: ${q(v.tokenName)}`,
    'type: Opaque',
    'data:',
    `  ${TOKEN_KEY}: ${Buffer.from(v.token).toString('base64')}`,
    '',
  ].join('\n');
}

export function fileStore(spec: string, target: string, format: 'token' | 'k8s-secret'): TokenStore {
  const path = resolve(target);
  return {
    spec,
    location: format === 'token' ? path : `${path} (Secret ${K8S_SECRET_NAME}, key ${TOKEN_KEY})`,
    async check() {
      checkWritable(spec, path);
    },
    async put(v) {
      try {
        writeFileAtomic(path, format === 'token' ? v.token : secretManifest(v), 0o600);
      } catch (err) {
        throw new StoreError(`--store ${spec}: cannot write ${path}: ${(err as Error).message}`, { kind: 'io', cause: err });
      }
      return {};
    },
    async remove() {
      if (!existsSync(path)) return { removed: false, detail: `${path} did not exist` };
      rmSync(path, { force: true });
      return { removed: true, detail: `${path} deleted` };
    },
  };
}
