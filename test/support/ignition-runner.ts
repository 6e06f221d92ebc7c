// Runs the real Ignition binary (Debian package `ignition`, 2.14: spec ≤ 3.3) on a config: stage fetch-offline with
// the `file` platform, then stage files into a fake root under a temp dir. What lands there is what Ignition would
// write on first boot. The disks stage needs systemd and real block devices, so disks/filesystems are not exercised
// here (their mount units are: Ignition writes them in the files stage).
//
// The fake root needs (measured, /work/shared/notes/machine-facts.md): mode 755 (Ignition drops privileges for some
// lookups), copies of etc/passwd, group, shadow, gshadow (users and groups are resolved in the target root), an
// etc/selinux/config with SELINUX and SELINUXTYPE, and a `setfiles` on PATH for the final relabel (a no-op stub).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const IGNITION_BINARY = '/usr/lib/dracut/modules.d/30ignition/ignition';
export const IGNITION_VALIDATE = '/usr/bin/ignition-validate';

export interface IgnitionRun {
  /** The fake root the files stage wrote into. */
  root: string;
  /** The config file Ignition read. */
  configPath: string;
  /** Ignition's log of both stages. */
  log: string;
  cleanup(): void;
}

function need(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's \`ignition\` package (.ci/run does)`);
}

/** `ignition-validate` on a config: its output (empty when the config is valid) and exit status. */
export function ignitionValidate(configJson: string): { ok: boolean; output: string } {
  need(IGNITION_VALIDATE);
  const work = mkdtempSync(join(tmpdir(), 'cnvm-ignition-validate-'));
  try {
    const config = join(work, 'config.ign');
    writeFileSync(config, configJson);
    const r = spawnSync(IGNITION_VALIDATE, [config], { encoding: 'utf8', timeout: 30_000 });
    return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function runIgnition(configJson: string): IgnitionRun {
  need(IGNITION_BINARY);
  const work = mkdtempSync(join(tmpdir(), 'cnvm-ignition-'));
  try {
    chmodSync(work, 0o755);
    const root = join(work, 'root');
    const run = join(work, 'run');
    const bin = join(work, 'bin');
    for (const dir of [root, join(root, 'etc', 'selinux'), run, bin]) mkdirSync(dir, { recursive: true });
    chmodSync(root, 0o755);
    // The files stage looks users and groups up in the target root, and relabels at the end.
    for (const f of ['passwd', 'group', 'shadow', 'gshadow']) {
      if (existsSync(join('/etc', f))) copyFileSync(join('/etc', f), join(root, 'etc', f));
    }
    writeFileSync(join(root, 'etc', 'selinux', 'config'), 'SELINUX=disabled\nSELINUXTYPE=targeted\n');
    writeFileSync(join(bin, 'setfiles'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const configPath = join(work, 'config.ign');
    writeFileSync(configPath, configJson);

    const env = { ...process.env, IGNITION_CONFIG_FILE: configPath, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    const common = ['-platform', 'file', '-config-cache', join(run, 'ignition.json'), '-state-file', join(run, 'state'), '-log-to-stdout'];
    let log = '';
    for (const stage of ['fetch-offline', 'files']) {
      const args = [...common, '-stage', stage, ...(stage === 'fetch-offline' ? ['-neednet', join(run, 'neednet')] : ['-root', root])];
      const r = spawnSync(IGNITION_BINARY, args, { env, encoding: 'utf8', timeout: 60_000 });
      log += `--- ${stage}\n${r.stdout ?? ''}${r.stderr ?? ''}`;
      if (r.status !== 0) throw new Error(`ignition stage ${stage} failed (exit ${r.status ?? r.signal}):\n${log}`);
    }
    return { root, configPath, log, cleanup: () => rmSync(work, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}
