// The one lock every command that changes a VM takes: the VM's lease where the VM lives (the provider's lease, see
// src/provider/lease-rules.ts), so operators with different state directories, HOMEs or machines exclude each
// other, plus the state directory's own lock file, which guards this machine's cache (record, journal, secret).
// While the command works, the lease is renewed every third of its lifetime; a run that dies stops renewing, so
// another host takes it over once it expires (on the same host, at once: its pid is gone).
import { LEASE_TTL_SEC } from '../provider/lease-rules.js';
import type { HeldLease, Provider } from '../provider/types.js';
import type { StateStore } from './store.js';

export interface VmLock {
  /** The provider-side lease, when the provider has one. */
  readonly lease?: HeldLease;
  release(): Promise<void>;
}

export async function lockVm(provider: Provider, store: StateStore, name: string, command: string, ttlSec = LEASE_TTL_SEC): Promise<VmLock> {
  const local = store.lock(provider.name, name, command);
  let lease: HeldLease | undefined;
  try {
    lease = provider.acquireLease ? await provider.acquireLease(name, command, ttlSec) : undefined;
  } catch (err) {
    local.release();
    throw err;
  }
  const timer = lease ? setInterval(() => void lease?.renew().catch(() => undefined), Math.max(1, Math.floor(ttlSec / 3)) * 1000) : undefined;
  timer?.unref();
  return {
    ...(lease ? { lease } : {}),
    async release() {
      if (timer) clearInterval(timer);
      try {
        await lease?.release();
      } finally {
        local.release();
      }
    },
  };
}
