// `cnvm generate -o` through the built CLI, onto what the path already is: like butane, a FIFO, a device or a
// symlink's target is written, not replaced; an existing file keeps its mode. Needs dist/ (built by globalSetup).
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

const INPUT = 'variant: fcos\nversion: 1.4.0\n';
const OUTPUT = '{"ignition":{"version":"3.3.0"}}\n';
const dir = mkdtempSync(join(tmpdir(), 'cnvm-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function generateTo(out: string): Promise<{ code: number | null; stderr: string }> {
  return runCli(['generate', '-o', out], { cwd: process.cwd(), input: INPUT }).then(({ code, stderr }) => ({ code, stderr }));
}

describe('cnvm generate -o', () => {
  it('keeps an existing 0600 file 0600', async () => {
    const out = join(dir, 'private.ign');
    writeFileSync(out, 'old', { mode: 0o600 });
    expect(await generateTo(out)).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe(OUTPUT);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('writes a symlink\'s target, keeping the link', async () => {
    const target = join(dir, 'real.ign');
    const link = join(dir, 'link.ign');
    writeFileSync(target, '');
    symlinkSync(target, link);
    expect((await generateTo(link)).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe(OUTPUT);
  });

  it('writes into a FIFO', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let text = '';
    reader.stdout.on('data', (d: Buffer) => (text += d));
    const [result] = await Promise.all([generateTo(fifo), new Promise((resolve) => reader.on('close', resolve))]);
    expect(result.code).toBe(0);
    expect(text).toBe(OUTPUT);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('writes to /dev/null and leaves it a device; /dev/full is an I/O error (exit 3), no stack trace', async () => {
    expect(await generateTo('/dev/null')).toEqual({ code: 0, stderr: '' });
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    const full = await generateTo('/dev/full');
    expect(full.code).toBe(3);
    expect(full.stderr).toMatch(/cannot write \/dev\/full/);
    expect(full.stderr).not.toMatch(/\n\s+at /);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });
});
