// Typed failures the CLI maps to exit codes in one place (see main.ts). Command logic throws these; it never exits.
import type { ReportEntry } from '../report.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags or arguments. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** The config given is invalid; its located problems have already been printed. */
export class InvalidConfigError extends CliError {
  constructor(
    message: string,
    readonly entries: readonly ReportEntry[] = [],
  ) {
    super(message, 1);
  }
}

/** Reading or writing a file failed. */
export class IoError extends CliError {
  constructor(message: string) {
    super(message, 3);
  }
}
