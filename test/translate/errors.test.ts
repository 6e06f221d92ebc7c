// Bad Butane inputs: each NAME.bu in test/fixtures/butane/invalid/ and review/ must be rejected (or, under --strict,
// fail on a warning) with exactly the lines in NAME.expected: butane's message, JSON path, line and column. The
// review/ set was derived from butane's and Ignition's sources case by case; an empty .expected there means butane
// accepts the input.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEntry } from '../../src/report.js';
import { translate } from '../../src/translate/index.js';

const filesDir = join(import.meta.dirname, '..', 'fixtures', 'butane', 'files');

describe.each(['invalid', 'review'])('bad Butane inputs are rejected with located errors (%s)', (set) => {
  const dir = join(import.meta.dirname, '..', 'fixtures', 'butane', set);
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.bu')).sort()) {
    it(name, async () => {
      const text = readFileSync(join(dir, name), 'utf8');
      const expected = readFileSync(join(dir, name.replace(/\.bu$/, '.expected')), 'utf8').split('\n').filter(Boolean);
      const result = await translate(text, { file: name, strict: true, filesDir });
      if (expected.length === 0) {
        expect(result.entries).toEqual([]);
        expect(result.config).toBeDefined();
        return;
      }
      expect(result.config).toBeUndefined();
      expect(result.entries.map(formatEntry)).toEqual(expected);
      for (const e of result.entries) expect(e.position, `${formatEntry(e)} has a line and column`).toBeDefined();
    });
  }
});
