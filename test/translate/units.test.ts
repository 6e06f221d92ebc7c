// Unit tests of the translator's building blocks.
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, afterAll } from 'vitest';
import { makeDataUrl, makePlainDataUrl, percentEncode } from '../../src/translate/data-url.js';
import { escapeUnitPath } from '../../src/translate/systemd-escape.js';
import { mergeConfigs } from '../../src/translate/merge.js';
import { ERR_FILES_DIR_ESCAPE, ERR_NO_FILES_DIR, readLocalFile, resolveInFilesDir } from '../../src/translate/files-dir.js';
import { ignitionKey, mountUnitText } from '../../src/translate/base.js';

describe('data URLs', () => {
  it('percent-encodes all but the unreserved set, uppercase hex', () => {
    expect(percentEncode(Buffer.from("a-_.!~*'()/ #\n"))).toBe("a-_.!~*'()%2F%20%23%0A");
  });

  it('chooses percent-encoding for short text and sets compression ""', () => {
    expect(makeDataUrl(Buffer.from('hello\n'), undefined)).toEqual({ source: 'data:,hello%0A', compression: '' });
  });

  it('chooses base64 for binary data', () => {
    const bin = Buffer.from([0, 1, 2, 255, 254, 253]);
    expect(makeDataUrl(bin, undefined, false).source).toBe(`data:;base64,${bin.toString('base64')}`);
  });

  it('gzips compressible data when that pays for the "gzip" value', () => {
    const text = Buffer.from('x'.repeat(2000));
    const url = makeDataUrl(text, undefined);
    expect(url.compression).toBe('gzip');
    const b64 = url.source.replace(/^data:;base64,/, '');
    expect(gunzipSync(Buffer.from(b64, 'base64')).toString()).toBe('x'.repeat(2000));
  });

  it('never re-compresses contents the user declared compressed, and leaves their compression', () => {
    const url = makeDataUrl(Buffer.from('x'.repeat(2000)), 'gzip');
    expect(url.compression).toBeUndefined();
    expect(url.source.startsWith('data:;base64,') || url.source.startsWith('data:,')).toBe(true);
  });

  it('fcos 1.0 style is always percent-encoded', () => {
    expect(makePlainDataUrl(Buffer.from('a b'))).toBe('data:,a%20b');
  });
});

describe('systemd path escaping', () => {
  it.each([
    ['/var/lib/pmm-data', 'var-lib-pmm\\x2ddata'],
    ['/dev/disk/by-partlabel/swap', 'dev-disk-by\\x2dpartlabel-swap'],
    ['/', '-'],
    ['//srv//data/', 'srv-data'],
    ['/.hidden/x', '\\x2ehidden-x'],
    ['/a b', 'a\\x20b'],
    ['/var/lib/static_key_example', 'var-lib-static_key_example'],
  ])('%s → %s', (path, want) => {
    expect(escapeUnitPath(path)).toBe(want);
  });
});

describe('Ignition key names', () => {
  it.each([
    ['size_mib', 'sizeMiB'],
    ['start_mib', 'startMiB'],
    ['type_guid', 'typeGuid'],
    ['ssh_authorized_keys', 'sshAuthorizedKeys'],
    ['http_headers', 'httpHeaders'],
    ['wipe_table', 'wipeTable'],
    ['path', 'path'],
  ])('%s → %s', (k, want) => expect(ignitionKey(k)).toBe(want));
});

describe('merge of generated and user configs', () => {
  it('puts generated entries first and merges same-key user entries into them', () => {
    const generated = { systemd: { units: [{ name: 'a.mount', enabled: true, contents: 'gen' }] } };
    const user = { systemd: { units: [{ name: 'b.service', enabled: true }, { name: 'a.mount', contents: 'mine' }] } };
    const { merged, relocate } = mergeConfigs(generated, user);
    expect(merged).toEqual({
      systemd: { units: [{ name: 'a.mount', enabled: true, contents: 'mine' }, { name: 'b.service', enabled: true }] },
    });
    expect(relocate(['systemd', 'units', 0, 'name'])).toEqual(['systemd', 'units', 1, 'name']);
    expect(relocate(['systemd', 'units', 1, 'contents'])).toEqual(['systemd', 'units', 0, 'contents']);
  });

  it('matches partitions by number, else label', () => {
    const generated = { storage: { disks: [{ device: '/dev/sda', partitions: [{ label: 'root-1' }, { number: 2, label: 'x' }] }] } };
    const user = { storage: { disks: [{ device: '/dev/sda', partitions: [{ label: 'root-1', sizeMiB: 8000 }, { number: 2, sizeMiB: 5 }] }] } };
    const { merged } = mergeConfigs(generated, user);
    expect(merged).toEqual({
      storage: { disks: [{ device: '/dev/sda', partitions: [{ label: 'root-1', sizeMiB: 8000 }, { number: 2, label: 'x', sizeMiB: 5 }] }] },
    });
  });
});

describe('--files-dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnvm-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.txt'), 'A');
  mkdirSync(join(dir, 'sub'));
  symlinkSync('/etc/passwd', join(dir, 'sub', 'out'));

  it('reads files inside it, with or without a leading slash', () => {
    expect(readLocalFile('a.txt', dir).toString()).toBe('A');
    expect(readLocalFile('/a.txt', dir).toString()).toBe('A');
  });

  it('refuses paths that escape it', () => {
    expect(() => resolveInFilesDir('../x', dir)).toThrow(ERR_FILES_DIR_ESCAPE);
    expect(() => resolveInFilesDir('sub/../../x', dir)).toThrow(ERR_FILES_DIR_ESCAPE);
  });

  it('refuses everything when no files dir was given', () => {
    expect(() => readLocalFile('a.txt', undefined)).toThrow(ERR_NO_FILES_DIR);
  });

  it('says which file is missing', () => {
    expect(() => readLocalFile('missing', dir)).toThrow(/open .*missing: no such file or directory/);
  });
});

describe('generated mount units', () => {
  it('swap units have no [Unit] and target swap.target', () => {
    expect(mountUnitText({ device: '/dev/sdb1', format: 'swap', path: '', mountOptions: [], remote: false, swap: true })).toBe(
      '# Generated by Butane\n[Swap]\nWhat=/dev/sdb1\n\n[Install]\nRequiredBy=swap.target',
    );
  });

  it('remote mounts add _netdev after the user options and go under remote-fs.target', () => {
    const text = mountUnitText({ device: '/dev/mapper/x', format: 'xfs', path: '/var/x', mountOptions: ['ro'], remote: true, swap: false });
    expect(text).toContain('\nOptions=ro,_netdev\n');
    expect(text.endsWith('RequiredBy=remote-fs.target')).toBe(true);
  });
});
