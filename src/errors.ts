// The one error base class of cnvm. Every failure a user can cause or meet is a CnvmError with a kind; the CLI
// maps kinds to exit codes in one table (src/cli/exit-codes.ts) and prints the message without a stack trace.
// Modules at every level may throw these: this file imports nothing.

export type ErrorKind =
  /** The Butane/Ignition config itself is invalid (its located problems were printed). */
  | 'invalid-config'
  /** Bad flags, arguments, settings or input files (checked before anything is changed). */
  | 'usage'
  /** Reading or writing a local file failed. */
  | 'io'
  /** The provider, the image lookup or the workload failed. */
  | 'provider'
  /** The VM, volume or image named does not exist. */
  | 'not-found'
  /** An upgrade failed and was rolled back: the old VM serves again. */
  | 'rolled-back'
  /** Another cnvm run holds this VM's lock. */
  | 'busy'
  /** The VM exists with other settings than asked: another command is needed. */
  | 'conflict'
  /** Interrupted by a signal; re-running the command continues. */
  | 'interrupted';

export class CnvmError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export const isCnvmError = (err: unknown): err is CnvmError => err instanceof CnvmError;
