// Every exit code of the README's table, each produced the way a user would meet it, on real libvirt where a
// provider is needed (a blank qcow2 "image": no OS boots, so PMM never answers and the health gate fails).
// Needs `npm run build` and .ci/libvirt-setup.sh. No stack trace may ever reach the user.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { runCliSync, spawnCli } from '../support/run-cli.js';
import { REPO_ROOT } from '../support/conformance.js';
import { libvirtSkipReason, libvirtTitle } from '../support/libvirt-probe.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-exit-'));
chmodSync(dir, 0o755);
const image = join(dir, 'blank.qcow2');
const skip = libvirtSkipReason();
if (!skip) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
const name = `cnvm-exit${process.pid}`;
const stateDir = join(dir, 'state');
// A blank guest never answers an ACPI power-off: force it off at once.
const vm = ['--provider', 'libvirt', '--name', name, '--storage-dir', join(dir, 'store'), '--state-dir', stateDir, '--shutdown-timeout', '0'];
const create = [...vm, '--network', 'none', '--memory', '256', '--cpus', '1'];

function cnvm(args: string[], env: Record<string, string | undefined> = {}) {
  const r = runCliSync(args, { cwd: dir, env });
  expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at .*:\d+:\d+/);
  return r;
}

afterAll(() => {
  if (!skip) cnvm(['destroy', ...vm, '--delete-data', '--yes']);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe.skipIf(skip)(libvirtTitle('exit codes (README table)'), () => {
  it('documents each kind once, and the README lists them', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const [kind, code] of Object.entries(EXIT_CODES)) expect(readme, `${kind} → ${code}`).toMatch(new RegExp(`\\| ${code} \\|`));
  });

  it('0 ok, 1 invalid config, 2 usage, 3 file I/O', () => {
    expect(cnvm(['version']).code).toBe(0);
    writeFileSync(join(dir, 'bad.bu'), 'variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: relative\n');
    expect(cnvm(['generate', join(dir, 'bad.bu')]).code).toBe(1);
    expect(cnvm(['provision', '--skip-health-check', '--nope']).code).toBe(2);
    const badName = cnvm(['provision', '--skip-health-check', '--provider', 'libvirt', '--name', 'Bad_Name', '--image', image]);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/--name "Bad_Name"/);
    expect(cnvm(['status', '--provider', 'nope', '--name', 'x']).code).toBe(2);
    writeFileSync(join(dir, 'empty-password'), '', { mode: 0o600 });
    const empty = cnvm(['provision', '--skip-health-check', ...create, '--image', image, '--admin-password-file', join(dir, 'empty-password')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--admin-password-file .*empty/);
    writeFileSync(join(dir, 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
    const priv = cnvm(['provision', '--skip-health-check', ...create, '--image', image, '--ssh-key', join(dir, 'id_ed25519')]);
    expect(priv.code).toBe(2);
    expect(priv.stderr).toMatch(/PRIVATE key/);
    expect(cnvm(['provision', '--skip-health-check', ...create, '--image', image, '--stream', 'nightly']).code).toBe(2);
    expect(cnvm(['provision', '--skip-health-check', ...create, '--image', image, '--data-size', '1.5G']).code).toBe(2);
    expect(cnvm(['generate', join(dir, 'missing.bu')]).code).toBe(3);
    expect(cnvm(['provision', '--skip-health-check', ...create, '--image', image, '--ssh-key', join(dir, 'missing.pub')]).code).toBe(3);
  });

  it('4 provider failure, 5 not found', () => {
    const noRegion = cnvm(['status', '--provider', 'aws', '--name', 'x', '--state-dir', stateDir], { AWS_REGION: '', AWS_DEFAULT_REGION: '' });
    expect(noRegion.code).toBe(4);
    expect(noRegion.stderr).toMatch(/needs a region/);
    const missing = cnvm(['status', ...vm]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/no VM named/);
    expect(cnvm(['upgrade', ...vm, '--image', image, '--yes']).code).toBe(5);
    expect(cnvm(['provision', '--skip-health-check', ...create, '--image', join(dir, 'no-such.qcow2')]).code).toBe(2);
  });

  it('8 conflict: provision again with other settings names the command that applies them', () => {
    const first = cnvm(['provision', '--skip-health-check', ...create, '--image', image, '--json']);
    expect(first.code).toBe(0);
    const again = cnvm(['provision', '--skip-health-check', ...create, '--image', image, '--memory', '512']);
    expect(again.code).toBe(8);
    expect(again.stderr).toMatch(/~ memory MiB 256 → 512[\s\S]*cnvm upgrade --provider libvirt --name/);
  }, 120_000);

  it('7 busy: a second run while one holds the VM', () => {
    const lock = join(stateDir, 'locks', `libvirt-${name}.lock`);
    // Held by a live process (this test's), on this host.
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), command: 'upgrade', since: 'now' }));
    try {
      const r = cnvm(['upgrade', ...vm, '--image', image, '--yes', '--skip-health-check']);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(new RegExp(`being changed by pid ${process.pid}`));
    } finally {
      rmSync(lock, { force: true });
    }
  });

  it('130 interrupted: Ctrl-C says how to continue; 6 rolled back: the re-run finishes the rollback', async () => {
    const child = spawnCli(['upgrade', ...vm, '--image', image, '--yes', '--health-timeout', '600'], { cwd: dir });
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr?.on('data', (d: Buffer) => {
        stderr += String(d);
        if (/health: start/.test(stderr)) child.kill('SIGINT');
      });
      child.on('close', resolve);
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted; run the same command again to continue/);
    const r = cnvm(['upgrade', ...vm, '--image', image, '--yes', '--health-timeout', '1']);
    expect(r.stderr).toMatch(/continuing the upgrade/);
    expect(r.code).toBe(6);
    const s = JSON.parse(cnvm(['status', ...vm, '--json']).stdout) as { vm: { name: string; state: string } };
    expect(s.vm).toMatchObject({ name, state: 'running' });
  }, 180_000);
});
