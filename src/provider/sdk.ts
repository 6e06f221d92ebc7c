// Cloud SDKs are optional peer dependencies: a translator-only install does not carry them. Each adapter imports
// its SDK through here at the moment it first talks to the cloud, so a missing package becomes one clear provider
// error (exit 4, no stack trace) naming what to install, instead of node's ERR_MODULE_NOT_FOUND.
import { ProviderError } from './errors.js';

export class MissingSdkError extends ProviderError {
  constructor(
    readonly packageName: string,
    provider: string,
    options?: { cause?: unknown },
  ) {
    super('invalid', `install ${packageName} to use --provider ${provider} (npm install ${packageName}); cnvm lists it as an optional peer dependency`, options);
  }
}

function isMissing(err: unknown, packageName: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'MODULE_NOT_FOUND') return false;
  // Only the package itself missing counts: a broken install of something it depends on keeps node's own message.
  return typeof e.message === 'string' && (e.message.includes(`'${packageName}'`) || e.message.includes(`"${packageName}"`));
}

/**
 * Loads an optional SDK. `load` is the literal `() => import('pkg')` of the caller, so bundlers and the type checker
 * still see the real specifier.
 */
export async function importSdk<T>(provider: string, packageName: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isMissing(err, packageName)) throw new MissingSdkError(packageName, provider, { cause: err });
    throw err;
  }
}
