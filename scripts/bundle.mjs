#!/usr/bin/env node
// Bundles the CLI (after `tsc` has built the library into dist/) so `cnvm` starts fast: one entry file plus chunks
// for what each command loads lazily. yaml is taken in its ESM build so unused parts are dropped. The cloud SDKs,
// execa and jiti stay external and are only imported by the commands that need them.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: { bin: join(root, 'src/cli/bin.ts') },
  outdir: join(root, 'dist/cli'),
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  alias: { yaml: join(root, 'node_modules/yaml/browser/index.js') },
  external: ['jiti', 'execa', '@aws-sdk/*', '@google-cloud/*', 'google-auth-library', 'ajv', 'json-schema-to-typescript'],
  define: { __CNVM_VERSION__: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) },
  logLevel: 'warning',
});
