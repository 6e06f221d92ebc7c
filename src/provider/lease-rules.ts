// The lease rules, once for every provider (the contract wrapper applies them to each adapter's lease primitives):
// - creating the lease is the one atomic step: of two runs that create it at once, exactly one wins;
// - a lease whose holder is dead (same host, no such process) or whose expiry passed is taken over: it is removed
//   by its version (a conditional removal, so only that lease goes, never a newer one) and created again;
// - a live holder's lease is refused with LeaseHeldError (exit 7), naming who holds it, where, and since when.
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { CnvmError } from '../errors.js';
import type { HeldLease, LeaseHolder, LeasePrimitives, StoredLease } from './types.js';

/** A run holding the VM's lease is alive and not done: wait for it, or (if it is gone) for its lease to expire. */
export class LeaseHeldError extends CnvmError {
  constructor(
    message: string,
    readonly holder: LeaseHolder,
  ) {
    super('busy', message);
  }
}

/** Default lease time; a running command renews it every third of it. */
export const LEASE_TTL_SEC = 300;

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** True when a process with this pid exists on this host (EPERM: it exists but is another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a stored lease may be taken over, or undefined when its holder is live. */
export function staleReason(lease: LeaseHolder, now = Date.now(), host = hostname()): string | undefined {
  const expires = Date.parse(lease.expiresAt);
  if (!Number.isFinite(expires) || expires <= now) return `expired at ${lease.expiresAt}`;
  if (lease.host === host && !processAlive(lease.pid)) return `pid ${lease.pid} on ${host} is gone`;
  return undefined;
}

export function describeHolder(l: LeaseHolder): string {
  return `${l.holder} on ${l.host} (pid ${l.pid}, cnvm ${l.command}, since ${l.acquiredAt}, lease until ${l.expiresAt})`;
}

export function leaseFor(command: string, ttlSec: number, token: string = randomUUID(), acquiredAt = new Date().toISOString()): LeaseHolder {
  return { holder: operator(), host: hostname(), pid: process.pid, command, acquiredAt, expiresAt: new Date(Date.now() + ttlSec * 1000).toISOString(), token };
}

export async function acquireLease(p: LeasePrimitives, key: string, command: string, ttlSec = LEASE_TTL_SEC): Promise<HeldLease> {
  const where = p.where(key);
  const mine = leaseFor(command, ttlSec);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await p.create(key, mine)) return held(p, key, where, mine, ttlSec);
    const current = await p.read(key);
    // Released between our create and our read: try again.
    if (!current) continue;
    if (current.lease.token === mine.token) return held(p, key, where, mine, ttlSec);
    const stale = staleReason(current.lease);
    if (!stale) {
      throw new LeaseHeldError(`${key} is being changed by ${describeHolder(current.lease)}; wait for it to finish (lease: ${where})`, current.lease);
    }
    await p.remove(key, current);
  }
  throw new CnvmError('busy', `could not take the lease ${where}: other runs keep taking it`);
}

function held(p: LeasePrimitives, key: string, where: string, first: LeaseHolder, ttlSec: number): HeldLease {
  let lease = first;
  let stored: StoredLease | undefined;
  let released = false;
  const current = async (): Promise<StoredLease | undefined> => {
    const found = await p.read(key);
    return found?.lease.token === first.token ? found : undefined;
  };
  return {
    get lease() {
      return lease;
    },
    where,
    async renew() {
      if (released) return;
      stored = stored ?? (await current());
      if (!stored) return;
      const next = { ...lease, expiresAt: new Date(Date.now() + ttlSec * 1000).toISOString() };
      const renewed = await p.renew(key, stored, next);
      stored = renewed;
      if (renewed) lease = next;
    },
    async release() {
      if (released) return;
      released = true;
      // Only our own lease: one a later run took over (ours expired) stays.
      const ours = await current();
      if (ours) await p.remove(key, ours);
    },
  };
}
