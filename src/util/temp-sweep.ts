// Temporary files an interrupted atomic write (util/atomic-write) left behind: `.NAME.<pid>.<time>.tmp`, or a
// state-dir probe `.cnvm-probe.<pid>.tmp`. A kill between the open and the rename leaves one; it may hold part of a
// secret (a VM's config), so the next run that writes in that directory removes every one whose process is gone.
import { readdirSync, rmSync } from 'node:fs';
import { pathUnder } from './safe-path.js';

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporaries of writers that are gone; returns their names. A missing directory has none. */
export function sweepTemporaries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = /^\..+\.(\d+)\.[0-9a-z]+\.tmp$/.exec(n) ?? /^\.cnvm-probe\.(\d+)\.tmp$/.exec(n);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(pathUnder(dir, n), { force: true });
    removed.push(n);
  }
  return removed;
}
