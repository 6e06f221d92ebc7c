// The exit-code table of the README, and the only place that maps an error kind to a code.
import type { ErrorKind } from '../errors.js';

export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  'invalid-config': 1,
  usage: 2,
  io: 3,
  provider: 4,
  'not-found': 5,
  'rolled-back': 6,
  busy: 7,
  conflict: 8,
  interrupted: 130,
};

/** A bug in cnvm, not a user's mistake: the only case that prints a stack trace. */
export const INTERNAL_ERROR_EXIT = 70;
