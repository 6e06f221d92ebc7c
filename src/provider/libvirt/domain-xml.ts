// The libvirt domain definition as a typed document (the part of libvirt's domain schema cnvm writes), serialised
// and read back with fast-xml-parser: no XML is assembled from strings and none is read with regular expressions.
// Attributes are `@_name` keys, an element's text is `#text`, an empty string is an empty element.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/** cnvm's XML namespace in a domain's <metadata>: how `list` recognises cnvm's domains. */
export const CNVM_XMLNS = 'https://cnvm.dev/xmlns/libvirt/1';
/** Where Fedora CoreOS's Ignition looks for its config on QEMU. */
export const FW_CFG_NAME = 'opt/com.coreos/config';
export const DATA_TARGET = 'vdb';
const QEMU_XMLNS = 'http://libvirt.org/schemas/domain/qemu/1.0';

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

type Empty = '';
interface FileDisk {
  '@_type': 'file';
  '@_device': 'disk';
  driver: { '@_name': 'qemu'; '@_type': 'qcow2' | 'raw'; '@_cache'?: 'none' };
  source: { '@_file': string };
  target: { '@_dev': string; '@_bus': 'virtio' };
  serial?: string;
}
interface CnvmMetadata {
  '@_xmlns:cnvm': string;
  'cnvm:image': string;
  'cnvm:image-version'?: string;
  'cnvm:forward'?: { '@_address': string; '@_port': number };
  'cnvm:owner'?: { '@_name': string; '@_generation': number };
  'cnvm:record'?: string;
}
type CharDevice = { '@_type': 'file'; source: { '@_path': string; '@_append': 'on' }; target: { '@_port': 0 } } | { '@_type': 'pty'; target: { '@_port': 0 } };

/** The domain document cnvm defines. */
export interface DomainDocument {
  domain: {
    '@_type': 'kvm' | 'qemu';
    '@_xmlns:qemu': string;
    name: string;
    metadata: { 'cnvm:vm': CnvmMetadata };
    memory: { '@_unit': 'MiB'; '#text': number };
    vcpu: number;
    os: { type: { '@_arch': 'x86_64'; '@_machine': 'q35'; '#text': 'hvm' }; boot: { '@_dev': 'hd' } };
    features: { acpi: Empty; apic: Empty };
    cpu?: { '@_mode': 'host-passthrough'; feature: { '@_policy': 'disable'; '@_name': string } };
    devices: {
      disk: FileDisk[];
      interface?: { '@_type': 'network'; mac?: { '@_address': string }; source: { '@_network': string }; model: { '@_type': 'virtio' } };
      serial: CharDevice;
      console: { '@_type': 'file' | 'pty'; target: { '@_type': 'serial'; '@_port': 0 } };
      rng: { '@_model': 'virtio'; backend: { '@_model': 'random'; '#text': string } };
      video: { model: { '@_type': 'vga' } };
    };
    'qemu:commandline': { 'qemu:arg': { '@_value': string }[] };
  };
}

/** The persistent domain definition: q35, virtio disks, serial console, Ignition through fw_cfg. */
export function domainDocument(d: DomainSettings): DomainDocument {
  const disks: FileDisk[] = [{ '@_type': 'file', '@_device': 'disk', driver: { '@_name': 'qemu', '@_type': 'qcow2' }, source: { '@_file': d.bootDisk }, target: { '@_dev': 'vda', '@_bus': 'virtio' } }];
  if (d.dataDisk) {
    disks.push({
      '@_type': 'file',
      '@_device': 'disk',
      driver: { '@_name': 'qemu', '@_type': 'raw', '@_cache': 'none' },
      source: { '@_file': d.dataDisk.path },
      target: { '@_dev': DATA_TARGET, '@_bus': 'virtio' },
      serial: d.dataDisk.serial,
    });
  }
  const args = ['-fw_cfg', `name=${FW_CFG_NAME},file=${d.ignitionPath.replace(/,/g, ',,')}`];
  // An explicit slot for the user-mode NIC: libvirt places its own devices and does not know of this one.
  if (d.userNetForward) args.push('-netdev', `user,id=cnvmnet0,hostfwd=tcp:127.0.0.1:${d.userNetForward}-:443`, '-device', 'virtio-net-pci,netdev=cnvmnet0,bus=pcie.0,addr=0x10');
  return {
    domain: {
      '@_type': d.virtType,
      '@_xmlns:qemu': QEMU_XMLNS,
      name: d.name,
      metadata: {
        'cnvm:vm': {
          '@_xmlns:cnvm': CNVM_XMLNS,
          'cnvm:image': d.baseImage,
          ...(d.imageVersion ? { 'cnvm:image-version': d.imageVersion } : {}),
          ...(d.userNetForward ? { 'cnvm:forward': { '@_address': '127.0.0.1', '@_port': d.userNetForward } } : {}),
          ...(d.owner ? { 'cnvm:owner': { '@_name': d.owner.name, '@_generation': d.owner.generation } } : {}),
          ...(d.record ? { 'cnvm:record': d.record } : {}),
        },
      },
      memory: { '@_unit': 'MiB', '#text': d.memoryMiB },
      vcpu: d.cpus,
      os: { type: { '@_arch': 'x86_64', '@_machine': 'q35', '#text': 'hvm' }, boot: { '@_dev': 'hd' } },
      features: { acpi: '', apic: '' },
      // host-passthrough crashes qemu on some KVM hosts unless arch-capabilities is hidden (measured here).
      ...(d.virtType === 'kvm' ? { cpu: { '@_mode': 'host-passthrough' as const, feature: { '@_policy': 'disable' as const, '@_name': 'arch-capabilities' } } } : {}),
      devices: {
        disk: disks,
        ...(d.network ? { interface: { '@_type': 'network' as const, ...(d.mac ? { mac: { '@_address': d.mac } } : {}), source: { '@_network': d.network }, model: { '@_type': 'virtio' as const } } } : {}),
        serial: d.consoleLog ? { '@_type': 'file', source: { '@_path': d.consoleLog, '@_append': 'on' }, target: { '@_port': 0 } } : { '@_type': 'pty', target: { '@_port': 0 } },
        console: { '@_type': d.consoleLog ? 'file' : 'pty', target: { '@_type': 'serial', '@_port': 0 } },
        rng: { '@_model': 'virtio', backend: { '@_model': 'random', '#text': '/dev/urandom' } },
        // A VGA device: SeaBIOS on a guest without one stalled before booting (measured with the test guest).
        video: { model: { '@_type': 'vga' } },
      },
      'qemu:commandline': { 'qemu:arg': args.map((value) => ({ '@_value': value })) },
    },
  };
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, indentBy: '  ', suppressEmptyNode: true, suppressBooleanAttributes: false });

/** The definition `virsh define` reads. */
export const domainXml = (d: DomainSettings): string => `${String(builder.build(domainDocument(d))).trimEnd()}\n`;

export interface ParsedDomain {
  cnvm: boolean;
  image: string;
  owner?: { name: string; generation: number };
  record?: string;
  /** User-mode networking: the forwarded endpoint on the host. */
  forward?: { address: string; port: number };
  disks: { path: string; target: string; serial?: string }[];
}

type Node = Record<string, unknown>;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false, trimValues: false, isArray: (name) => name === 'disk' });
const obj = (v: unknown): Node => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof obj(v)['#text'] === 'string' ? (obj(v)['#text'] as string) : undefined);
const attr = (v: unknown, name: string): string | undefined => {
  const a = obj(v)[`@_${name}`];
  return typeof a === 'string' ? a : undefined;
};

/** cnvm's element in <metadata>, under whatever prefix libvirt kept for its namespace. */
function cnvmMetadata(metadata: Node): { el: Node; prefix: string } | undefined {
  for (const [key, value] of Object.entries(metadata)) {
    const prefix = key.includes(':') ? key.slice(0, key.indexOf(':')) : '';
    const el = obj(value);
    if (el[prefix ? `@_xmlns:${prefix}` : '@_xmlns'] === CNVM_XMLNS) return { el, prefix: prefix ? `${prefix}:` : '' };
  }
  return undefined;
}

/** What cnvm needs from `virsh dumpxml`: its metadata, and each file-backed disk's path, target and serial. */
export function parseDomainXml(xml: string): ParsedDomain {
  const domain = obj(obj(parser.parse(xml) as unknown).domain);
  const disks: ParsedDomain['disks'] = [];
  for (const disk of (obj(domain.devices).disk as unknown[] | undefined) ?? []) {
    const path = attr(obj(disk).source, 'file');
    const target = attr(obj(disk).target, 'dev');
    const serial = text(obj(disk).serial);
    if (path && target) disks.push({ path, target, ...(serial ? { serial } : {}) });
  }
  const meta = cnvmMetadata(obj(domain.metadata));
  if (!meta) return { cnvm: false, image: '', disks };
  const field = (name: string): unknown => meta.el[`${meta.prefix}${name}`];
  const owner = field('owner');
  const generation = Number(attr(owner, 'generation'));
  const ownerName = attr(owner, 'name');
  const record = text(field('record'));
  const port = Number(attr(field('forward'), 'port'));
  return {
    cnvm: true,
    image: text(field('image')) ?? '',
    disks,
    ...(ownerName !== undefined && Number.isInteger(generation) ? { owner: { name: ownerName, generation } } : {}),
    ...(record ? { record } : {}),
    ...(Number.isInteger(port) && port > 0 ? { forward: { address: attr(field('forward'), 'address') ?? '127.0.0.1', port } } : {}),
  };
}
