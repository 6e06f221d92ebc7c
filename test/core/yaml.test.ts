import { describe, expect, it } from 'vitest';
import { parseGoInt, parseYaml, pathKey, positionOf } from '../../src/core/yaml.js';

describe('parseYaml', () => {
  it('resolves scalars like go-yaml v3: leading-zero octal, 0o, hex; yes stays a string', () => {
    const { value, errors } = parseYaml('a: 0644\nb: 0o755\nc: 0x1F\nd: yes\ne: "0644"\nf: 12\ng: ~\nh: true\ni: 1.5\n');
    expect(errors).toEqual([]);
    expect(value).toEqual({ a: 420, b: 493, c: 31, d: 'yes', e: '0644', f: 12, g: null, h: true, i: 1.5 });
  });

  it('keeps the text of every scalar and whether it was plain', () => {
    const { nodes } = parseYaml('name: 0644\nq: "x"\n');
    expect(nodes.get(pathKey(['name']))?.scalar).toEqual({ text: '0644', plain: true, yamlTag: '!!int' });
    expect(nodes.get(pathKey(['q']))?.scalar).toEqual({ text: 'x', plain: false, yamlTag: '!!str' });
  });

  it('records 1-based positions of values and keys', () => {
    const text = 'variant: fcos\nstorage:\n  files:\n    - path: /a\n      mode: 0644\n';
    const { nodes } = parseYaml(text);
    expect(positionOf(nodes, ['storage', 'files', 0])).toEqual({ line: 4, column: 7 });
    expect(positionOf(nodes, ['storage', 'files', 0, 'mode'])).toEqual({ line: 5, column: 13 });
    expect(positionOf(nodes, ['storage', 'files', 0, 'mode'], 'key')).toEqual({ line: 5, column: 7 });
    // A path that does not exist falls back to its nearest existing ancestor.
    expect(positionOf(nodes, ['storage', 'files', 0, 'nope', 3])).toEqual({ line: 4, column: 7 });
  });

  it('reports duplicate keys with both lines', () => {
    // A decode error, reported once the variant and version are known (as go-yaml finds it in the full decode).
    const { errors, decodeErrors } = parseYaml('a: 1\nb: 2\na: 3\n');
    expect(errors).toEqual([]);
    expect(decodeErrors).toEqual([{ message: 'mapping key "a" already defined at line 1', position: { line: 3, column: 1 }, path: [] }]);
  });

  it('reports malformed YAML with its line', () => {
    const { errors } = parseYaml('a: [1, 2\nb: 3\n');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.position.line).toBeGreaterThanOrEqual(1);
  });

  it('follows aliases', () => {
    const { value, errors } = parseYaml('x: &k ssh-ed25519 AAA\ny: *k\n');
    expect(errors).toEqual([]);
    expect(value).toEqual({ x: 'ssh-ed25519 AAA', y: 'ssh-ed25519 AAA' });
  });
});

describe('parseGoInt (on text go-yaml has already stripped of underscores)', () => {
  it.each([
    ['0', 0],
    ['644', 644],
    ['0644', 420],
    ['-0o17', -15],
    ['0b101', 5],
    ['0x1f', 31],
    ['08', undefined],
    ['abc', undefined],
  ])('%s → %s', (text, want) => {
    expect(parseGoInt(text)).toBe(want);
  });
});

describe('go-yaml scalar rules', () => {
  it('drops underscores before reading numbers, reads 08 as a float, keeps the first document only', () => {
    const { value } = parseYaml('a: 1_000\nb: 0x_1f\nc: 08\nd: _1\n---\ne: 1\n');
    expect(value).toEqual({ a: 1000, b: 31, c: 8, d: '_1' });
  });

  it('drops null list entries and applies merge keys without overriding', () => {
    const { value, mergeKeys } = parseYaml('base: &b\n  x: 1\n  y: 2\nl: [~, a, null]\nm:\n  <<: *b\n  y: 3\n');
    expect(value).toEqual({ base: { x: 1, y: 2 }, l: ['a'], m: { x: 1, y: 3 } });
    expect(mergeKeys).toEqual([['m', '<<']]);
  });

  it('refuses control characters, YAML 1.2 documents and tags the text does not fit', () => {
    expect(parseYaml('a: "\u0007"\n').errors[0]?.message).toBe('control characters are not allowed');
    expect(parseYaml('%YAML 1.2\n---\na: 1\n').errors[0]?.message).toBe('found incompatible YAML document');
    expect(parseYaml('a: !!bool 1.2.0\n').errors[0]?.message).toBe('cannot decode !!str `1.2.0` as a !!bool');
    expect(parseYaml('a: !!float 3\n').value).toEqual({ a: 3 });
  });

  it('counts U+2028 as a line break and places tagged nodes at their tag', () => {
    const { nodes } = parseYaml('a: "x\u2028y"\nb: !!str z\n');
    expect(positionOf(nodes, ['b'])).toEqual({ line: 3, column: 4 });
  });
});
