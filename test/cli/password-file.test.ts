// --admin-password-file: the checks on its content, and the warning when other users can read it.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPasswordFile } from '../../src/cli/inputs.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-pwfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string, mode: number): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

describe('readPasswordFile', () => {
  it('reads a 0600 file without a word', () => {
    const warnings: string[] = [];
    expect(readPasswordFile(file('ok', 'correct-horse\n', 0o600), (l) => warnings.push(l))).toBe('correct-horse');
    expect(warnings).toEqual([]);
  });

  it('warns about a group- or world-readable file, naming it and its mode', () => {
    for (const mode of [0o640, 0o644, 0o604]) {
      const warnings: string[] = [];
      const p = file(`open-${mode.toString(8)}`, 'correct-horse\n', mode);
      readPasswordFile(p, (l) => warnings.push(l));
      expect(warnings).toEqual([`warning: ${p} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`]);
    }
  });

  it('refuses empty, short and multi-line passwords', () => {
    expect(() => readPasswordFile(file('empty', '', 0o600), () => {})).toThrow(/the file is empty/);
    expect(() => readPasswordFile(file('short', 'abc\n', 0o600), () => {})).toThrow(/at least 8 characters/);
    expect(() => readPasswordFile(file('multi', 'abcdefgh\nsecond\n', 0o600), () => {})).toThrow(/on one line/);
  });
});
