// `cnvm generate --out-dir`: many configs in one run, each exactly as a run on that file alone would render and
// report it (the conformance corpus through the built CLI), bad files failing alone, and the command line's mistakes
// refused before anything is written.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalize } from '../support/compare.js';
import { loadVectors } from '../support/conformance.js';
import { runCli } from '../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-many-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cnvm generate --out-dir', () => {
  it('renders the corpus vectors that share a files directory in one run: each what butane printed (compared as the conformance test does), byte-identical to generate on that file alone', async () => {
    // Vectors grouped by their files directory (one --files-dir per run, as with butane), the biggest group.
    const groups = new Map<string, ReturnType<typeof loadVectors>>();
    // Only vectors butane v0.29.0 renders with --strict (the others are errors or warnings, checked elsewhere).
    for (const v of loadVectors().filter((x) => x.expected !== undefined && !x.strictNewest)) groups.set(v.filesDir, [...(groups.get(v.filesDir) ?? []), v]);
    const [filesDir, vectors] = [...groups].sort((a, b) => b[1].length - a[1].length)[0]!;
    const names = new Set<string>();
    const inputs = vectors.filter((v) => !names.has(v.name) && names.add(v.name)).map((v) => v.butanePath);
    expect(inputs.length).toBeGreaterThan(50);
    const out = join(dir, 'corpus');
    const r = await runCli(['generate', '--strict', '--files-dir', filesDir, '--out-dir', out, ...inputs]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).length).toBe(inputs.length);
    for (const input of inputs.slice(0, 12)) {
      const one = await runCli(['generate', '--strict', '--files-dir', filesDir, input]);
      const name = input.split('/').pop()!.replace(/\.bu$/, '.ign');
      expect(readFileSync(join(out, name), 'utf8'), input).toBe(one.stdout);
    }
    for (const v of vectors) {
      const name = v.butanePath.split('/').pop()!.replace(/\.bu$/, '.ign');
      expect(normalize(JSON.parse(readFileSync(join(out, name), 'utf8'))), v.name).toEqual(normalize(v.expected));
    }
  });

  it('a bad file fails alone: the others are written, its report names it, exit 1 with the count', async () => {
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.bu'), 'variant: fcos\nversion: 1.4.0\n');
    writeFileSync(join(src, 'b.bu'), 'variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: relative\n');
    writeFileSync(join(src, 'c.yaml'), 'variant: fcos\nversion: 1.5.0\n');
    writeFileSync(join(src, 'notes.txt'), 'not a config');
    const out = join(dir, 'out1');
    const r = await runCli(['generate', '--out-dir', out, src]);
    expect(r.code).toBe(1);
    expect(readdirSync(out).sort()).toEqual(['a.ign', 'c.ign']);
    expect(r.stderr).toContain(`${join(src, 'b.bu')}: error at $.storage.files.0.path, line 5 col 13: path not absolute`);
    expect(r.stderr).toContain(`Error translating config: ${join(src, 'b.bu')}: config is invalid`);
    expect(r.stderr).toContain('1 of 3 configs are invalid');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses before writing anything: two inputs with one output name, -o with --out-dir, many inputs without it, a missing input', async () => {
    const a = join(dir, 'x1');
    const b = join(dir, 'x2');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'same.bu'), 'variant: fcos\nversion: 1.4.0\n');
    writeFileSync(join(b, 'same.bu'), 'variant: fcos\nversion: 1.4.0\n');
    const out = join(dir, 'never');
    const clash = await runCli(['generate', '--out-dir', out, a, b]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(`would both be written to ${join(out, 'same.ign')}`);
    expect((await runCli(['generate', '--out-dir', out, '-o', join(dir, 'f.ign'), join(a, 'same.bu')])).code).toBe(2);
    const many = await runCli(['generate', join(a, 'same.bu'), join(b, 'same.bu')]);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('--out-dir');
    expect((await runCli(['generate', '--out-dir', out, join(dir, 'missing.bu')])).code).toBe(3);
    expect(existsSync(out)).toBe(false);
  });
});
