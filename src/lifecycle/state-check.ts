// The state directory checked before a command changes anything: it must be a directory (not a FIFO, a device or
// a file: exit 2) and, for a command that will write, every subdirectory cnvm writes must be creatable and take a
// small file (read-only, full, permission: exit 3 naming the path and the errno). A full disk is found here, before
// a VM is stopped or created, not half-way through an upgrade's journal.
import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { CnvmError } from '../errors.js';
import { pathUnder } from '../util/safe-path.js';
import { errnoText } from '../util/read-limited.js';
import { sweepTemporaries } from '../util/temp-sweep.js';

/** The subdirectories cnvm writes (records, secrets, locks, upgrade journals, ssh known_hosts). */
export const STATE_SUBDIRS = ['records', 'secrets', 'locks', 'upgrades'] as const;

/** Room a record or journal write needs: a probe of this size must fit. */
const PROBE_BYTES = 16 << 10;

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new CnvmError('usage', `--state-dir ${path}: a part of the path is not a directory`);
    throw new CnvmError('io', `cannot use the state directory ${path}: ${errnoText(err)}`, { cause: err });
  }
}

/** Refuses a state directory that exists and is not a directory (exit 2). */
export function checkStateDirShape(dir: string): void {
  const st = statOrUndefined(dir);
  if (st && !st.isDirectory()) {
    const kind = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'a file';
    throw new CnvmError('usage', `--state-dir ${dir}: is ${kind}; cnvm keeps its records in a directory there`);
  }
  for (const sub of STATE_SUBDIRS) {
    const s = statOrUndefined(pathUnder(dir, sub));
    if (s && !s.isDirectory()) throw new CnvmError('usage', `the state directory's ${pathUnder(dir, sub)} is not a directory; move it away`);
  }
}

/**
 * Creates the subdirectories and writes (then removes) a probe file in each: exit 3 with the path and errno when
 * the directory is read-only, full or not permitted. Also removes temporary files an interrupted atomic write left.
 */
export function checkStateDirWritable(dir: string): void {
  checkStateDirShape(dir);
  for (const sub of STATE_SUBDIRS) {
    const path = pathUnder(dir, sub);
    try {
      mkdirSync(path, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new CnvmError('io', `cannot create ${path}: ${errnoText(err)}`, { cause: err });
    }
    sweepTemporaries(path);
    const probe = pathUnder(path, `.cnvm-probe.${process.pid}.tmp`);
    let fd: number | undefined;
    try {
      fd = openSync(probe, 'wx', 0o600);
      writeSync(fd, Buffer.alloc(PROBE_BYTES));
      fsyncSync(fd);
    } catch (err) {
      throw new CnvmError('io', `cannot write in ${path}: ${errnoText(err)}; cnvm changes nothing until its state directory takes its records`, { cause: err });
    } finally {
      if (fd !== undefined) closeSync(fd);
      rmSync(probe, { force: true });
    }
  }
}
