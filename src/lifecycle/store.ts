// The local state directory: records, secrets and locks, all user-only (0700 directories, 0600 files).
//   <stateDir>/records/<provider>-<name>.json   the VM record (record.ts)
//   <stateDir>/secrets/<provider>-<name>.password   the PMM admin password until it is known to be applied
//   <stateDir>/locks/<provider>-<name>.lock      held by the one run working on the VM
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { CnvmError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { errnoText, LIMITS, readLimitedIfExists } from '../util/read-limited.js';
import { pathUnder } from '../util/safe-path.js';
import { checkStateDirWritable } from './state-check.js';
import { RECORD_VERSION, withoutSecrets, type VmRecord } from './record.js';

export class BusyError extends CnvmError {
  constructor(message: string) {
    super('busy', message);
  }
}

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface Lock {
  readonly path: string;
  release(): void;
}

/** True when a process with this pid exists on this host (EPERM: it exists but is another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class StateStore {
  readonly dir: string;

  /** A relative directory is taken from the working directory once, so every path under it is absolute. */
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private key(provider: string, name: string): string {
    return `${provider}-${name}`;
  }

  private ensure(sub: string): string {
    const path = pathUnder(this.dir, sub);
    try {
      mkdirSync(path, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new CnvmError('io', `cannot create ${path}: ${errnoText(err)}`, { cause: err });
    }
    return path;
  }

  recordPath(provider: string, name: string): string {
    return pathUnder(this.dir, 'records', `${this.key(provider, name)}.json`);
  }

  readRecord(provider: string, name: string): VmRecord | undefined {
    const path = this.recordPath(provider, name);
    const text = readLimitedIfExists(path, { limit: LIMITS.state, what: 'the VM record' });
    if (text === undefined) return undefined;
    let r: VmRecord;
    try {
      r = JSON.parse(text) as VmRecord;
    } catch (err) {
      throw new CnvmError('io', `cannot read the VM record ${path}: ${(err as Error).message}; move it away to start over from the provider's metadata`);
    }
    if (r.version !== RECORD_VERSION) throw new CnvmError('io', `the VM record ${path} has version ${String(r.version)}; this cnvm reads version ${RECORD_VERSION}`);
    return withoutSecrets(r);
  }

  writeRecord(r: VmRecord): void {
    this.ensure('records');
    writeFileAtomic(this.recordPath(r.provider, r.name), `${JSON.stringify({ ...withoutSecrets(r), updatedAt: new Date().toISOString() }, null, 2)}\n`, 0o600);
  }

  removeRecord(provider: string, name: string): void {
    rmSync(this.recordPath(provider, name), { force: true });
  }

  secretPath(provider: string, name: string): string {
    return pathUnder(this.dir, 'secrets', `${this.key(provider, name)}.password`);
  }

  readSecret(provider: string, name: string): string | undefined {
    const path = this.secretPath(provider, name);
    return readLimitedIfExists(path, { limit: LIMITS.password, what: 'the stored PMM admin password' });
  }

  writeSecret(provider: string, name: string, secret: string): void {
    this.ensure('secrets');
    writeFileAtomic(this.secretPath(provider, name), secret, 0o600);
  }

  removeSecret(provider: string, name: string): void {
    rmSync(this.secretPath(provider, name), { force: true });
  }

  /**
   * One run per VM: an exclusive lock file. A lock whose process is gone (a crash, kill -9) on this host is taken
   * over; one held by a live process, or by another host, is reported with who holds it.
   */
  lock(provider: string, name: string, command: string): Lock {
    // Before anything is changed: a state directory that cannot take a record or a journal is exit 3 now.
    checkStateDirWritable(this.dir);
    const path = pathUnder(this.ensure('locks'), `${this.key(provider, name)}.lock`);
    const me: LockOwner = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        try {
          writeSync(fd, JSON.stringify(me));
        } catch (err) {
          // A full disk: no empty lock may stay behind to block the next run.
          rmSync(path, { force: true });
          throw new CnvmError('io', `cannot write the lock ${path}: ${errnoText(err)}`, { cause: err });
        } finally {
          closeSync(fd);
        }
        return {
          path,
          release: () => {
            // Only our own lock: never remove one a later run took over.
            if (readOwner(path)?.pid === me.pid) rmSync(path, { force: true });
          },
        };
      } catch (err) {
        if (err instanceof CnvmError) throw err;
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CnvmError('io', `cannot create the lock ${path}: ${errnoText(err)}`, { cause: err });
      }
      const owner = readOwner(path);
      const stale = owner ? owner.host === me.host && !alive(owner.pid) : Date.now() - safeMtime(path) > 10_000;
      if (!stale) {
        const who = owner ? `pid ${owner.pid} on ${owner.host} (cnvm ${owner.command}, since ${owner.since})` : 'another run';
        throw new BusyError(`${name} is being changed by ${who}; wait for it to finish (lock ${path}; if that process is gone, remove the file)`);
      }
      rmSync(path, { force: true });
    }
    throw new BusyError(`could not take the lock ${path}`);
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readLimitedIfExists(path, { limit: LIMITS.state, what: 'the lock' }) ?? '') as LockOwner;
  } catch {
    return undefined;
  }
}

function safeMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
