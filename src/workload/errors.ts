/** An option given to the PMM recipe is invalid; the message says which and why. The CLI maps it to exit code 4. */
export class PmmOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PmmOptionsError';
  }
}
