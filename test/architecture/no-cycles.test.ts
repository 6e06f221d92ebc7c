// No import cycles anywhere in src/ (GUIDE: dependencies point down the pipeline), neither between files nor between
// the folders of src/. Every relative import and re-export, type-only ones included, is an edge; a cycle fails with
// the chain of files (or folders) that forms it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** The src/ files a module imports, re-exports or loads with a literal dynamic import. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const info = ts.preProcessFile(text, true, true);
  const out: string[] = [];
  for (const ref of info.importedFiles) {
    const spec = ref.fileName;
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    out.push(target);
  }
  return out;
}

/** Strongly connected groups of more than one file (or a file importing itself), each as one witness cycle. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const s = state.get(next);
      if (s === 'active') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('module graph of src/', () => {
  const files = sourceFiles(SRC);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('resolves every relative import to a file in src/', () => {
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${relative(SRC, f)} → ${relative(SRC, d)}`));
    expect(missing).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles = findCycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(' → '));
    expect(cycles).toEqual([]);
  });

  it('has no cycle between the folders of src/ (a folder is one layer of the pipeline)', () => {
    const layer = (f: string): string => relative(SRC, f).split('/')[0] as string;
    const folders = new Map<string, string[]>();
    for (const [f, deps] of graph) {
      const from = layer(f);
      const out = folders.get(from) ?? [];
      for (const d of deps) if (layer(d) !== from && !out.includes(layer(d))) out.push(layer(d));
      folders.set(from, out);
    }
    expect(findCycles(folders).map((c) => c.join(' → '))).toEqual([]);
  });

  it('detects a cycle when there is one (the check itself works)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
