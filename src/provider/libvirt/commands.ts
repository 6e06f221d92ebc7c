// Pure builders for the libvirt adapter: file layout, domain XML and the virsh / qemu-img argv for every
// operation. Nothing here touches the system, so --dry-run prints exactly what the adapter would run.
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { CnvmError } from '../../errors.js';

/** cnvm's XML namespace in a domain's <metadata>: how `list` recognises cnvm's domains. */
export const CNVM_XMLNS = 'https://cnvm.dev/xmlns/libvirt/1';
/** Where Fedora CoreOS's Ignition looks for its config on QEMU. */
export const FW_CFG_NAME = 'opt/com.coreos/config';
export const DATA_TARGET = 'vdb';

export interface LibvirtLayout {
  uri: string;
  /**
   * Root of cnvm's files: volumes/ (data disks), images/ (base images the overlays are backed by) and vms/<name>/
   * (boot overlay, Ignition config, domain XML).
   */
  storageDir: string;
}

export interface DomainSettings {
  name: string;
  virtType: 'kvm' | 'qemu';
  memoryMiB: number;
  cpus: number;
  bootDisk: string;
  baseImage: string;
  imageVersion?: string;
  /** The cnvm VM this domain is a generation of, and which. */
  owner?: { name: string; generation: number };
  /** cnvm's record of the VM (JSON, no secrets): travels with the domain so another host sees it. */
  record?: string;
  ignitionPath: string;
  dataDisk?: { path: string; serial: string };
  /** libvirt network to attach, or none (tests; hosts without a network). */
  network?: string;
  /** The NIC's MAC: the same for every generation of a VM, so the network's DHCP gives it the same address. */
  mac?: string;
  /**
   * User-mode networking instead (qemu's slirp, no libvirt network, works for qemu:///session): PMM's HTTPS port
   * forwarded to this port on 127.0.0.1 of the hypervisor host.
   */
  userNetForward?: number;
  /** Where the serial console is written (0600 beside the VM's other files), so first-boot output is never lost. */
  consoleLog?: string;
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

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** The persistent domain definition: q35, virtio disks, serial console, Ignition through fw_cfg. */
export function domainXml(d: DomainSettings): string {
  const lines = [
    `<domain type='${d.virtType}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>`,
    `  <name>${esc(d.name)}</name>`,
    '  <metadata>',
    `    <cnvm:vm xmlns:cnvm='${CNVM_XMLNS}'>`,
    `      <cnvm:image>${esc(d.baseImage)}</cnvm:image>`,
    ...(d.imageVersion ? [`      <cnvm:image-version>${esc(d.imageVersion)}</cnvm:image-version>`] : []),
    ...(d.userNetForward ? [`      <cnvm:forward address='127.0.0.1' port='${d.userNetForward}'/>`] : []),
    ...(d.owner ? [`      <cnvm:owner name='${esc(d.owner.name)}' generation='${d.owner.generation}'/>`] : []),
    ...(d.record ? [`      <cnvm:record>${esc(d.record)}</cnvm:record>`] : []),
    '    </cnvm:vm>',
    '  </metadata>',
    `  <memory unit='MiB'>${d.memoryMiB}</memory>`,
    `  <vcpu>${d.cpus}</vcpu>`,
    "  <os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os>",
    '  <features><acpi/><apic/></features>',
    // host-passthrough crashes qemu on some KVM hosts unless arch-capabilities is hidden (measured here).
    ...(d.virtType === 'kvm' ? ["  <cpu mode='host-passthrough'><feature policy='disable' name='arch-capabilities'/></cpu>"] : []),
    '  <devices>',
    "    <disk type='file' device='disk'>",
    "      <driver name='qemu' type='qcow2'/>",
    `      <source file='${esc(d.bootDisk)}'/>`,
    "      <target dev='vda' bus='virtio'/>",
    '    </disk>',
    ...(d.dataDisk
      ? [
          "    <disk type='file' device='disk'>",
          "      <driver name='qemu' type='raw' cache='none'/>",
          `      <source file='${esc(d.dataDisk.path)}'/>`,
          `      <target dev='${DATA_TARGET}' bus='virtio'/>`,
          `      <serial>${esc(d.dataDisk.serial)}</serial>`,
          '    </disk>',
        ]
      : []),
    ...(d.network ? [`    <interface type='network'>${d.mac ? `<mac address='${d.mac}'/>` : ''}<source network='${esc(d.network)}'/><model type='virtio'/></interface>`] : []),
    ...(d.consoleLog
      ? [`    <serial type='file'><source path='${esc(d.consoleLog)}' append='on'/><target port='0'/></serial>`, "    <console type='file'><target type='serial' port='0'/></console>"]
      : ["    <serial type='pty'><target port='0'/></serial>", "    <console type='pty'><target type='serial' port='0'/></console>"]),
    "    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
    // A VGA device: SeaBIOS on a guest without one stalled before booting (measured with the test guest).
    "    <video><model type='vga'/></video>",
    '  </devices>',
    '  <qemu:commandline>',
    "    <qemu:arg value='-fw_cfg'/>",
    `    <qemu:arg value='name=${FW_CFG_NAME},file=${esc(d.ignitionPath.replace(/,/g, ',,'))}'/>`,
    ...(d.userNetForward
      ? [
          "    <qemu:arg value='-netdev'/>",
          `    <qemu:arg value='user,id=cnvmnet0,hostfwd=tcp:127.0.0.1:${d.userNetForward}-:443'/>`,
          "    <qemu:arg value='-device'/>",
          // An explicit slot: libvirt places its own devices and does not know of this one.
          "    <qemu:arg value='virtio-net-pci,netdev=cnvmnet0,bus=pcie.0,addr=0x10'/>",
        ]
      : []),
    '  </qemu:commandline>',
    '</domain>',
    '',
  ];
  return lines.join('\n');
}

export interface ParsedDomain {
  cnvm: boolean;
  image: string;
  owner?: { name: string; generation: number };
  record?: string;
  /** User-mode networking: the forwarded endpoint on the host. */
  forward?: { address: string; port: number };
  disks: { path: string; target: string; serial?: string }[];
}

const unesc = (s: string): string =>
  s.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** What cnvm needs from `virsh dumpxml`: its metadata, and each file-backed disk's path, target and serial. */
export function parseDomainXml(xml: string): ParsedDomain {
  const disks: ParsedDomain['disks'] = [];
  for (const block of xml.match(/<disk\b[\s\S]*?<\/disk>/g) ?? []) {
    const path = /<source\s+file=(['"])(.*?)\1/.exec(block)?.[2];
    const target = /<target\s+dev=(['"])(.*?)\1/.exec(block)?.[2];
    const serial = /<serial>(.*?)<\/serial>/.exec(block)?.[1];
    if (path && target) disks.push({ path: unesc(path), target, ...(serial ? { serial: unesc(serial) } : {}) });
  }
  const image = /<cnvm:image>(.*?)<\/cnvm:image>/.exec(xml)?.[1];
  const owner = /<cnvm:owner\s+name=(['"])(.*?)\1\s+generation=(['"])(\d+)\3/.exec(xml);
  const record = /<cnvm:record>([\s\S]*?)<\/cnvm:record>/.exec(xml)?.[1];
  const forward = /<cnvm:forward\s+address=(['"])(.*?)\1\s+port=(['"])(\d+)\3/.exec(xml);
  return {
    cnvm: xml.includes(CNVM_XMLNS),
    image: image ? unesc(image) : '',
    disks,
    ...(owner ? { owner: { name: unesc(owner[2] ?? ''), generation: Number(owner[4]) } } : {}),
    ...(record ? { record: unesc(record) } : {}),
    ...(forward ? { forward: { address: forward[2] ?? '127.0.0.1', port: Number(forward[4]) } } : {}),
  };
}

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
