// File output that never leaves a half-written file: write a temporary file beside the target (created with its
// final mode and owner, so a secret is never briefly world-readable), fsync, then rename over the target.
import { closeSync, fchownSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CnvmError } from '../errors.js';

export class AtomicWriteError extends CnvmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('io', message, options);
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, owner?: { uid: number; gid: number }): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new AtomicWriteError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}
