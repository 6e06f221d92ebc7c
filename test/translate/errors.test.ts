// Bad Butane inputs: each test/fixtures/butane/invalid/NAME.bu must be rejected (or, under --strict, fail on a
// warning) with exactly the lines in NAME.expected: butane's message, JSON path, line and column.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEntry } from '../../src/report.js';
import { translate } from '../../src/translate/index.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'butane', 'invalid');
const filesDir = join(import.meta.dirname, '..', 'fixtures', 'butane', 'files');

describe('bad Butane inputs are rejected with located errors', () => {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.bu')).sort()) {
    it(name, async () => {
      const text = readFileSync(join(dir, name), 'utf8');
      const expected = readFileSync(join(dir, name.replace(/\.bu$/, '.expected')), 'utf8').split('\n').filter(Boolean);
      const result = await translate(text, { file: name, strict: true, filesDir });
      expect(result.config).toBeUndefined();
      expect(result.entries.map(formatEntry)).toEqual(expected);
      for (const e of result.entries) expect(e.position, `${formatEntry(e)} has a line and column`).toBeDefined();
    });
  }
});
