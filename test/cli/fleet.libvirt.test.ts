// A fleet of two on real libvirt (qemu:///system), through the built CLI: blank qcow2 images and no network, so a
// health gate can only fail. Batch 1, --max-failures 1: the first VM's gate fails and it is rolled back onto its
// own VM with the same volume, the second is left exactly as it was (exit 6); `--resume` then continues the same
// fleet and both end on the new image, each on its own data volume. Needs `npm run build` and .ci/libvirt-setup.sh.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { libvirtSkipReason, libvirtTitle } from '../support/libvirt-probe.js';
import { runCli } from '../support/run-cli.js';

const skip = libvirtSkipReason();

const dir = mkdtempSync(join(tmpdir(), 'cnvm-fleet-libvirt-'));
chmodSync(dir, 0o755);
const [imageA, imageB] = ['a', 'b'].map((n) => join(dir, `blank-${n}.qcow2`)) as [string, string];
if (!skip) for (const image of [imageA, imageB]) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
const names = [`flt${process.pid}-a`, `flt${process.pid}-b`];
const where = ['--provider', 'libvirt', '--storage-dir', join(dir, 'store'), '--state-dir', join(dir, 'state')];
// A blank disk ignores ACPI: power it off at once rather than wait the default minute.
const fast = ['--shutdown-timeout', '0'];
const virsh = (...args: string[]): string => execFileSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8' });
const disks = (domain: string): string => virsh('domblklist', domain);

afterAll(async () => {
  if (!skip) for (const name of names) await runCli(['destroy', ...where, '--name', name, '--delete-data', '--yes']);
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe.skipIf(skip)(libvirtTitle('cnvm upgrade --all on real libvirt'), () => {
  it('provisions two VMs', async () => {
    for (const name of names) {
      const r = await runCli(['provision', ...where, '--name', name, '--network', 'none', '--image', imageA, '--skip-health-check']);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 120_000);

  it('batch 1: the first gate fails → rolled back, the second VM untouched, exit 6', async () => {
    const r = await runCli(['upgrade', ...where, '--all', '--image', imageB, '--health-timeout', '5', ...fast, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(6);
    const doc = JSON.parse(r.stdout) as { fleet: { stopped: string; members: { name: string; status: string }[] } };
    expect(doc.fleet.stopped).toBe('max-failures');
    expect(doc.fleet.members.map((m) => [m.name, m.status])).toEqual([[names[0], 'rolled-back'], [names[1], 'untouched']]);
    // The first runs again on its old VM with its own volume; the new generation is gone.
    const list = virsh('list', '--all', '--name');
    expect(list).not.toContain(`${names[0]}-g2`);
    expect(virsh('domstate', names[0] as string).trim()).toBe('running');
    expect(disks(names[0] as string)).toContain(`${names[0]}-data`);
    // The second was never touched: its one VM runs on image A.
    expect(list).not.toContain(`${names[1]}-g2`);
    const s = JSON.parse((await runCli(['status', ...where, '--name', names[1] as string, '--json'])).stdout) as { generation: number };
    expect(s.generation).toBe(1);
  }, 240_000);

  it('--resume continues the same fleet: both VMs on the new image, each with its own volume', async () => {
    const r = await runCli(['upgrade', ...where, '--all', '--resume', '--skip-health-check', ...fast, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { fleet: { members: { name: string; status: string }[] } };
    expect(doc.fleet.members.map((m) => [m.name, m.status])).toEqual([[names[0], 'upgraded'], [names[1], 'upgraded']]);
    for (const name of names) {
      expect(disks(`${name}-g2`)).toContain(`${name}-data`);
      expect(virsh('list', '--all', '--name').split('\n')).not.toContain(name);
    }
    const all = JSON.parse((await runCli(['status', '--all', ...where, '--json'])).stdout) as { vms: { name: string; generation: number; status: string }[] };
    expect(all.vms.filter((v) => names.includes(v.name)).map((v) => [v.name, v.status, v.generation])).toEqual(names.map((n) => [n, 'ready', 2]));
  }, 240_000);
});
