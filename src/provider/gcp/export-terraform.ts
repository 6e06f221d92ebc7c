// Terraform JSON for Compute Engine (hashicorp/google): instance with the data disk attached under cnvm's device
// name (the guest sees /dev/disk/by-id/google-pmm-data), a disk Terraform refuses to destroy, a static external
// address (the stable address) and a firewall rule for PMM. Values come from the GCE adapter's request builders.
import { gcpRequests } from './adapter.js';
import { describeDesired, ownTags, DEVICE_NAME, placementList, placementString, volumeNameOf, type ExportSubject } from '../../export-kit/subject.js';
import { CnvmError } from '../../errors.js';
import { ignitionTemplate, mergeResources, passwordParts, requiredProviders, tfDocument, type Json } from '../../export-kit/terraform.js';

/** GCE takes 256 KiB per metadata value. */
const GCE_METADATA_LIMIT = 256 * 1024;
const lastSegment = (url: string): string => url.slice(url.lastIndexOf('/') + 1);

export function terraformGcp(s: ExportSubject): Json {
  const d = s.desired;
  const project = placementString(d, 'project');
  const zone = placementString(d, 'zone');
  const machineType = placementString(d, 'machine_type');
  const network = placementString(d, 'network');
  const subnet = placementString(d, 'subnet');
  const cidrs = placementList(d, 'allow_from');
  // --address ephemeral: no static address; the instance's access config gets an ephemeral external IP.
  const ephemeral = placementString(d, 'address') === 'ephemeral';
  const ip = ephemeral ? '${google_compute_instance.pmm.network_interface[0].access_config[0].nat_ip}' : '${google_compute_address.pmm.address}';
  const req = gcpRequests({ project: '<project>', zone: '<zone>', ...(machineType ? { machineType } : {}) });
  const insert = req.instanceInsert({ name: s.name, image: d.image, ignition: '' }, '', { name: volumeNameOf(s), deviceName: DEVICE_NAME }) as {
    instanceResource: { machineType: string; tags: { items: string[] }; disks: { initializeParams?: { diskSizeGb: string }; deviceName?: string; mode?: string }[] };
  };
  const disk = (req.diskInsert({ name: volumeNameOf(s), sizeGiB: d.dataSizeGiB, deviceName: DEVICE_NAME, vmName: s.name }) as { diskResource: { type: string; labels: Record<string, string> } }).diskResource;
  const firewall = (req.firewallInsert(s.name, cidrs) as { firewallResource: { allowed: { IPProtocol: string; ports: string[] }[]; targetTags: string[] } }).firewallResource;
  const bootSize = Number(insert.instanceResource.disks[0]?.initializeParams?.diskSizeGb ?? 20);
  const dataAttach = insert.instanceResource.disks[1] ?? { deviceName: DEVICE_NAME, mode: 'READ_WRITE' };
  if (Buffer.byteLength(s.ignition.text) + 256 > GCE_METADATA_LIMIT) throw new CnvmError('usage', `the Ignition config is ${Buffer.byteLength(s.ignition.text)} bytes; GCE metadata values take at most ${GCE_METADATA_LIMIT}`);
  if (!s.imagePinned && !s.images?.gcpImage) throw new CnvmError('usage', 'no GCE image: give --image or let cnvm read the stream metadata (--stream, --stream-file)');
  const pw = passwordParts(s);
  const labels = { 'cnvm-export': s.name };

  return tfDocument({
    providers: requiredProviders(s, { google: { source: 'hashicorp/google', version: '~> 6.20' } }),
    provider: { google: { project: '${var.project}', zone: '${var.zone}' } },
    variable: {
      project: { type: 'string', ...(project ? { default: project } : {}), description: 'GCP project id' },
      zone: { type: 'string', ...(zone ? { default: zone } : {}), description: 'Zone of the instance and its data disk' },
      image: {
        type: 'string',
        default: s.imagePinned ? d.image.id : (s.images?.gcpImage as string),
        description: `Fedora CoreOS image${s.images?.release && !s.imagePinned ? ` (${s.images.stream} ${s.images.release})` : ''}; a new value replaces the instance, the data disk stays`,
      },
      machine_type: { type: 'string', default: lastSegment(insert.instanceResource.machineType), description: 'Machine type' },
      network: { type: 'string', default: network && network !== 'none' ? network : 'default', description: 'VPC network' },
      subnetwork: { type: 'string', default: subnet ?? null, nullable: true, description: 'Subnetwork (custom-mode VPCs)' },
      allowed_cidrs: { type: 'list(string)', ...(cidrs.length ? { default: cidrs } : {}), description: 'Who may reach PMM (443)' },
      data_size_gib: { type: 'number', default: d.dataSizeGiB, description: 'Size of the PMM data disk (grows in place, never shrinks)' },
      ...pw.variable,
    },
    locals: {
      region: '${regex("^(.+)-[a-z]$", var.zone)[0]}',
      cnvm: describeDesired(s),
      ...pw.local,
    },
    resource: mergeResources(
      {
        google_compute_disk: {
          data: {
            name: volumeNameOf(s),
            zone: '${var.zone}',
            size: '${var.data_size_gib}',
            type: lastSegment(disk.type),
            labels: { ...ownTags(disk.labels), ...labels },
            lifecycle: { prevent_destroy: true },
          },
        },
        ...(ephemeral ? {} : { google_compute_address: { pmm: { name: `${s.name}-address`, region: '${local.region}', address_type: 'EXTERNAL', description: `The stable address of ${s.name}'s PMM (exported by cnvm)` } } }),
        google_compute_firewall: {
          pmm: {
            name: `${s.name}-pmm`,
            network: '${var.network}',
            direction: 'INGRESS',
            allow: firewall.allowed.map((a) => ({ protocol: a.IPProtocol, ports: a.ports })),
            source_ranges: '${var.allowed_cidrs}',
            target_tags: firewall.targetTags,
            description: `PMM over HTTPS for ${s.name} (exported by cnvm)`,
          },
        },
        google_compute_instance: {
          pmm: {
            name: s.name,
            zone: '${var.zone}',
            machine_type: '${var.machine_type}',
            tags: insert.instanceResource.tags.items,
            labels,
            boot_disk: { auto_delete: true, initialize_params: { image: '${var.image}', size: bootSize } },
            attached_disk: [{ source: '${google_compute_disk.data.self_link}', device_name: dataAttach.deviceName, mode: dataAttach.mode }],
            network_interface: [{ network: '${var.network}', subnetwork: '${var.subnetwork}', access_config: [ephemeral ? {} : { nat_ip: '${google_compute_address.pmm.address}' }] }],
            metadata: { 'user-data': ignitionTemplate(s.ignition.pieces) },
            allow_stopping_for_update: true,
          },
        },
      },
      pw.resource,
    ),
    output: {
      pmm_url: { value: `https://${ip}/`, description: ephemeral ? 'PMM web UI and API (an ephemeral external IP: it changes when the instance is replaced)' : 'PMM web UI and API (the static address: stable across instance replacements)' },
      public_ip: { value: ip },
      data_disk: { value: '${google_compute_disk.data.self_link}', description: 'The PMM data disk' },
      ...pw.output,
    },
  });
}
