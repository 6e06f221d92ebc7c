// Property test: mutated versions of valid configs never make the translator throw, and every failure is an error
// located in the input (a JSON path and, for YAML text, a line and column).
import fc from 'fast-check';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/core/yaml.js';
import { translate, type TranslateResult } from '../../src/translate/index.js';
import { conformanceDir, loadVectors } from '../support/conformance.js';

const vectors = loadVectors();
const filesDir = join(conformanceDir(), 'files');
const RUNS = Number(process.env.CNVM_FUZZ_RUNS ?? 300);

function assertLocated(result: TranslateResult, fromText: boolean): void {
  expect(Array.isArray(result.entries)).toBe(true);
  for (const e of result.entries) {
    expect(['error', 'warning', 'info']).toContain(e.kind);
    expect(typeof e.message).toBe('string');
    expect(e.message.length).toBeGreaterThan(0);
    expect(Array.isArray(e.path)).toBe(true);
    if (fromText) {
      expect(e.position?.line).toBeGreaterThanOrEqual(1);
      expect(e.position?.column).toBeGreaterThanOrEqual(1);
    }
  }
  if (!result.config) expect(result.entries.some((e) => e.kind === 'error' || e.kind === 'warning')).toBe(true);
}

/** Values of every JSON type, including the awkward ones. */
const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('/etc/x', '../../etc/passwd', 'data:,x', 'swap', 'xfs', '0644', 'https://example.com/x'),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 3 }),
);

/** Paths to every node of a value, so a mutation can target any of them. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown, mode: 'replace' | 'delete' | 'addKey', key: string): unknown {
  if (path.length === 0) return mode === 'replace' ? value : root;
  const clone = structuredClone(root) as Record<string | number, unknown>;
  let node = clone as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (mode === 'replace') node[last] = value;
  else if (mode === 'delete') {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else {
    const target = node[last];
    if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[key] = value;
  }
  return clone;
}

describe('translator robustness (fast-check)', () => {
  it('structural mutations of valid configs give results or located errors, never exceptions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(vectors.length - 1),
        fc.nat(),
        fc.constantFrom('replace', 'delete', 'addKey') as fc.Arbitrary<'replace' | 'delete' | 'addKey'>,
        anyValue,
        fc.constantFrom('mode', 'path', 'contents', 'inline', 'local', 'name', 'device', 'format', 'with_mount_unit', 'bogus'),
        async (vi, pi, mode, value, key) => {
          const v = vectors[vi]!;
          const doc = parseYaml(v.butane).value;
          if (doc === undefined) return; // nothing to mutate structurally
          const all = paths(doc);
          const target = all[pi % all.length]!;
          const mutated = setAt(doc, target, value, mode, key);
          const text = stringify(mutated);
          const result = await translate(text, { file: 'mutated.bu', filesDir, strict: true });
          assertLocated(result, true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('byte-level damage to YAML text gives located errors, never exceptions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(vectors.length - 1), fc.nat(), fc.nat(4), fc.string({ maxLength: 4 }), async (vi, at, cut, insert) => {
        const text = vectors[vi]!.butane;
        const i = at % (text.length + 1);
        const damaged = text.slice(0, i) + insert + text.slice(i + cut);
        const result = await translate(damaged, { file: 'damaged.bu', filesDir });
        assertLocated(result, true);
      }),
      { numRuns: RUNS },
    );
  });

  it('objects (as builders produce) give results or path-located errors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(vectors.length - 1), fc.nat(), anyValue, async (vi, pi, value) => {
        const doc = parseYaml(vectors[vi]!.butane).value;
        const all = paths(doc);
        const mutated = setAt(doc, all[pi % all.length]!, value, 'replace', '');
        const result = await translate((mutated ?? {}) as object, { filesDir });
        assertLocated(result, false);
      }),
      { numRuns: RUNS },
    );
  });
});
