// The public conformance vectors in ../shared/conformance (beside the repository): Butane inputs and the Ignition
// upstream butane produced for them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '../..');

/**
 * Where the vectors are: $CNVM_CONFORMANCE_DIR, else shared/conformance beside the repository (the live set), else
 * the copy committed in test/fixtures/conformance so a clone without shared/ still runs all of them.
 */
export function conformanceDir(): string {
  const candidates = [
    process.env.CNVM_CONFORMANCE_DIR,
    resolve(REPO_ROOT, '../shared/conformance'),
    resolve(REPO_ROOT, 'test/fixtures/conformance'),
  ].filter(
    (p): p is string => typeof p === 'string',
  );
  const found = candidates.find((p) => existsSync(join(p, 'README.md')));
  if (!found) throw new Error(`conformance vectors not found (looked in ${candidates.join(', ')}); set CNVM_CONFORMANCE_DIR`);
  return found;
}

export interface Vector {
  name: string;
  butanePath: string;
  butane: string;
  expected: unknown;
}

export function loadVectors(): Vector[] {
  const dir = conformanceDir();
  const vectors: Vector[] = [];
  for (const sub of readdirSync(dir, { withFileTypes: true })) {
    if (!sub.isDirectory() || sub.name === 'files') continue;
    for (const f of readdirSync(join(dir, sub.name)).sort()) {
      if (!f.endsWith('.bu')) continue;
      const butanePath = join(dir, sub.name, f);
      const ign = butanePath.replace(/\.bu$/, '.ign');
      if (!existsSync(ign)) continue;
      vectors.push({
        name: `${sub.name}/${f}`,
        butanePath,
        butane: readFileSync(butanePath, 'utf8'),
        expected: JSON.parse(readFileSync(ign, 'utf8')) as unknown,
      });
    }
  }
  return vectors;
}
