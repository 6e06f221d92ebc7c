// `cnvm upgrade` and `cnvm config show` end to end on real libvirt. Needs `npm run build` and libvirt running.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliSync } from '../support/run-cli.js';
import { libvirtSkipReason, libvirtTitle } from '../support/libvirt-probe.js';
import { withoutProgress } from './progress-lines.js';

const skip = libvirtSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'cnvm-upcli-'));
chmodSync(dir, 0o755);
const [imageA, imageB] = [join(dir, 'a.qcow2'), join(dir, 'b.qcow2')];
if (!skip) for (const image of [imageA, imageB]) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
const configDir = join(dir, 'providers');
mkdirSync(join(configDir, 'hosts'), { recursive: true });
// The profile supplies what the flags would: storage, no network, a small volume; a guest with no OS never
// answers an ACPI power-off, so stop at once.
writeFileSync(join(configDir, 'libvirt.yaml'), `provider: libvirt\nstorage_dir: ${join(dir, 'store')}\nnetwork: none\ndata_size: 1G\nshutdown_timeout: 0\n`);
const name = `cnvm-up${process.pid}`;
writeFileSync(join(configDir, 'hosts', `${name}.yaml`), 'memory: 256\ncpus: 1\n');
const stateDir = join(dir, 'state');
const common = ['--provider', 'libvirt', '--name', name, '--config-dir', configDir, '--state-dir', stateDir];

function cnvm(args: string[]) {
  return runCliSync(args);
}

afterAll(() => {
  if (!skip) cnvm(['destroy', ...common, '--delete-data', '--yes']);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe.skipIf(skip)(libvirtTitle('cnvm config show'), () => {
  it('prints the merged settings and where each came from', () => {
    const r = cnvm(['config', 'show', ...common.slice(0, -2), '--cpus', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^data_size: "1G" +# .*providers\/libvirt\.yaml:4:12$/m);
    expect(r.stdout).toMatch(/^memory: 256 +# .*hosts\/cnvm-up\d+\.yaml:1:9$/m);
    expect(r.stdout).toMatch(/^cpus: 2 +# --cpus$/m);
  });
});

describe.skipIf(skip)(libvirtTitle('cnvm upgrade (libvirt)'), () => {
  it('needs a VM, and --yes when not on a terminal', () => {
    expect(cnvm(['upgrade', ...common, '--image', imageB]).code).toBe(2);
    const r = cnvm(['upgrade', ...common, '--image', imageB, '--yes']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/provision it first/);
  });

  it('upgrades to a new image with the same data volume', () => {
    const p = cnvm(['provision', '--skip-health-check', ...common, '--image', imageA, '--json']);
    expect(p.code).toBe(0);
    const volume = (JSON.parse(p.stdout) as { volume: { id: string } }).volume.id;
    const marker = Buffer.from(`bytes before upgrade ${process.pid}`);
    const fd = openSync(volume, 'r+');
    writeSync(fd, marker, 0, marker.length, 0);
    closeSync(fd);

    const plan = cnvm(['upgrade', ...common, '--image', imageB, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/1\. create cnvm-up\d+-g2 .*\n[\s\S]*2\. stop cnvm-up\d+ — downtime starts/);

    const r = cnvm(['upgrade', ...common, '--image', imageB, '--skip-health-check', '--yes', '--json']);
    expect(withoutProgress(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { outcome: string; newVm: string; vm: { image: string; volumes: { volumeId: string }[] }; events: { step: string }[] };
    expect(out.outcome).toBe('upgraded');
    expect(out.newVm).toBe(`${name}-g2`);
    expect(out.vm.image).toBe(imageB);
    expect(out.vm.volumes[0]?.volumeId).toBe(volume);
    expect(out.events.map((e) => e.step)).toEqual(expect.arrayContaining(['create-new', 'stop-old', 'detach-old', 'attach-new', 'start-new', 'destroy-old']));

    const s = JSON.parse(cnvm(['status', ...common, '--json']).stdout) as { vm: { name: string; state: string } };
    expect(s.vm).toMatchObject({ name: `${name}-g2`, state: 'running' });
    const back = Buffer.alloc(marker.length);
    const rd = openSync(volume, 'r');
    readSync(rd, back, 0, marker.length, 0);
    closeSync(rd);
    expect(back.equals(marker)).toBe(true);
  });

  it('--resume with nothing interrupted says so', () => {
    const r = cnvm(['upgrade', ...common, '--resume', '--yes', '--image', imageA]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/no interrupted upgrade/);
  });
});
