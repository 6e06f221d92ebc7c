import { describe, expect, it } from 'vitest';
import { parseGoInt, parseYaml, pathKey, positionOf } from '../../src/butane/yaml.js';

describe('parseYaml', () => {
  it('resolves scalars like go-yaml v3: leading-zero octal, 0o, hex; yes stays a string', () => {
    const { value, errors } = parseYaml('a: 0644\nb: 0o755\nc: 0x1F\nd: yes\ne: "0644"\nf: 12\ng: ~\nh: true\ni: 1.5\n');
    expect(errors).toEqual([]);
    expect(value).toEqual({ a: 420, b: 493, c: 31, d: 'yes', e: '0644', f: 12, g: null, h: true, i: 1.5 });
  });

  it('keeps the text of every scalar and whether it was plain', () => {
    const { nodes } = parseYaml('name: 0644\nq: "x"\n');
    expect(nodes.get(pathKey(['name']))?.scalar).toEqual({ text: '0644', plain: true });
    expect(nodes.get(pathKey(['q']))?.scalar).toEqual({ text: 'x', plain: false });
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
    const { errors } = parseYaml('a: 1\nb: 2\na: 3\n');
    expect(errors).toEqual([{ message: 'mapping key "a" already defined at line 1', position: { line: 3, column: 1 } }]);
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

describe('parseGoInt', () => {
  it.each([
    ['0', 0],
    ['644', 644],
    ['0644', 420],
    ['-0o17', -15],
    ['0b101', 5],
    ['0x_1f', 31],
    ['1_000', undefined],
    ['08', undefined],
    ['abc', undefined],
  ])('%s → %s', (text, want) => {
    expect(parseGoInt(text)).toBe(want);
  });
});
