import { CnvmError } from '../errors.js';

/** An option given to the PMM recipe is invalid; the message says which and why. A user's input: exit code 2. */
export class PmmOptionsError extends CnvmError {
  constructor(message: string) {
    super('usage', message);
  }
}
