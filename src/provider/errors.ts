// Typed provider errors. Each keeps the provider's own message as `cause`, so the CLI can print both what cnvm
// concluded and what libvirt / EC2 / GCE said. All are CnvmErrors: `not-found` → kind not-found, the rest provider.
import { CnvmError } from '../errors.js';

export type ProviderErrorCode = 'not-found' | 'in-use' | 'wrong-state' | 'timeout' | 'permission' | 'invalid' | 'failed';

export class ProviderError extends CnvmError {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code === 'not-found' ? 'not-found' : 'provider', message, options);
  }
}

export class NotFoundError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-found', message, options);
  }
}

export class InUseError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('in-use', message, options);
  }
}

export class WrongStateError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('wrong-state', message, options);
  }
}

export class TimeoutError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('timeout', message, options);
  }
}

export class PermissionError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('permission', message, options);
  }
}
