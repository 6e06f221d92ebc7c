// writeFileThrough (generate -o) and writeFileAtomic on real files, symlinks, FIFOs and devices.
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileThrough } from '../../src/util/atomic-write.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o7777;

describe('writeFileAtomic', () => {
  it('creates the file with exactly the mode asked for, whatever the umask, and leaves no temporary file', () => {
    const p = join(dir, 'secret');
    const old = process.umask(0o077);
    try {
      writeFileAtomic(p, 'x', 0o640);
    } finally {
      process.umask(old);
    }
    expect(mode(p)).toBe(0o640);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('writeFileThrough', () => {
  it('keeps an existing file 0600 and replaces its contents atomically (a new inode)', () => {
    const p = join(dir, 'keep-0600.ign');
    writeFileSync(p, 'old', { mode: 0o600 });
    const inode = statSync(p).ino;
    writeFileThrough(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(mode(p)).toBe(0o600);
    expect(statSync(p).ino).not.toBe(inode);
  });

  it('creates a new file 0644 less the umask', () => {
    const p = join(dir, 'fresh.ign');
    const old = process.umask(0o027);
    try {
      writeFileThrough(p, 'x');
    } finally {
      process.umask(old);
    }
    expect(mode(p)).toBe(0o640);
  });

  it('writes a symlink\'s target and keeps the link', () => {
    const target = join(dir, 'target.ign');
    const link = join(dir, 'link.ign');
    writeFileSync(target, 'old', { mode: 0o640 });
    symlinkSync(target, link);
    writeFileThrough(link, 'through');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('through');
    expect(mode(target)).toBe(0o640);
  });

  it('creates the target of a dangling symlink', () => {
    const target = join(dir, 'later.ign');
    const link = join(dir, 'dangling.ign');
    symlinkSync(target, link);
    writeFileThrough(link, 'made');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('made');
  });

  it('writes into a FIFO instead of replacing it', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // The reader is another process: opening a FIFO for writing blocks until someone opens it for reading.
    const reader = spawn('cat', [fifo]);
    let text = '';
    reader.stdout.on('data', (d: Buffer) => (text += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => reader.on('close', resolve));
    writeFileThrough(fifo, 'through the pipe');
    expect(await exited).toBe(0);
    expect(text).toBe('through the pipe');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('writes to /dev/null without replacing it, and reports /dev/full as an I/O error', () => {
    writeFileThrough('/dev/null', 'discarded');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(() => writeFileThrough('/dev/full', 'x')).toThrow(/cannot write \/dev\/full: .*ENOSPC/);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it('refuses a directory', () => {
    expect(() => writeFileThrough(dir, 'x')).toThrow(/it is a directory/);
  });
});
