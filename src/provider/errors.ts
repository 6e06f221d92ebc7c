// Typed provider errors. Each keeps the provider's own message as `cause`, so the CLI can print both what cnvm
// concluded and what libvirt / EC2 / GCE said.
export type ProviderErrorCode = 'not-found' | 'in-use' | 'wrong-state' | 'timeout' | 'permission' | 'invalid' | 'failed';

export class ProviderError extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

export class NotFoundError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-found', message, options);
    this.name = 'NotFoundError';
  }
}

export class InUseError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('in-use', message, options);
    this.name = 'InUseError';
  }
}

export class WrongStateError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('wrong-state', message, options);
    this.name = 'WrongStateError';
  }
}

export class TimeoutError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('timeout', message, options);
    this.name = 'TimeoutError';
  }
}

export class PermissionError extends ProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('permission', message, options);
    this.name = 'PermissionError';
  }
}
