// File output that never leaves a half-written file: write a temporary file beside the target (created with its
// final mode and owner, so a secret is never briefly world-readable), fsync, then rename over the target.
// writeFileThrough is the user-facing variant (`generate -o`): like butane, it writes into whatever the path already
// is (a FIFO, a device, a symlink's target) and keeps an existing file's mode and owner.
import { closeSync, constants, fchmodSync, fchownSync, fsyncSync, lstatSync, openSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CnvmError } from '../errors.js';

export class AtomicWriteError extends CnvmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('io', message, options);
  }
}

/** Writes `path` as a new file with exactly `mode` (not reduced by the umask) and, when given, `owner`. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, owner?: { uid: number; gid: number }): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    // 0600 until every byte is on disk: a kill mid-write leaves a partial copy only its owner can read (the next
    // run sweeps it, util/temp-sweep); the final owner and mode are set just before the rename.
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      // writeSync may write less than asked (a file-size limit, a signal): go on until all is written or it fails.
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new AtomicWriteError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AtomicWriteError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes into the file as it is (open, truncate, write): for what must not be replaced. */
function writeInPlace(path: string, data: string | Uint8Array, createMode: number): void {
  try {
    writeFileSync(path, data, { mode: createMode });
  } catch (err) {
    throw new AtomicWriteError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** How long output to a FIFO waits for a process to open it for reading (a shell's `cat fifo &` may lag). */
const FIFO_READER_WAIT_MS = 5_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A FIFO is written through a non-blocking descriptor: opening one that no process reads would otherwise block
 * this process forever. It waits a few seconds for a reader, then fails naming the FIFO; a full pipe is waited out.
 */
function writeFifo(path: string, data: string | Uint8Array): void {
  const fail = (err: unknown, why?: string): never => {
    throw new AtomicWriteError(`cannot write ${path}: ${why ?? (err as Error).message}`, { cause: err });
  };
  const deadline = Date.now() + FIFO_READER_WAIT_MS;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') fail(err);
      if (Date.now() > deadline) fail(err, `it is a FIFO that no process opened for reading within ${FIFO_READER_WAIT_MS / 1000} s`);
      sleepSync(10);
    }
  }
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  try {
    for (let done = 0; done < bytes.length; ) {
      try {
        done += writeSync(fd, bytes, done);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') fail(err);
        sleepSync(2);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Output to a path the user named. A symlink is followed (its target is written, the link stays); a FIFO, a
 * character or block device is opened and written, never replaced; an existing regular file is replaced atomically
 * by one with its mode (and, run as root, its owner); a new file gets `newFileMode` less the umask, as butane's does.
 */
export function writeFileThrough(path: string, data: string | Uint8Array, newFileMode = 0o644): void {
  let target = path;
  let st = lstatOrUndefined(path);
  if (st?.isSymbolicLink()) {
    try {
      target = realpathSync(path);
    } catch {
      // A dangling link: opening it creates its target, which is what writing through it means.
      writeInPlace(path, data, newFileMode);
      return;
    }
    st = statSync(target);
  }
  if (!st) {
    writeFileAtomic(target, data, newFileMode & ~currentUmask());
    return;
  }
  if (st.isDirectory()) throw new AtomicWriteError(`cannot write ${path}: it is a directory`);
  if (st.isFIFO()) {
    writeFifo(target, data);
    return;
  }
  if (!st.isFile()) {
    writeInPlace(target, data, newFileMode);
    return;
  }
  const keepOwner = process.geteuid?.() === 0 && (st.uid !== 0 || st.gid !== 0) ? { uid: st.uid, gid: st.gid } : undefined;
  try {
    writeFileAtomic(target, data, st.mode & 0o7777, keepOwner);
  } catch (err) {
    // A file the user may write in a directory they may not (no temporary file possible there): write in place.
    const code = ((err as AtomicWriteError).cause as NodeJS.ErrnoException | undefined)?.code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    writeInPlace(target, data, newFileMode);
  }
}

function currentUmask(): number {
  // process.umask() without an argument is deprecated (DEP0139); setting it and restoring the old value reads it.
  const mask = process.umask(0o022);
  process.umask(mask);
  return mask;
}
