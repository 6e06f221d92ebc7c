// Terraform JSON for libvirt (dmacvicar/libvirt 0.8): the base image and a copy-on-write boot volume, a raw data
// volume Terraform refuses to destroy, the Ignition config through fw_cfg (libvirt_ignition → coreos_ignition),
// and the domain as cnvm defines it: q35, virtio disks, the data disk with serial `pmm-data` (the guest sees
// /dev/disk/by-id/virtio-pmm-data; the 0.8 schema has no serial attribute, so an XSLT adds it), and the MAC cnvm
// derives for the VM, so every replacement keeps the DHCP lease (the stable address on libvirt).
import { stableMac } from './commands.js';
import { CnvmError } from '../../errors.js';
import { describeDesired, DEVICE_NAME, placementString, volumeNameOf, type ExportSubject } from '../../export-kit/subject.js';
import { ignitionTemplate, mergeResources, passwordParts, requiredProviders, tfDocument, type Json } from '../../export-kit/terraform.js';

const GIB = 1024 * 1024 * 1024;
/** The adapter's defaults (src/provider/libvirt/adapter.ts, libvirt/module.ts). */
const DEFAULTS = { uri: 'qemu:///system', storageDir: '/var/lib/cnvm/libvirt', memoryMiB: 4096, cpus: 2, network: 'default', bootGiB: 20 };

/** Copies the domain XML and gives the second disk (the data volume) its serial. */
export const DATA_SERIAL_XSLT = (serial: string): string =>
  [
    '<?xml version="1.0"?>',
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">',
    '  <xsl:output omit-xml-declaration="yes" indent="yes"/>',
    '  <xsl:template match="node()|@*"><xsl:copy><xsl:apply-templates select="node()|@*"/></xsl:copy></xsl:template>',
    '  <xsl:template match="/domain/devices/disk[@device=\'disk\'][2]">',
    `    <xsl:copy><xsl:apply-templates select="node()|@*"/><serial>${serial}</serial></xsl:copy>`,
    '  </xsl:template>',
    '</xsl:stylesheet>',
    '',
  ].join('\n');

export function terraformLibvirt(s: ExportSubject): Json {
  const d = s.desired;
  const uri = placementString(d, 'connect') ?? DEFAULTS.uri;
  const storageDir = placementString(d, 'storage_dir') ?? DEFAULTS.storageDir;
  const network = placementString(d, 'network') ?? DEFAULTS.network;
  if (network === 'user') throw new CnvmError('usage', "--network user (qemu user-mode networking) has no dmacvicar/libvirt equivalent; export with a libvirt network (--network default)");
  const pw = passwordParts(s);
  const nic = network === 'none' ? [] : [{ network_name: '${var.network}', mac: '${var.mac}', wait_for_lease: true }];

  return tfDocument({
    providers: requiredProviders(s, { libvirt: { source: 'dmacvicar/libvirt', version: '~> 0.8.3' } }),
    provider: { libvirt: { uri: '${var.libvirt_uri}' } },
    variable: {
      libvirt_uri: { type: 'string', default: uri, description: 'libvirt connection' },
      pool: { type: 'string', default: 'default', description: 'Storage pool for the volumes and the Ignition file' },
      image: {
        type: 'string',
        ...(s.imagePinned ? { default: d.image.id } : {}),
        description: `Fedora CoreOS qcow2 (path or URL of an uncompressed image${s.images?.qemuUrl ? `; the stream's is ${s.images.qemuUrl}, xz-compressed` : ''}); a new value replaces the domain, the data volume stays`,
      },
      memory_mib: { type: 'number', default: d.memoryMiB ?? DEFAULTS.memoryMiB },
      vcpus: { type: 'number', default: d.cpus ?? DEFAULTS.cpus },
      ...(network === 'none' ? {} : { network: { type: 'string', default: network, description: 'libvirt network' } }),
      ...(network === 'none' ? {} : { mac: { type: 'string', default: stableMac({ uri, storageDir }, s.name), description: 'Kept across replacements, so the DHCP lease (the address) stays' } }),
      data_size_gib: { type: 'number', default: d.dataSizeGiB, description: 'Size of the PMM data volume' },
      ...pw.variable,
    },
    locals: { cnvm: describeDesired(s), ...pw.local },
    resource: mergeResources(
      {
        libvirt_volume: {
          base: { name: `${s.name}-fcos.qcow2`, pool: '${var.pool}', source: '${var.image}', format: 'qcow2' },
          boot: { name: `${s.name}-boot.qcow2`, pool: '${var.pool}', base_volume_id: '${libvirt_volume.base.id}', size: DEFAULTS.bootGiB * GIB, format: 'qcow2' },
          data: {
            name: `${volumeNameOf(s)}.img`,
            pool: '${var.pool}',
            size: `\${var.data_size_gib * ${GIB}}`,
            format: 'raw',
            lifecycle: { prevent_destroy: true },
          },
        },
        libvirt_ignition: { pmm: { name: `${s.name}.ign`, pool: '${var.pool}', content: ignitionTemplate(s.ignition.pieces) } },
        libvirt_domain: {
          pmm: {
            name: s.name,
            memory: '${var.memory_mib}',
            vcpu: '${var.vcpus}',
            machine: 'q35',
            ...(placementString(d, 'virt_type') ? { type: placementString(d, 'virt_type') } : {}),
            coreos_ignition: '${libvirt_ignition.pmm.id}',
            disk: [{ volume_id: '${libvirt_volume.boot.id}' }, { volume_id: '${libvirt_volume.data.id}' }],
            network_interface: nic,
            console: [{ type: 'pty', target_port: '0', target_type: 'serial' }],
            xml: { xslt: DATA_SERIAL_XSLT(DEVICE_NAME) },
          },
        },
      },
      pw.resource,
    ),
    output: {
      pmm_url: network === 'none' ? { value: '(no network: --network none)' } : { value: 'https://${libvirt_domain.pmm.network_interface[0].addresses[0]}/', description: 'PMM web UI and API (the DHCP lease of the kept MAC)' },
      data_volume: { value: '${libvirt_volume.data.id}', description: 'The PMM data volume' },
      ...pw.output,
    },
  });
}
