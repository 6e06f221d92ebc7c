// Hostile or careless input through the built CLI: a path-traversal --name on every VM command, a FIFO as the state
// directory, a full state directory. Each is refused with its documented exit code, no stack, nothing changed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-hostile-'));
const full = join(dir, 'full');
mkdirSync(full);
let mounted = false;
afterAll(() => {
  if (mounted) execFileSync('umount', [full]);
  rmSync(dir, { recursive: true, force: true });
});

/** Every file under `root`, recursively, as relative paths. */
function tree(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[]).sort();
}

describe('hostile input through the CLI', () => {
  it('a path-traversal --name is exit 2 on status, destroy and upgrade, and the file system is unchanged', async () => {
    const victim = join(dir, 'victim');
    mkdirSync(victim);
    writeFileSync(join(victim, 'Cargo.lock'), 'keep');
    const state = join(dir, 'state');
    const before = tree(dir);
    for (const command of ['status', 'destroy', 'upgrade']) {
      const r = await runCli([command, '--provider', 'libvirt', '--name', '../victim/Cargo', '--state-dir', state, '--storage-dir', join(dir, 'store')]);
      expect(r.code, `${command}: ${r.stderr}`).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(tree(dir)).toEqual(before);
  });

  it('a FIFO as --state-dir is exit 2 naming it, no stack', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await runCli(['destroy', '--provider', 'libvirt', '--name', 'pmm1', '--state-dir', fifo, '--storage-dir', join(dir, 'store')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--state-dir ${fifo}: is a FIFO`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('generate -o FIFO with no reader is exit 3 after a short wait instead of blocking forever', async () => {
    const fifo = join(dir, 'out-fifo');
    execFileSync('mkfifo', [fifo]);
    const input = join(dir, 'in.bu');
    writeFileSync(input, 'variant: fcos\nversion: 1.5.0\n');
    const r = await runCli(['generate', '-o', fifo, input]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`cannot write ${fifo}: it is a FIFO that no process opened for reading within 5 s`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a full state directory: provision is exit 3 naming ENOSPC before the provider is touched, and leaves no lock or temporary', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', full]);
    mounted = true;
    writeFileSync(join(full, 'filler'), Buffer.alloc(4096));
    const image = join(dir, 'base.qcow2');
    writeFileSync(image, Buffer.alloc(1024));
    const store = join(dir, 'full-store');
    const r = await runCli(['provision', '--provider', 'libvirt', '--name', 'pmm1', '--image', image, '--state-dir', full, '--storage-dir', store, '--network', 'none']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/ENOSPC|no space/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(tree(full).filter((p) => p.endsWith('.lock') || p.endsWith('.tmp'))).toEqual([]);
    // Nothing was created on the provider's side: no storage directory, no VM.
    expect(readdirSync(dir)).not.toContain('full-store');
  });
});
