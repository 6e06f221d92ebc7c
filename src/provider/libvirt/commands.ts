// Pure builders for the libvirt adapter: file layout and the virsh / qemu-img argv for every operation (the domain
// XML is domain-xml.ts). Nothing here touches the system, so --dry-run prints exactly what the adapter would run.
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { CnvmError } from '../../errors.js';

export { CNVM_XMLNS, DATA_TARGET, domainXml, FW_CFG_NAME, parseDomainXml, type DomainSettings, type ParsedDomain } from './domain-xml.js';
import { DATA_TARGET } from './domain-xml.js';

export interface LibvirtLayout {
  uri: string;
  /**
   * Root of cnvm's files: volumes/ (data disks), images/ (base images the overlays are backed by) and vms/<name>/
   * (boot overlay, Ignition config, domain XML).
   */
  storageDir: string;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function checkName(kind: string, name: string): string {
  if (!NAME.test(name)) throw new CnvmError('usage', `invalid ${kind} name ${JSON.stringify(name)}: use 1-63 of a-z, 0-9 and -, starting with a letter or digit`);
  return name;
}

export const volumePath = (l: LibvirtLayout, name: string): string => join(l.storageDir, 'volumes', `${checkName('volume', name)}.img`);
export const volumeMetaPath = (l: LibvirtLayout, name: string): string => join(l.storageDir, 'volumes', `${checkName('volume', name)}.json`);
export const vmDir = (l: LibvirtLayout, name: string): string => join(l.storageDir, 'vms', checkName('VM', name));
export const bootDiskPath = (l: LibvirtLayout, name: string): string => join(vmDir(l, name), 'boot.qcow2');
/**
 * A locally administered MAC in qemu's 52:54:00 range, derived from where the VM lives and whose it is: every
 * generation of one VM gets the same one (and so the same DHCP lease), different VMs almost surely not.
 */
export function stableMac(l: LibvirtLayout, owner: string): string {
  const h = createHash('sha256').update(`${l.uri}\0${l.storageDir}\0${owner}`).digest();
  return `52:54:00:${[h[0], h[1], h[2]].map((b) => (b ?? 0).toString(16).padStart(2, '0')).join(':')}`;
}

export const consolePath = (l: LibvirtLayout, name: string): string => join(vmDir(l, name), 'console.log');
export const ignitionPath = (l: LibvirtLayout, name: string): string => join(vmDir(l, name), 'config.ign');
/** A base image as cnvm keeps it for overlays: `images/<source name without .qcow2>-<id>.qcow2`. */
export const baseImagePath = (l: LibvirtLayout, id: string, source: string): string =>
  join(l.storageDir, 'images', `${basename(source).replace(/\.qcow2$/, '')}-${id}.qcow2`);
export const domainXmlPath = (l: LibvirtLayout, name: string): string => join(vmDir(l, name), 'domain.xml');

const virsh = (l: LibvirtLayout, ...args: string[]): string[] => ['virsh', '-c', l.uri, ...args];

export const cmd = {
  createVolume: (path: string, sizeGiB: number): string[] => ['qemu-img', 'create', '-q', '-f', 'raw', path, `${sizeGiB}G`],
  createOverlay: (base: string, path: string): string[] => ['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, path],
  define: (l: LibvirtLayout, xmlPath: string): string[] => virsh(l, 'define', '--validate', xmlPath),
  start: (l: LibvirtLayout, name: string): string[] => virsh(l, 'start', name),
  shutdown: (l: LibvirtLayout, name: string): string[] => virsh(l, 'shutdown', name),
  destroy: (l: LibvirtLayout, name: string): string[] => virsh(l, 'destroy', name),
  undefine: (l: LibvirtLayout, name: string): string[] => virsh(l, 'undefine', name),
  domstate: (l: LibvirtLayout, name: string): string[] => virsh(l, 'domstate', name),
  dumpxml: (l: LibvirtLayout, name: string): string[] => virsh(l, 'dumpxml', '--inactive', name),
  domifaddr: (l: LibvirtLayout, name: string): string[] => virsh(l, 'domifaddr', name, '--source', 'lease'),
  capabilities: (l: LibvirtLayout): string[] => virsh(l, 'capabilities'),
  netInfo: (l: LibvirtLayout, network: string): string[] => virsh(l, 'net-info', network),
  listAll: (l: LibvirtLayout): string[] => virsh(l, 'list', '--all', '--name'),
  // Attach and detach change the persistent definition only: the adapter requires the VM to be stopped, which
  // avoids hot-plug (unsupported on the `pc` machine type, and unacknowledged by a guest that is not up).
  attachDisk: (l: LibvirtLayout, name: string, path: string, serial: string): string[] =>
    virsh(l, 'attach-disk', name, path, DATA_TARGET, '--config', '--targetbus', 'virtio', '--driver', 'qemu', '--subdriver', 'raw', '--serial', serial),
  detachDisk: (l: LibvirtLayout, name: string, path: string): string[] => virsh(l, 'detach-disk', name, path, '--config'),
};

/** `virsh domstate` words → the provider-neutral states. */
export function parseDomState(text: string): 'running' | 'stopped' | 'stopping' | 'pending' | 'unknown' {
  const s = text.trim();
  if (s === 'running' || s === 'paused' || s === 'idle' || s === 'blocked') return 'running';
  if (s === 'shut off' || s === 'crashed') return 'stopped';
  if (s === 'in shutdown') return 'stopping';
  return 'unknown';
}

/** IPv4/IPv6 addresses from `virsh domifaddr`'s table. */
export function parseDomIfAddr(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /\s(ipv[46])\s+(\S+)\/\d+/.exec(line);
    if (m?.[2]) out.push(m[2]);
  }
  return out;
}
