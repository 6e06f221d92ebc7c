// cnvm's Ignition validation checked against the real thing: Debian's ignition-validate (spec ≤ 3.3) must print
// the same findings (kind, JSON path, line, column, message) for every fixture in test/fixtures/ignition/invalid.
// Where cnvm deliberately differs (it names the supported versions, words decode errors like butane, checks rules
// newer than Debian's Ignition 2.14), the fixture sits in `cnvm-only` with the expected lines beside it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateIgnitionText } from '../../src/ignition/validate.js';
import { formatEntry } from '../../src/report.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'ignition');
const IGNITION_VALIDATE = '/usr/bin/ignition-validate';

/**
 * Debian's Ignition 2.14 as the newest release (v2.26.0, which cnvm follows) would print it: `unused key` in lower
 * case and the special-mode-bits warning reworded for spec 3.6. (Every release still has the "shouldExist is false
 * … start or size 0" check.)
 */
function newestIgnition(line: string): string | undefined {
  return line
    .replace(/: Unused key /, ': unused key ')
    .replace(
      'setuid/setgid/sticky bits are not supported in spec versions older than 3.4.0',
      'setuid/setgid/sticky bits are not supported or functional in spec versions older than 3.6.0',
    );
}

function upstream(file: string): string[] {
  const run = spawnSync(IGNITION_VALIDATE, [file], { encoding: 'utf8' });
  if (run.error) throw run.error;
  return `${run.stdout}${run.stderr}`
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(newestIgnition)
    .filter((l): l is string => l !== undefined);
}

async function ours(file: string): Promise<string[]> {
  const { entries } = await validateIgnitionText(readFileSync(file, 'utf8'));
  return entries.map(formatEntry);
}

describe('cnvm validate agrees with ignition-validate', () => {
  it('has the real ignition-validate (Debian package `ignition`, installed by .ci/run)', () => {
    expect(existsSync(IGNITION_VALIDATE), `${IGNITION_VALIDATE} missing: apt-get install ignition`).toBe(true);
  });

  const dir = join(fixtures, 'invalid');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.ign')).sort()) {
    it(name, async () => {
      const file = join(dir, name);
      const expected = upstream(file);
      expect(expected.length).toBeGreaterThan(0);
      expect((await ours(file)).sort()).toEqual(expected.sort());
    });
  }
});

describe('cnvm-only findings', () => {
  const dir = join(fixtures, 'cnvm-only');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.ign')).sort()) {
    it(name, async () => {
      const expected = readFileSync(join(dir, name.replace(/\.ign$/, '.expected')), 'utf8').split('\n').filter(Boolean);
      expect(await ours(join(dir, name))).toEqual(expected);
    });
  }
});

describe('valid configs', () => {
  it('the committed renders and conformance outputs ≤ 3.3 pass both validators', async () => {
    const dir = join(import.meta.dirname, '..', '..', 'ignition');
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.ign'))) {
      const file = join(dir, name);
      expect(upstream(file)).toEqual([]);
      expect(await ours(file)).toEqual([]);
    }
  });
});
