// Cloud SDKs are optional peers: a missing one is a clear usage error naming the package, found before anything is
// created in PMM.
import { StoreError } from './types.js';

export async function importOptional<T>(spec: string, packageName: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const missing = (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && typeof e.message === 'string' && e.message.includes(packageName);
    if (missing) throw new StoreError(`--store ${spec}: install ${packageName} (npm install ${packageName}); cnvm lists it as an optional peer dependency`, { kind: 'usage', cause: err });
    throw err;
  }
}
