#!/usr/bin/env node
// `npm run render`: regenerates the committed renderings: butane/pmm-server.bu from butane/pmm-server.ts (libvirt
// naming), then every butane/*.bu into ignition/*.ign with `--strict --pretty`. test/workload/committed.test.ts
// fails when any of them is stale.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import { stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const jiti = createJiti(import.meta.url, { interopDefault: true });

export const BU_HEADER =
  '# GENERATED from butane/pmm-server.ts (libvirt device naming) by `npm run render`; edit the .ts, not this file.\n' +
  '# The admin password is not here: `cnvm provision` adds it as a root-only file (see docs/pmm-server.md).\n';

export async function renderPmmButane() {
  const mod = await jiti.import(join(root, 'butane/pmm-server.ts'));
  const yaml = stringify(mod.default({ provider: 'libvirt' }), { lineWidth: 0 });
  // Modes read best in octal, as people write them (`0644`), which Butane parses as octal.
  return BU_HEADER + yaml.replace(/^(\s*mode: )(\d+)$/gm, (_, key, n) => `${key}0${Number(n).toString(8)}`);
}

export async function renderIgnition(buPath) {
  const { translate, formatIgnition } = await jiti.import(join(root, 'src/translate/index.ts'));
  const result = await translate(readFileSync(buPath, 'utf8'), { strict: true, file: buPath });
  if (!result.config) throw new Error(`${buPath} does not render: ${JSON.stringify(result.entries)}`);
  return formatIgnition(result.config, true);
}

async function main() {
  writeFileSync(join(root, 'butane/pmm-server.bu'), await renderPmmButane());
  for (const name of readdirSync(join(root, 'butane')).filter((f) => f.endsWith('.bu'))) {
    writeFileSync(join(root, 'ignition', name.replace(/\.bu$/, '.ign')), await renderIgnition(join(root, 'butane', name)));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
