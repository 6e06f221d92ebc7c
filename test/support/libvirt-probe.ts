// Whether real libvirt + qemu can run here, asked once per test file: every real-libvirt suite is
// `describe.skipIf(libvirtSkipReason)` so a machine without them skips with the reason instead of failing.
// CI (.ci/run) sets CNVM_REQUIRE_LIBVIRT=1: there a missing piece is a failure, not a skip.
import { spawnSync } from 'node:child_process';

export const LIBVIRT_URI = 'qemu:///system';

function answers(cmd: string, args: string[]): { ok: boolean; why?: string } {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 15_000 });
  if (r.error) return { ok: false, why: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `no '${cmd}' on PATH` : r.error.message };
  if (r.status !== 0) return { ok: false, why: `'${cmd} ${args.join(' ')}' failed: ${(r.stderr ?? '').trim().split('\n')[0] ?? ''}` };
  return { ok: true };
}

function probe(): string | undefined {
  const checks: [string, string[], string][] = [
    ['virsh', ['--version'], 'libvirt-clients'],
    ['qemu-img', ['--version'], 'qemu-utils'],
    ['qemu-system-x86_64', ['--version'], 'qemu-system-x86'],
    ['virsh', ['-c', LIBVIRT_URI, 'list', '--name'], 'a running libvirtd'],
  ];
  for (const [cmd, args, what] of checks) {
    const r = answers(cmd, args);
    if (!r.ok) return `${r.why} (needs ${what}; run: bash .ci/libvirt-setup.sh)`;
  }
  return undefined;
}

let cached: { reason: string | undefined } | undefined;

/** Why the real-libvirt tests cannot run here, or undefined when they can. */
export function libvirtSkipReason(): string | undefined {
  if (!cached) {
    const reason = probe();
    if (reason && process.env.CNVM_REQUIRE_LIBVIRT === '1') throw new Error(`CNVM_REQUIRE_LIBVIRT=1 but real libvirt is unusable: ${reason}`);
    if (reason) console.warn(`SKIPPING real-libvirt tests: ${reason}`);
    cached = { reason };
  }
  return cached.reason;
}

/** A suite title that says why it was skipped, so the reporter shows the reason next to the skip. */
export function libvirtTitle(title: string): string {
  const reason = libvirtSkipReason();
  return reason ? `${title} [skipped: ${reason}]` : title;
}
