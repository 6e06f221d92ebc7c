// Runs the real Ignition binary (Debian package `ignition`) on a config: stage fetch-offline with the `file`
// platform, then stage files into a fake root under a temp dir. What lands there is what Ignition would write on
// first boot. The disks stage needs systemd and real block devices, so disks/filesystems are not exercised here.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const IGNITION_BINARY = '/usr/lib/dracut/modules.d/30ignition/ignition';

export interface IgnitionRun {
  /** The fake root the files stage wrote into. */
  root: string;
  /** Ignition's log of both stages. */
  log: string;
  cleanup(): void;
}

export function runIgnition(configJson: string): IgnitionRun {
  if (!existsSync(IGNITION_BINARY)) {
    throw new Error(`${IGNITION_BINARY} is missing: install Debian's \`ignition\` package (.ci/run does)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'cnvm-ignition-'));
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
  const config = join(work, 'config.ign');
  writeFileSync(config, configJson);

  const env = { ...process.env, IGNITION_CONFIG_FILE: config, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  const common = ['-platform', 'file', '-config-cache', join(run, 'ignition.json'), '-state-file', join(run, 'state'), '-log-to-stdout'];
  let log = '';
  for (const stage of ['fetch-offline', 'files']) {
    const args = [...common, '-stage', stage, ...(stage === 'fetch-offline' ? ['-neednet', join(run, 'neednet')] : ['-root', root])];
    const r = spawnSync(IGNITION_BINARY, args, { env, encoding: 'utf8', timeout: 60_000 });
    log += `--- ${stage}\n${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.status !== 0) {
      rmSync(work, { recursive: true, force: true });
      throw new Error(`ignition stage ${stage} failed (exit ${r.status}):\n${log}`);
    }
  }
  return { root, log, cleanup: () => rmSync(work, { recursive: true, force: true }) };
}
