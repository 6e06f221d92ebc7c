// Who qemu runs as under a libvirt connection, and from that the owner and modes cnvm gives the files and
// directories qemu must read (the Ignition config, the base image) while keeping them from every other user.
import { readFileSync } from 'node:fs';
import { dacBaseLabel } from './capabilities.js';

export interface QemuAccess {
  /** Owner for the VM directory and the Ignition config, when cnvm must share them with qemu's group. */
  owner?: { uid: number; gid: number };
  dirMode: number;
  fileMode: number;
}

/**
 * How the Ignition config (which may hold the PMM admin password) is shared with qemu, which reads it itself
 * through fw_cfg (libvirt does not relabel files named on the qemu command line), given the user and group qemu
 * runs as:
 * - qemu runs as the caller (qemu:///session, or `user = "root"` in qemu.conf): 0700 directory, 0600 file;
 * - qemu runs as another user (Debian: libvirt-qemu, group kvm) and cnvm is root or in that group: directory 0710 and
 *   file 0640, group = qemu's group. Anyone in that group (every VM's qemu) can read the config: the trade-off;
 * - otherwise (an unprivileged user driving qemu:///system): 0755 / 0644, as the Fedora CoreOS docs do, so keep
 *   the storage directory private to you.
 */
export function qemuAccess(qemu: { uid: number; gid: number } | undefined): QemuAccess {
  const uid = process.getuid?.() ?? 0;
  if (!qemu || qemu.uid === uid) return { dirMode: 0o700, fileMode: 0o600 };
  if (uid === 0 || (process.getgroups?.() ?? []).includes(qemu.gid)) return { owner: { uid, gid: qemu.gid }, dirMode: 0o710, fileMode: 0o640 };
  return { dirMode: 0o755, fileMode: 0o644 };
}

/** The DAC label libvirt runs qemu under, from `virsh capabilities` (`<baselabel type='kvm'>+64055:+64055</baselabel>`). */
export function parseDacBaseLabel(capabilities: string, virtType: string): { uid: number; gid: number } | undefined {
  return dacBaseLabel(capabilities, virtType);
}

/** The user and group qemu:///system runs qemu as: qemu.conf's `user`/`group`, else Debian's or Fedora's default. */
export function qemuIdentity(qemuConf = '/etc/libvirt/qemu.conf', passwd = '/etc/passwd', group = '/etc/group'): { uid: number; gid: number } | undefined {
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const conf = read(qemuConf);
  const setting = (key: string): string | undefined => new RegExp(`^\\s*${key}\\s*=\\s*"([^"]+)"`, 'm').exec(conf)?.[1];
  const users = read(passwd).split('\n').map((l) => l.split(':'));
  const groups = read(group).split('\n').map((l) => l.split(':'));
  const byName = (rows: string[][], name: string, field: number): number | undefined => {
    const n = name.startsWith('+') ? Number(name.slice(1)) : undefined;
    if (n !== undefined && Number.isInteger(n)) return n;
    const v = rows.find((r) => r[0] === name)?.[field];
    return v === undefined ? undefined : Number(v);
  };
  const userName = setting('user') ?? ['libvirt-qemu', 'qemu'].find((u) => users.some((r) => r[0] === u));
  if (!userName) return undefined;
  const uid = byName(users, userName, 2);
  if (uid === undefined) return undefined;
  // libvirt's built-in default group is the user's own group when one exists (Debian: libvirt-qemu), else its primary one.
  const groupName = setting('group') ?? (groups.some((r) => r[0] === userName) ? userName : undefined);
  const gid = groupName ? byName(groups, groupName, 2) : Number(users.find((r) => r[0] === userName)?.[3] ?? NaN);
  return gid === undefined || Number.isNaN(gid) ? undefined : { uid, gid };
}
