// status and destroy touch only the VM's own resources, found from its record: virsh is wrapped by a logging
// stand-in on PATH that runs the real one, and other domains on the host (cnvm's and not) are never named.
// Needs `npm run build` and libvirt running.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliSync } from '../support/run-cli.js';
import { libvirtSkipReason, libvirtTitle } from '../support/libvirt-probe.js';

const skip = libvirtSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'cnvm-scope-'));
chmodSync(dir, 0o755);
const image = join(dir, 'blank.qcow2');
const log = join(dir, 'virsh.log');
const shim = join(dir, 'bin');
const mine = `cnvm-mine${process.pid}`;
// Names that start like mine: the old name-pattern lookup took such VMs for generations of mine.
const others = [`${mine}x`, `${mine}-2`];
const store = ['--storage-dir', join(dir, 'store'), '--state-dir', join(dir, 'state')];
const realVirsh = skip ? '' : execFileSync('sh', ['-c', 'command -v virsh'], { encoding: 'utf8' }).trim();

function cnvm(args: string[], logged = false) {
  return runCliSync(args, { cwd: dir, ...(logged ? { env: { PATH: `${shim}:${process.env.PATH ?? ''}` } } : {}) });
}
const calls = (): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean);

beforeAll(() => {
  if (skip) return;
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
  execFileSync('mkdir', ['-p', shim]);
  writeFileSync(join(shim, 'virsh'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${realVirsh}' "$@"\n`, { mode: 0o755 });
  for (const name of [mine, ...others]) {
    const r = cnvm(['provision', '--skip-health-check', '--provider', 'libvirt', '--name', name, '--image', image, '--network', 'none', '--memory', '256', '--cpus', '1', ...store]);
    expect(r.code, r.stderr).toBe(0);
  }
}, 180_000);

afterAll(() => {
  if (skip) return;
  for (const name of [mine, ...others]) cnvm(['destroy', '--provider', 'libvirt', '--name', name, '--delete-data', '--yes', '--shutdown-timeout', '0', ...store]);
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe.skipIf(skip)(libvirtTitle('status and destroy stay within the VM'), () => {
  it('status runs a handful of virsh calls, all about its own domain', () => {
    writeFileSync(log, '');
    const r = cnvm(['status', '--provider', 'libvirt', '--name', mine, ...store.slice(2)], true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${mine}: running`));
    const made = calls();
    expect(made.length).toBeLessThanOrEqual(5);
    for (const c of made) for (const o of others) expect(c).not.toContain(o);
  });

  it('destroy of one name leaves the others running', () => {
    const r = cnvm(['destroy', '--provider', 'libvirt', '--name', mine, ...store.slice(2)]);
    expect(r.code, r.stderr).toBe(0);
    const names = execFileSync('virsh', ['-c', 'qemu:///system', 'list', '--name'], { encoding: 'utf8' });
    for (const o of others) expect(names).toContain(o);
    expect(names).not.toMatch(new RegExp(`^${mine}$`, 'm'));
  });
});
