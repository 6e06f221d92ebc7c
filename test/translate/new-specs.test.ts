// The specs butane 0.29 added: fcos 1.7.0 (→ Ignition 3.6.0), fcos 1.8.0-experimental with Podman Quadlets
// (→ 3.7.0-experimental), flatcar and r4e 1.2.0-experimental; and `cnvm validate` on the two new Ignition specs.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateIgnitionText } from '../../src/ignition/validate.js';
import { formatEntry } from '../../src/report.js';
import { formatIgnition, translate } from '../../src/translate/index.js';
import { decodeDataUrl } from '../support/compare.js';

const filesDir = mkdtempSync(join(tmpdir(), 'cnvm-new-specs-'));
mkdirSync(join(filesDir, 'tree', 'sub'), { recursive: true });
writeFileSync(join(filesDir, 'tree', 'a.conf'), 'a\n');
writeFileSync(join(filesDir, 'tree', 'sub', 'run.sh'), '#!/bin/sh\n');
chmodSync(join(filesDir, 'tree', 'sub', 'run.sh'), 0o755);
symlinkSync('a.conf', join(filesDir, 'tree', 'link'));
writeFileSync(join(filesDir, 'web.container'), '[Container]\nImage=quay.io/x/web\n');
afterAll(() => rmSync(filesDir, { recursive: true, force: true }));

const bu = (variant: string, version: string, body: string): string => `variant: ${variant}\nversion: ${version}\n${body}`;

async function ok(text: string): Promise<Record<string, unknown>> {
  const result = await translate(text, { strict: true, filesDir });
  expect(result.entries.map(formatEntry)).toEqual([]);
  const config = result.config as Record<string, unknown>;
  // Every output also passes cnvm's own Ignition validation of its spec.
  const checked = await validateIgnitionText(formatIgnition(config));
  expect(checked.entries.map(formatEntry)).toEqual([]);
  return config;
}

async function fails(text: string): Promise<string[]> {
  const result = await translate(text, { strict: true, filesDir });
  expect(result.config).toBeUndefined();
  return result.entries.map(formatEntry);
}

describe('fcos 1.7.0 → Ignition 3.6.0', () => {
  it('produces 3.6.0 and allows setuid/setgid/sticky bits without a warning', async () => {
    const config = await ok(bu('fcos', '1.7.0', 'storage:\n  directories:\n    - path: /var/tmp/x\n      mode: 01777\n'));
    expect(config.ignition).toEqual({ version: '3.6.0' });
    expect(await fails(bu('fcos', '1.6.0', 'storage:\n  directories:\n    - path: /var/tmp/x\n      mode: 01777\n'))).toEqual([
      'warning at $.storage.directories.0.mode, line 6 col 13: setuid/setgid/sticky bits are not supported or functional in spec versions older than 3.6.0',
    ]);
  });

  it('no longer checks custom clevis pin names', async () => {
    const luks = 'storage:\n  luks:\n    - name: d\n      device: /dev/vdb\n      clevis:\n        custom:\n          pin: mypin\n          config: "{}"\n';
    await ok(bu('fcos', '1.7.0', luks));
    expect(await fails(bu('fcos', '1.6.0', luks))).toEqual(['error at $.storage.luks.0.clevis.custom.pin, line 9 col 16: unsupported clevis pin']);
  });

  it('gives trees an owner and modes, creating their directories', async () => {
    const config = await ok(
      bu('fcos', '1.7.0', 'storage:\n  trees:\n    - local: tree\n      path: /etc/app\n      user:\n        name: core\n      dir_mode: 0750\n      file_mode: 0640\n'),
    );
    const storage = config.storage as Record<string, Record<string, unknown>[]>;
    expect(storage.directories).toEqual([
      { mode: 0o750, path: '/etc/app', user: { name: 'core' } },
      { mode: 0o750, path: '/etc/app/sub', user: { name: 'core' } },
    ]);
    expect(storage.files?.map((f) => [f.path, f.mode, f.user])).toEqual([
      ['/etc/app/a.conf', 0o640, { name: 'core' }],
      ['/etc/app/sub/run.sh', 0o640, { name: 'core' }],
    ]);
    expect(storage.links).toEqual([{ path: '/etc/app/link', target: 'a.conf', user: { name: 'core' } }]);
  });

  it('does not know those tree fields before 1.7', async () => {
    expect(await fails(bu('fcos', '1.6.0', 'storage:\n  trees:\n    - local: tree\n      file_mode: 0640\n'))).toEqual([
      'warning at $.storage.trees.0.file_mode, line 6 col 7: unused key file_mode',
    ]);
  });
});

describe('fcos 1.8.0-experimental → Ignition 3.7.0-experimental: quadlets', () => {
  it('writes quadlet files, template instances as links, and drop-ins', async () => {
    const config = await ok(
      bu(
        'fcos',
        '1.8.0-experimental',
        [
          'systemd:',
          '  quadlets:',
          '    - name: web@.container',
          '      rootful: true',
          '      contents_local: web.container',
          '      dropins:',
          '        - name: env.conf',
          '          contents: "[Container]\\nEnvironment=A=1\\n"',
          '    - name: web@8080.container',
          '      rootful: true',
          '    - name: data.volume',
          '      contents: "[Volume]\\n"',
          '',
        ].join('\n'),
      ),
    );
    expect(config.ignition).toEqual({ version: '3.7.0-experimental' });
    const storage = config.storage as Record<string, Record<string, unknown>[]>;
    const files = storage.files ?? [];
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      ['/etc/containers/systemd/web@.container', 0o644],
      ['/etc/containers/systemd/web@.container.d/env.conf', 0o644],
      ['/etc/containers/systemd/users/data.volume', 0o644],
    ]);
    const contents = files[0]?.contents as { source: string; compression?: string };
    expect(decodeDataUrl(contents.source, contents.compression)?.toString()).toBe('[Container]\nImage=quay.io/x/web\n');
    expect(storage.links).toEqual([{ path: '/etc/containers/systemd/web@8080.container', target: 'web@.container' }]);
  });

  it('checks quadlet names and template instances as butane does', async () => {
    const text = bu(
      'fcos',
      '1.8.0-experimental',
      'systemd:\n  quadlets:\n    - name: web.service\n      contents: x\n    - name: web@1.container\n      contents: x\n',
    );
    expect(await fails(text)).toEqual([
      'error at $.systemd.quadlets.0.name, line 5 col 13: unsupported file extension for quadlet: must be one of .container, .volume, .network, .kube, .image, .build, .pod, or .artifact',
      'error at $.systemd.quadlets.1.contents, line 8 col 17: template instances cannot have contents or contents_local',
    ]);
  });

  it('is not in fcos 1.7', async () => {
    expect(await fails(bu('fcos', '1.7.0', 'systemd:\n  quadlets:\n    - name: a.container\n'))).toEqual([
      'warning at $.systemd.quadlets, line 4 col 3: unused key quadlets',
    ]);
  });
});

describe('flatcar and r4e 1.2.0-experimental', () => {
  const luks = (extra: string): string => `storage:\n  luks:\n    - name: d\n      device: /dev/vdb\n${extra}`;

  it('flatcar allows Clevis from 1.2.0-experimental but not CEX', async () => {
    await ok(bu('flatcar', '1.2.0-experimental', luks('      clevis:\n        tpm2: true\n')));
    expect(await fails(bu('flatcar', '1.1.0', luks('      clevis:\n        tpm2: true\n')))).toEqual([
      'error at $.storage.luks.0.clevis, line 8 col 9: clevis is not supported in this spec version',
    ]);
    expect(await fails(bu('flatcar', '1.2.0-experimental', luks('      cex:\n        enabled: true\n')))).toEqual([
      'error at $.storage.luks.0.cex, line 8 col 9: cex is not currently supported on the target platform',
    ]);
  });

  it('r4e still manages storage itself', async () => {
    expect(await fails(bu('r4e', '1.2.0-experimental', 'storage:\n  raid:\n    - name: md0\n'))).toEqual([
      'error at $.storage.raid, line 5 col 5: raid is not supported in this spec version',
    ]);
  });
});

describe('cnvm validate on Ignition 3.6.0 and 3.7.0-experimental', () => {
  const check = async (text: string): Promise<string[]> => (await validateIgnitionText(text)).entries.map(formatEntry);
  const fs = (version: string): string =>
    `{"ignition":{"version":"${version}"},"storage":{"filesystems":[{"device":"share","format":"virtiofs","path":"/var/share"}]}}`;

  it('refuses virtiofs in every spec, as released Ignition v2.26.0 does (only its unreleased main knows it)', async () => {
    expect(await check(fs('3.7.0-experimental'))).toEqual([
      'error at $.storage.filesystems.0.device, line 1 col 82: path not absolute',
      'error at $.storage.filesystems.0.format, line 1 col 99: invalid filesystem format',
    ]);
    expect(await check(fs('3.6.0'))).toEqual([
      'error at $.storage.filesystems.0.device, line 1 col 69: path not absolute',
      'error at $.storage.filesystems.0.format, line 1 col 86: invalid filesystem format',
    ]);
  });

  it('accepts special mode bits in 3.6.0 without a warning', async () => {
    expect(await check('{"ignition":{"version":"3.6.0"},"storage":{"files":[{"path":"/usr/local/bin/x","mode":2541}]}}')).toEqual([]);
  });
});

describe("go-yaml's type names in decode errors", () => {
  it('uses Ignition 3.0 names in fcos 1.0 and the experimental base package in 1.8', async () => {
    expect(await fails(bu('fcos', '1.0.0', 'storage:\n  files:\n    - path: /a\n      contents: 12\n'))).toEqual([
      'error at $.storage.files.0.contents, line 6 col 17: cannot unmarshal !!int `12` into v0_1.FileContents',
    ]);
    expect(await fails(bu('fcos', '1.8.0-experimental', 'systemd:\n  quadlets:\n    - x\n'))).toEqual([
      'error at $.systemd.quadlets.0, line 5 col 7: cannot unmarshal !!str `x` into v0_8_exp.Quadlet',
    ]);
  });
});
