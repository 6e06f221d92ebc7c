// Wraps a real provider so a test can make any one mutating call fail with an ordinary provider error (not a
// crash): before the call reaches the cloud, or after it took effect (the cloud did it, cnvm was told it failed).
// Used to check that a failed upgrade's rollback undoes everything the upgrade made.
import { ProviderError } from '../../src/provider/errors.js';
import type { Provider } from '../../src/provider/types.js';
import { MUTATING } from './crashable.js';

export function faulty(inner: Provider) {
  let calls = 0;
  let armed: { at: number; when: 'before' | 'after' } | undefined;
  const made: string[] = [];
  const failed: string[] = [];
  const provider = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !MUTATING.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        calls++;
        made.push(prop);
        const fail = armed?.at === calls ? armed.when : undefined;
        if (fail === 'before') {
          armed = undefined;
          failed.push(`before ${prop}`);
          throw new ProviderError('failed', `injected fault: ${prop} refused`);
        }
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (fail === 'after') {
          armed = undefined;
          failed.push(`after ${prop}`);
          throw new ProviderError('failed', `injected fault: ${prop} took effect, then failed`);
        }
        return result;
      };
    },
  });
  return {
    provider,
    /** Fail the n-th mutating call from now. */
    failAt: (n: number, when: 'before' | 'after') => void (armed = { at: calls + n, when }),
    /** The mutating calls made so far, by method name. */
    made,
    failed,
  };
}
