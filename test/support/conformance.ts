// The public conformance vectors in ../shared/conformance (beside the repository): Butane inputs and what upstream
// butane produced for them: `NAME.ign` (the output), `NAME.expected-error` (its stderr when it failed), and for
// configs that fail only on warnings under --strict, `NAME.nonstrict.ign` / `NAME.nonstrict.stderr`.
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
  /** The files directory the vector was produced with: its own folder's `files/`, else the shared one. */
  filesDir: string;
  /** The Ignition config butane --strict printed, when it succeeded. */
  expected?: unknown;
  /** butane --strict's stderr, when it failed. */
  expectedError?: string;
  /**
   * `NAME.strict.newest`: butane v0.29.0's --strict --raw-errors report where it fails --strict on a vector the
   * older oracle accepted (its `#` header line dropped); without --strict it still produces `NAME.ign`.
   */
  strictNewest?: string;
  /** Without --strict, for configs that failed only on warnings. */
  nonstrict?: { config: unknown; stderr: string };
}

const NEWEST = resolve(REPO_ROOT, 'test/fixtures/conformance-newest');
const withoutHeader = (text: string): string => text.split('\n').filter((l) => !l.startsWith('#')).join('\n');

const readIf = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

function loadAll(): Vector[] {
  const dir = conformanceDir();
  const vectors: Vector[] = [];
  for (const sub of readdirSync(dir, { withFileTypes: true })) {
    if (!sub.isDirectory() || sub.name === 'files') continue;
    const own = join(dir, sub.name, 'files');
    const filesDir = existsSync(own) ? own : join(dir, 'files');
    for (const f of readdirSync(join(dir, sub.name)).sort()) {
      if (!f.endsWith('.bu')) continue;
      const butanePath = join(dir, sub.name, f);
      const base = butanePath.replace(/\.bu$/, '');
      const ign = readIf(`${base}.ign`);
      // Where butane v0.29.0 reports a vector differently from the older oracle that recorded it, its own report
      // (test/fixtures/conformance-newest/, `#` header naming the command) is what cnvm follows.
      const newestError = readIf(join(NEWEST, sub.name, f.replace(/\.bu$/, '.expected-error')));
      const expectedError = newestError !== undefined ? withoutHeader(newestError) : readIf(`${base}.expected-error`);
      const nonstrictIgn = readIf(`${base}.nonstrict.ign`);
      const nonstrictErr = readIf(`${base}.nonstrict.stderr`);
      const strictNewest = readIf(`${base}.strict.newest`);
      if (ign === undefined && expectedError === undefined) continue;
      vectors.push({
        name: `${sub.name}/${f}`,
        butanePath,
        butane: readFileSync(butanePath, 'utf8'),
        filesDir,
        ...(ign !== undefined ? { expected: JSON.parse(ign) as unknown } : {}),
        ...(expectedError !== undefined ? { expectedError } : {}),
        ...(strictNewest !== undefined ? { strictNewest: withoutHeader(strictNewest) } : {}),
        ...(nonstrictIgn !== undefined ? { nonstrict: { config: JSON.parse(nonstrictIgn) as unknown, stderr: nonstrictErr ?? '' } } : {}),
      });
    }
  }
  return vectors;
}

/** Vectors butane translated successfully under --strict. */
export function loadVectors(): (Vector & { expected: unknown })[] {
  return loadAll().filter((v): v is Vector & { expected: unknown } => v.expected !== undefined);
}

/** Vectors butane rejected under --strict. */
export function loadErrorVectors(): (Vector & { expectedError: string })[] {
  return loadAll().filter((v): v is Vector & { expectedError: string } => v.expectedError !== undefined);
}
