// Failures raised by the CLI layer itself. Command logic throws these (or any other CnvmError); it never exits.
// The exit code of each kind is in exit-codes.ts, the one place that maps them.
import { CnvmError } from '../errors.js';
import type { ReportEntry } from '../report.js';

/** Bad flags or arguments. */
export class UsageError extends CnvmError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** The config given is invalid; its located problems have already been printed. */
export class InvalidConfigError extends CnvmError {
  constructor(
    message: string,
    readonly entries: readonly ReportEntry[] = [],
  ) {
    super('invalid-config', message);
  }
}

/** Reading or writing a file failed. */
export class IoError extends CnvmError {
  constructor(message: string) {
    super('io', message);
  }
}
