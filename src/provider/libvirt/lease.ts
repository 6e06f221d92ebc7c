// libvirt's VM lease: an exclusive lock file in the storage directory on the host (<storageDir>/locks/<vm>.lock),
// next to the volumes and VM files it guards, so every operator driving this host's VMs (whatever their state
// directory or HOME) meets the same lock. Creating it with O_CREAT|O_EXCL is atomic in the kernel: of two runs, one
// creates the file, the other gets EEXIST. The file holds the holder (JSON, 0600; no secrets).
//
// Removing a stale lease must not remove a newer one that another run created in between: removals (a takeover,
// a release) first take `<vm>.lock.remove`, also O_EXCL, re-read the lease under it and unlink it only if its token
// is still the one they read. A remover that died holding that file leaves it; one older than 30 s is cleared.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { LeaseHolder, LeasePrimitives, StoredLease } from '../types.js';

const REMOVER_STALE_MS = 30_000;

/**
 * `makeDir` makes the locks directory (and the storage dir above it, when missing) the way the adapter makes its
 * store: private, yet traversable by qemu. A storage dir made plainly 0700 here would lock qemu out of the VMs'
 * disks below it.
 */
export function fileLeases(storageDir: string, makeDir: (path: string) => Promise<void> = async (path) => void mkdirSync(path, { recursive: true, mode: 0o700 })): LeasePrimitives {
  const dir = join(storageDir, 'locks');
  let created: string | undefined;
  const pathOf = (key: string): string => join(dir, `${key}.lock`);

  function readAt(path: string): StoredLease | undefined {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const lease = JSON.parse(text) as LeaseHolder;
      return { lease, version: lease.token };
    } catch {
      // Being written by its creator right now, or left half-written by a run killed in between: void 10 s after
      // it was created, then taken over.
      const version = `unwritten:${safeMtime(path)}`;
      return { lease: { holder: '?', host: '?', pid: 0, command: '?', acquiredAt: '', expiresAt: new Date(safeMtime(path) + 10_000).toISOString(), token: version }, version };
    }
  }

  function createExclusive(path: string, text: string): boolean {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  /** Runs `fn` holding the remover's lock file; false when another remover holds it. */
  function underRemover(key: string, fn: () => void): boolean {
    const remover = `${pathOf(key)}.remove`;
    if (!createExclusive(remover, String(process.pid))) {
      if (Date.now() - safeMtime(remover) < REMOVER_STALE_MS) return false;
      rmSync(remover, { force: true });
      if (!createExclusive(remover, String(process.pid))) return false;
    }
    try {
      fn();
    } finally {
      rmSync(remover, { force: true });
    }
    return true;
  }

  return {
    where: (key) => pathOf(key),
    read: async (key) => readAt(pathOf(key)),
    async create(key, lease) {
      // When this run made the storage dir itself (a first provision), it is removed again on release if still
      // empty, so a run that fails before creating anything leaves the host as it was. Another run may remove an
      // empty one between our mkdir and open: then make it again.
      for (let attempt = 0; ; attempt++) {
        const existed = existsSync(storageDir);
        await makeDir(dir);
        if (!existed) created ??= storageDir;
        try {
          return createExclusive(pathOf(key), `${JSON.stringify(lease)}\n`);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
        }
      }
    },
    async renew(key, current, lease) {
      let out: StoredLease | undefined;
      underRemover(key, () => {
        if (readAt(pathOf(key))?.version !== current.version) return;
        writeFileAtomic(pathOf(key), `${JSON.stringify(lease)}\n`, 0o600);
        out = { lease, version: lease.token };
      });
      return out;
    },
    async remove(key, current) {
      underRemover(key, () => {
        if (readAt(pathOf(key))?.version === current.version) rmSync(pathOf(key), { force: true });
      });
      if (created) removeEmptyUpTo(dir, created);
    },
  };
}

/** Removes `from` and its parents up to and including `top` while they are empty (never a non-empty one). */
function removeEmptyUpTo(from: string, top: string): void {
  for (let d = from; d.length >= top.length; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === top) return;
  }
}

function safeMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
