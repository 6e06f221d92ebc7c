// Reading the small files cnvm reads besides INPUT (profiles, ssh keys, password files, records, journals, stream
// files): only regular files, and only up to a size limit, so `/dev/zero`, a FIFO or a multi-gigabyte file is a
// clear error (exit 2, or 3 for a file-system failure) instead of a hang or an out-of-memory abort.
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { CnvmError } from '../errors.js';

export const LIMITS = {
  /** A profile, stage or host file. */
  profile: 1 << 20,
  /** An ssh public key file (authorized_keys-sized). */
  sshKey: 256 << 10,
  password: 4 << 10,
  /** cnvm's own record, journal and lock files. */
  state: 4 << 20,
  /** Fedora CoreOS stream metadata. */
  stream: 16 << 20,
} as const;

export class FileLimitError extends CnvmError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** The errno as a user reads it: `EACCES (permission denied)`. */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'not a directory',
    EISDIR: 'is a directory',
    ELOOP: 'too many symbolic links',
    ENAMETOOLONG: 'file name too long',
    EEXIST: 'file exists',
    EMFILE: 'too many open files',
    EIO: 'input/output error',
  };
  return e?.code ? `${e.code} (${words[e.code] ?? e.message.replace(/^[A-Z]+: /, '').split(',')[0]})` : String((err as Error)?.message ?? err);
}

export interface ReadLimitedOptions {
  /** Largest size accepted, in bytes. */
  limit: number;
  /** What the file is, for messages: `ssh key (--ssh-key)`. */
  what: string;
}

/**
 * The whole file as UTF-8, refusing what is not a regular file (a device, FIFO, socket or directory: exit 2) and
 * what is larger than the limit (exit 2). Open and read failures are exit 3 with the path and the errno. The file
 * is opened non-blocking so a FIFO with no writer cannot hang the open; its type is checked on the open descriptor.
 */
export function readLimited(path: string, options: ReadLimitedOptions): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new CnvmError('io', `cannot read ${options.what} ${path}: ${errnoText(err)}`, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new FileLimitError(`${options.what} ${path}: is ${kind}; a regular file is needed`);
    }
    if (st.size > options.limit) throw new FileLimitError(`${options.what} ${path}: ${st.size} bytes is more than the ${options.limit} bytes cnvm reads for it`);
    // Read to the limit + 1 even if the size grew since the stat: never more than the limit is kept.
    const buf = Buffer.alloc(Math.min(options.limit + 1, Math.max(st.size, 0) + 4096));
    let got = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, got, buf.length - got, null);
      } catch (err) {
        throw new CnvmError('io', `cannot read ${options.what} ${path}: ${errnoText(err)}`, { cause: err });
      }
      if (n === 0) break;
      got += n;
      if (got > options.limit) throw new FileLimitError(`${options.what} ${path}: more than the ${options.limit} bytes cnvm reads for it`);
      if (got === buf.length) break;
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Like readLimited, but a file that does not exist is `undefined`. */
export function readLimitedIfExists(path: string, options: ReadLimitedOptions): string | undefined {
  try {
    return readLimited(path, options);
  } catch (err) {
    if ((err as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') return undefined;
    throw err;
  }
}
