// Every public conformance vector must translate to what upstream `butane --strict --files-dir files` produced,
// compared semantically (shared/conformance/README.md), with no errors or warnings.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, afterAll } from 'vitest';
import { formatIgnition, translate } from '../../src/translate/index.js';
import { normalize } from '../support/compare.js';
import { conformanceDir, loadVectors } from '../support/conformance.js';

const vectors = loadVectors();
const filesDir = join(conformanceDir(), 'files');
const scratch = mkdtempSync(join(tmpdir(), 'cnvm-conformance-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('conformance vectors', () => {
  it('are all present', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(71);
  });

  for (const v of vectors) {
    it(`${v.name} matches upstream butane`, async () => {
      const result = await translate(v.butane, { file: v.name, strict: true, filesDir });
      expect(result.entries).toEqual([]);
      expect(normalize(result.config)).toEqual(normalize(v.expected));
    });
  }
});

describe("Debian's ignition-validate accepts every output of spec <= 3.3", () => {
  for (const v of vectors) {
    it(v.name, async () => {
      const result = await translate(v.butane, { file: v.name, strict: true, filesDir });
      const version = (result.config?.ignition as { version: string }).version;
      if (!/^3\.[0-3]\./.test(version)) return; // Debian's Ignition 2.14 knows specs up to 3.3 only
      const out = join(scratch, v.name.replace(/\W/g, '_') + '.ign');
      writeFileSync(out, formatIgnition(result.config));
      // Throws (failing the test) on a non-zero exit; prints nothing for a clean config.
      const stdout = execFileSync('ignition-validate', [out], { encoding: 'utf8' });
      expect(stdout.trim()).toBe('');
    });
  }
});
