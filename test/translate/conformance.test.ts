// Every public conformance vector must translate to what upstream `butane --strict --files-dir files` produced,
// compared semantically (shared/conformance/README.md): the same config with no errors or warnings (or, where
// butane v0.29.0 fails --strict, its NAME.strict.newest entries), or, where butane
// failed, the same errors and warnings (test/support/expected-errors.ts says how lines compare), and without
// --strict the config butane would have produced.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, afterAll } from 'vitest';
import { formatIgnition, translate } from '../../src/translate/index.js';
import { validateIgnitionText } from '../../src/ignition/validate.js';
import { normalize } from '../support/compare.js';
import { loadErrorVectors, loadVectors } from '../support/conformance.js';
import { comparable, parseButaneStderr } from '../support/expected-errors.js';
import { PENDING } from './conformance-pending.js';

const test = (name: string) => (PENDING.has(name) ? it.fails : it);

const vectors = loadVectors();
const errorVectors = loadErrorVectors();
const scratch = mkdtempSync(join(tmpdir(), 'cnvm-conformance-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('conformance vectors', () => {
  it('are all present', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(71);
    expect(errorVectors.length).toBeGreaterThanOrEqual(48);
  });

  for (const v of vectors) {
    test(v.name)(`${v.name} matches upstream butane`, async () => {
      const strict = await translate(v.butane, { file: v.name, strict: true, filesDir: v.filesDir });
      // Where butane v0.29.0 fails --strict (NAME.strict.newest), cnvm fails with the same entries.
      const newest = v.strictNewest !== undefined ? parseButaneStderr(v.strictNewest) : [];
      expect(comparable(strict.entries, newest, v.filesDir)).toEqual(newest);
      if (newest.length) expect(strict.config).toBeUndefined();
      const result = newest.length ? await translate(v.butane, { file: v.name, filesDir: v.filesDir }) : strict;
      expect(normalize(result.config)).toEqual(normalize(v.expected));
    });
  }

  for (const v of errorVectors) {
    test(v.name)(`${v.name} fails like upstream butane`, async () => {
      const expected = parseButaneStderr(v.expectedError);
      const result = await translate(v.butane, { file: v.name, strict: true, filesDir: v.filesDir });
      expect(result.config).toBeUndefined();
      expect(comparable(result.entries, expected, v.filesDir)).toEqual(expected);
      if (!v.nonstrict) return;
      const loose = await translate(v.butane, { file: v.name, filesDir: v.filesDir });
      const looseExpected = parseButaneStderr(v.nonstrict.stderr);
      expect(comparable(loose.entries, looseExpected, v.filesDir)).toEqual(looseExpected);
      expect(normalize(loose.config)).toEqual(normalize(v.nonstrict.config));
    });
  }
});

describe("every output passes cnvm's own Ignition validation", () => {
  for (const v of [...vectors, ...errorVectors]) {
    it(v.name, async () => {
      const result = await translate(v.butane, { file: v.name, filesDir: v.filesDir });
      if (!result.config) return;
      const checked = await validateIgnitionText(formatIgnition(result.config));
      expect(checked.entries.filter((e) => e.kind === 'error')).toEqual([]);
    });
  }
});

describe("Debian's ignition-validate accepts every output of spec <= 3.3", () => {
  for (const v of [...vectors, ...errorVectors]) {
    it(v.name, async () => {
      const result = await translate(v.butane, { file: v.name, filesDir: v.filesDir });
      if (!result.config) return;
      const version = (result.config.ignition as { version: string }).version;
      if (!/^3\.[0-3]\./.test(version)) return; // Debian's Ignition 2.14 knows specs up to 3.3 only
      const out = join(scratch, v.name.replace(/\W/g, '_') + '.ign');
      writeFileSync(out, formatIgnition(result.config));
      // Throws (failing the test) on a non-zero exit; warnings are printed but do not fail.
      execFileSync('ignition-validate', [out], { encoding: 'utf8' });
    });
  }
});
