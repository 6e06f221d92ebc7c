// Pure builders for the ssh command lines `cnvm ssh` and `cnvm logs` run; the code that runs them is in
// vm-access.ts. Kept apart so --dry-run prints exactly what would run, and tests check it without a network.
import { endpointOf } from '../lifecycle/health.js';
import { UsageError } from './errors.js';

/** Fedora CoreOS's one login user; the VM's ssh keys are installed for it. */
export const SSH_USER = 'core';

export interface SshTarget {
  /** The VM (generation) reached: each generation has its own host keys. */
  vmName: string;
  /** The address the provider reports. */
  address: string;
  /** Where cnvm keeps the host keys it has seen for this VM (trust on first use, per generation). */
  knownHostsFile: string;
}

export interface SshOptions {
  identity?: string;
  /** Extra `-o key=value` options, passed on as given. */
  options?: string[];
  /** Run this on the VM instead of a login shell. */
  command?: string[];
  /** Allocate a terminal for an interactive command (`-t`). */
  tty?: boolean;
}

/**
 * The host to ssh to. An address with a port is a forwarded endpoint of PMM's HTTPS (user-mode networking),
 * not the guest: there is nothing to ssh to, and saying so beats a connection to PMM's port that hangs.
 */
export function sshHost(vmName: string, address: string | undefined): string {
  if (!address) throw new UsageError(`${vmName} reports no address (is it running, on a network?); use cnvm console to see its serial console`);
  const { host, port } = endpointOf(address);
  if (port !== 443) {
    throw new UsageError(`${vmName} is reached only through ${address}, a port forwarded to PMM's HTTPS (user-mode networking); no ssh port is forwarded. Use cnvm console ${vmName.replace(/-g\d+$/, '')}, or provision it on a network that reaches its ssh port`);
  }
  return host;
}

/**
 * `ssh` with cnvm's own known-hosts file for this generation: every upgrade brings a VM with new host keys on the
 * same address, which would otherwise trip the user's known_hosts; within one generation a changed key still stops
 * the connection (accept-new trusts only the first key seen).
 */
export function sshArgv(target: SshTarget, options: SshOptions = {}): string[] {
  const host = sshHost(target.vmName, target.address);
  return [
    'ssh',
    '-o', `UserKnownHostsFile=${target.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=accept-new',
    ...(options.identity ? ['-i', options.identity] : []),
    ...(options.options ?? []).flatMap((o) => ['-o', o]),
    ...(options.tty ? ['-t'] : []),
    '-l', SSH_USER,
    host,
    ...(options.command?.length ? ['--', ...options.command] : []),
  ];
}

/** `journalctl` for a unit (core is in the systemd-journal group on Fedora CoreOS: no sudo needed). */
export function journalCommand(unit: string, options: { lines?: number; follow?: boolean } = {}): string[] {
  if (!/^[A-Za-z0-9@._:-]+$/.test(unit)) throw new UsageError(`--unit ${JSON.stringify(unit)}: not a systemd unit name`);
  const name = /\.[a-z]+$/.test(unit) ? unit : `${unit}.service`;
  return ['journalctl', '--no-pager', '-u', name, '-n', String(options.lines ?? 200), ...(options.follow ? ['-f'] : [])];
}

/** Ignition's own lines in a console log: what the first boot did and whether it succeeded. */
export function ignitionLines(console: string): string[] {
  // eslint-disable-next-line no-control-regex -- terminal colour codes are what is removed
  const lines = console.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split(/\r?\n/).map((l) => l.trimEnd());
  return lines.filter((l) => /\bignition\b/i.test(l));
}
