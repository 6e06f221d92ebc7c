// Property test over the spec model: random Butane configs generated from each spec's JSON Schema (schema/butane,
// expanded from schema/model.mjs), with field values drawn from pools of valid and invalid values. Without an
// upstream butane to compare with, it checks what must hold anyway: no exception escapes; translation is
// deterministic; --strict fails exactly when a non-strict run reports anything; and every config cnvm emits passes
// cnvm's own Ignition validation of its spec (which ports Ignition's checks).
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { BUTANE_SPECS } from '../../src/generated/specs.js';
import { validateIgnitionText } from '../../src/ignition/validate.js';
import { formatEntry } from '../../src/report.js';
import { formatIgnition, translate } from '../../src/translate/index.js';
import { REPO_ROOT } from '../support/conformance.js';

const RUNS = Number(process.env.CNVM_PROPERTY_RUNS ?? 60);
const filesDir = join(REPO_ROOT, 'test/fixtures/conformance/fuzz/files');

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  $ref?: string;
  const?: unknown;
  definitions?: Record<string, Schema>;
}

const pick = <T>(...values: T[]): fc.Arbitrary<T> => fc.constantFrom(...values);
const STRINGS: Record<string, fc.Arbitrary<string>> = {
  path: pick('/etc/a', '/var/lib/x', '/etc/a/', '/etc/../a', 'relative', '', '/var/b'),
  source: pick(
    'https://example.com/x', 'http://example.com/y', 'data:,hi', 'data:;base64,aGk=', 'data:;base64,!!', 's3://b/k', 'tftp://h/x',
    'gs://b/o', 'arn:aws:s3:::b/k', 'ftp://x/y', 'example.com/x', '', 'https://e/%zz', 'https://e:port/x', 'http://a b/',
    's3://b/k?versionId=', 's3://b/k?versionId=1', 'data:text/plain;charset=utf-8,hi', 'data:x', 'data:,a b', 'data:;base64,aGk',
    'data:text,x', 'data:,%zz', 'HTTPS://E/X', 'arn:aws:s3:us-east-1:123:accesspoint/ap/k', 'arn:aws:iam::1:role/x', 'http://[::1]:80/x',
  ),
  name: pick('a.service', 'b.mount', 'x.conf', 'core', 'md0', 'data', 'bad', '', 'a/b', 'a@.service', 'a@1.service', 'web@.container', 'web@1.container', 'x.volume'),
  device: pick('/dev/vdb', '/dev/vdc', '/dev/disk/by-id/coreos-boot-disk', '/dev/md/md0', 'vdb', ''),
  format: pick('xfs', 'ext4', 'swap', 'vfat', 'none', 'btrfs', 'bogus', ''),
  hash: pick(`sha512-${'a'.repeat(128)}`, `sha256-${'b'.repeat(64)}`, 'md5-x', 'nohash', `sha512-${'Z'.repeat(128)}`),
  local: pick('hello.txt', 'key.pub', 'unit.service', 'sub', 'missing.txt', '../escape'),
  contents_local: pick('unit.service', 'missing.txt'),
  contents: pick(
    '[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\n', '[Service]\nExecStart=/bin/true\n', 'not a unit', '[Unit\n', '',
    '[Unit] x\n', '[Unit]\nfoo', '[Service]\nExecStart=/bin/a \\\n  b\n', `[Unit]\nDescription=${'x'.repeat(2100)}\n`, '# c\\\n[Install]\n',
  ),
  inline: pick('hello\n', '', '{"ignition":{"version":"3.0.0"}}', 'x'.repeat(200)),
  level: pick('raid1', 'raid0', 'linear', 'raid5', 'bogus', ''),
  layout: pick('x86_64', 'aarch64', 'ppc64le', 's390x-eckd', 's390x-zfcp', 's390x-virt', 'bogus'),
  url: pick('https://tang.example.com', 'http://tang', 'ftp://tang', '', 'https://t a', 'HTTP://T'),
  compression: pick('', 'gzip', 'bz2'),
  label: pick('DATA', 'boot', 'root', 'EFI-SYSTEM', 'a:b', 'x'.repeat(40), ''),
  guid: pick('00000000-0000-0000-0000-000000000000', 'not-a-guid', ''),
  type_guid: pick('0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'zz'),
  http_proxy: pick('http://proxy:3128', 'https://proxy', 'socks5://p', '', 'http://[::1', 'proxy:3128'),
  https_proxy: pick('http://proxy:3128', 'https://proxy', '', 'http://p:x'),
  advertisement: pick('{"keys":[]}', 'not json'),
  thumbprint: pick('abc', ''),
  pin: pick('tpm2', 'tang', 'sss', 'mypin', ''),
  config: pick('{}', ''),
  value: pick('v', ''),
};
const INTS: Record<string, fc.Arbitrary<number>> = {
  mode: pick(0o644, 0o755, 0o4755, 0o1777, 644, 8191, -1),
  number: pick(0, 1, 2, 4, -1),
  size_mib: pick(0, 1, 100, 8192),
  start_mib: pick(0, 1, 4096),
  spares: pick(0, 1, -1),
  file_mode: pick(0o644, 0o600),
  dir_mode: pick(0o755, 0o700),
};
const anyString = pick('x', '', 'a b', 'wheel', 'ssh-ed25519 AAAA', '--opt');
const anyInt = pick(0, 1, 1000, -5);

/** An arbitrary Butane value for one schema node; `field` picks the value pool. */
function arbitrary(schema: Schema, defs: Record<string, Schema>, field: string, depth: number): fc.Arbitrary<unknown> {
  const s = schema.$ref ? (defs[schema.$ref.replace('#/definitions/', '')] as Schema) : schema;
  if (s.const !== undefined) return fc.constant(s.const);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'string') return STRINGS[field] ?? anyString;
  if (type === 'integer') return INTS[field] ?? anyInt;
  if (type === 'boolean') return fc.boolean();
  if (type === 'array') return depth > 5 ? fc.constant([]) : fc.array(arbitrary(s.items ?? {}, defs, field, depth + 1), { maxLength: 2 });
  if (type === 'object' || s.properties) {
    if (depth > 6) return fc.constant({});
    const props = Object.entries(s.properties ?? {});
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [name, child] of props) model[name] = arbitrary(child, defs, name, depth + 1);
    // Few fields per object: deep random configs are mostly errors, shallow ones reach translation.
    return fc.record(model, { requiredKeys: [] }).chain((full) => fc.subarray(Object.keys(full), { minLength: Math.min(1, Object.keys(full).length), maxLength: Math.min(3, Object.keys(full).length) }).map((keys) => Object.fromEntries(keys.map((k) => [k, full[k]]))));
  }
  return fc.constant(null);
}

function configs(variant: string, id: string, version: string): fc.Arbitrary<Record<string, unknown>> {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, `schema/butane/${variant}-${id}.json`), 'utf8')) as Schema;
  const defs = schema.definitions ?? {};
  const body = { ...schema, properties: Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([k]) => k !== 'variant' && k !== 'version')) };
  return arbitrary(body, defs, '', 0).map((b) => ({ variant, version, ...(b as Record<string, unknown>) }));
}

describe.each(BUTANE_SPECS.map((s) => [`${s.variant} ${s.version}`, s] as const))('generated %s configs', (_name, spec) => {
  it('translate deterministically, never throw, fail under --strict exactly when anything is reported, and emit only valid Ignition', async () => {
    await fc.assert(
      fc.asyncProperty(configs(spec.variant, spec.id, spec.version), fc.boolean(), async (config, asText) => {
        const input = asText ? stringify(config) : config;
        const loose = await translate(input, { filesDir });
        const again = await translate(input, { filesDir });
        expect(again).toEqual(loose);
        const strict = await translate(input, { filesDir, strict: true });
        expect(strict.config === undefined).toBe(loose.entries.length > 0);
        expect(strict.entries).toEqual(loose.entries);
        if (loose.config) {
          expect(loose.config.ignition).toMatchObject({ version: spec.ignition });
          const checked = await validateIgnitionText(formatIgnition(loose.config));
          expect(checked.entries.filter((e) => e.kind === 'error').map(formatEntry)).toEqual([]);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// The real thing where it is available: Debian's ignition-validate (Ignition 2.14) knows specs up to 3.3. Its one
// rule newer Ignition dropped (no zero-start/size partitions beside one with shouldExist false) is not a finding.
const IGNITION_VALIDATE = '/usr/bin/ignition-validate';
const DROPPED_RULE = 'shouldExist is false for a partition and other partition(s) has start or size 0';
const scratch = mkdtempSync(join(tmpdir(), 'cnvm-property-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const upTo33 = BUTANE_SPECS.filter((s) => /^3\.[0-3]\./.test(s.ignition));

describe.runIf(existsSync(IGNITION_VALIDATE)).each(upTo33.map((s) => [`${s.variant} ${s.version}`, s] as const))(
  "Debian's ignition-validate on generated %s configs",
  (_name, spec) => {
    it('accepts every config cnvm emits', async () => {
      await fc.assert(
        fc.asyncProperty(configs(spec.variant, spec.id, spec.version), async (config) => {
          const result = await translate(config, { filesDir });
          if (!result.config) return;
          const file = join(scratch, `${spec.variant}-${spec.id}.ign`);
          writeFileSync(file, formatIgnition(result.config));
          const run = spawnSync(IGNITION_VALIDATE, [file], { encoding: 'utf8' });
          const errors = `${run.stdout}${run.stderr}`.split('\n').filter((l) => /^error/.test(l) && !l.includes(DROPPED_RULE));
          expect(errors).toEqual([]);
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    });
  },
);
