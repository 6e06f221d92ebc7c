// Wraps a real provider so a test can kill an operation at any mutating call, before or after it takes effect,
// and can check that no volume ever had two holders. Used for the upgrade fault matrix on every adapter.
import type { Provider } from '../../src/provider/types.js';
import { InjectedCrash } from './fake-provider.js';

export const MUTATING = new Set([
  'createVolume',
  'deleteVolume',
  'createVm',
  'startVm',
  'stopVm',
  'destroyVm',
  'attachVolume',
  'detachVolume',
  'reserveAddress',
  'assignAddress',
  'releaseAddress',
  'replaceIgnition',
]);

export function crashable(inner: Provider, volumeId: () => string) {
  let calls = 0;
  let armed: { at: number; when: 'before' | 'after' } | undefined;
  let maxHolders = 0;
  const holders = async (): Promise<void> => {
    const { vms } = await inner.list();
    const n = vms.filter((vm) => vm.volumes.some((v) => v.volumeId === volumeId())).length;
    maxHolders = Math.max(maxHolders, n);
  };
  const provider = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !MUTATING.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        calls++;
        if (armed?.at === calls && armed.when === 'before') {
          armed = undefined;
          throw new InjectedCrash(`before ${prop}`);
        }
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        await holders();
        if (armed?.at === calls && armed.when === 'after') {
          armed = undefined;
          throw new InjectedCrash(`after ${prop}`);
        }
        return result;
      };
    },
  });
  return {
    provider,
    crashAt: (n: number, when: 'before' | 'after') => void (armed = { at: calls + n, when }),
    callCount: () => calls,
    maxHolders: () => maxHolders,
  };
}
