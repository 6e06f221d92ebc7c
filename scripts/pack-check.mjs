#!/usr/bin/env node
// `npm run pack:check` (after `npm run build`; needs the npm registry): packs cnvm, installs the tarball into an
// empty project the way a translator-only user would (`--omit=peer --omit=optional`), prints what it weighs, and
// checks that `cnvm generate` works there and that `--provider aws` names the package to install (exit 4).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'cnvm-pack-'));
const failures = [];

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

/** Bytes on disk below a directory (files only, symlinks not followed). */
function bytes(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, e) => sum + bytes(join(path, e)), 0);
}
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;

try {
  const packed = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root);
  if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const [info] = JSON.parse(packed.stdout);
  console.log(`tarball ${info.filename}: ${mb(info.size)} packed, ${mb(info.unpackedSize)} unpacked, ${info.entryCount} files`);

  const app = join(work, 'app');
  run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  const install = run('npm', ['install', '--omit=peer', '--omit=optional', '--omit=dev', '--no-audit', '--no-fund', join(work, info.filename)], app);
  if (install.status !== 0) throw new Error(`npm install failed: ${install.stderr}`);
  const modules = join(app, 'node_modules');
  const packages = readdirSync(modules).flatMap((e) => (e.startsWith('@') ? readdirSync(join(modules, e)).map((s) => `${e}/${s}`) : e.startsWith('.') ? [] : [e]));
  console.log(`translator-only install (--omit=peer --omit=optional): node_modules ${mb(bytes(modules))}, ${packages.length} packages, cnvm itself ${mb(bytes(join(modules, 'cnvm')))}`);
  for (const sdk of ['@aws-sdk/client-ec2', '@google-cloud/compute', 'google-auth-library']) {
    if (packages.includes(sdk)) failures.push(`${sdk} was installed although it is an optional peer`);
  }

  const bin = join(modules, '.bin/cnvm');
  const gen = run(bin, ['generate', '--strict', join(modules, 'cnvm/butane/pmm-server.bu')], app);
  if (gen.status !== 0 || !JSON.parse(gen.stdout).ignition) failures.push(`cnvm generate failed (${gen.status}): ${gen.stderr}`);
  else console.log('cnvm generate --strict butane/pmm-server.bu: ok');

  const aws = run(bin, ['provision', '--provider', 'aws', '--region', 'eu-west-1', '--name', 'x', '--image', 'ami-0abc1234def567890', '--dry-run', '--state-dir', join(work, 'state')], app);
  if (aws.status !== 4 || !/install @aws-sdk\/client-ec2 to use --provider aws/.test(aws.stderr) || /\n\s+at /.test(aws.stderr)) {
    failures.push(`--provider aws without the SDK: exit ${aws.status}, ${aws.stderr}`);
  } else console.log(`--provider aws without the SDK: exit 4, ${aws.stderr.trim()}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
