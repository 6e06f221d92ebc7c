// Vitest globalSetup: the CLI tests run the built `cnvm` (dist/cli/bin.js), the file users get, not the sources.
// So `npm test` right after `npm ci` (or after editing src/) builds first when dist/ is missing or older than
// anything it is built from; an up-to-date dist/ costs one directory walk.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BUILT = join(root, 'dist/cli/bin.js');
/** Everything `npm run build` reads. */
const INPUTS = ['src', 'schema', 'scripts/generate.mjs', 'scripts/bundle.mjs', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why dist/ must be rebuilt, or undefined when it is current. */
export function staleReason(): string | undefined {
  if (!existsSync(BUILT)) return 'dist/ is missing';
  const built = statSync(BUILT).mtimeMs;
  const changed = INPUTS.map((p) => join(root, p)).filter((p) => existsSync(p) && newestMtime(p) > built);
  return changed.length ? `changed since the last build: ${changed.map((p) => p.slice(root.length + 1)).join(', ')}` : undefined;
}

export default function setup(): void {
  if (process.env.CNVM_TEST_NO_BUILD === '1') return;
  const reason = staleReason();
  if (!reason) return;
  process.stderr.write(`building dist/ for the CLI tests (${reason})\n`);
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status ?? r.signal}); the CLI tests need dist/`);
}
