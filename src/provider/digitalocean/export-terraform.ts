// Terraform JSON for DigitalOcean (digitalocean/digitalocean): a droplet booting the Ignition config from user data
// with the data volume in its volume_ids (attached from the first boot, as cnvm's own createVm does), a volume that
// Terraform refuses to destroy and that nothing formats (no initial_filesystem_type), a reserved IP with its
// assignment (the stable address) and a cloud firewall for 443 and 22. Values come from the adapter's request
// builders, so `cnvm provision --provider digitalocean --dry-run` shows the same VM.
import { DO_USER_DATA_LIMIT } from './adapter.js';
import { DEFAULT_SIZE, doRequests } from './requests.js';
import { fitUserData, VOLUME_ID_SENTINEL, type ExportIgnition } from '../../export-kit/pieces.js';
import { describeDesired, DEVICE_NAME, placementList, placementString, volumeNameOf, type ExportSubject } from '../../export-kit/subject.js';
import { ignitionTemplate, mergeResources, passwordParts, requiredProviders, tfDocument, type Json } from '../../export-kit/terraform.js';

/**
 * DigitalOcean's guest names the volume by its name, which the template fixes (`<vm>-data`): the export renders
 * the disk with the placeholder id, and here the placeholder becomes that name, a literal like the rest.
 */
function withVolumeName(ignition: ExportIgnition, name: string): ExportIgnition {
  // Both as written in a path and systemd-escaped in unit names ('-' → \x2d, its backslash doubled in JSON text).
  const unitEscaped = (t: string): string => t.replace(/-/g, '\\\\x2d');
  const put = (text: string): string => text.split(VOLUME_ID_SENTINEL).join(name).split(unitEscaped(VOLUME_ID_SENTINEL)).join(unitEscaped(name));
  return { ...ignition, text: put(ignition.text), pieces: ignition.pieces.map((p) => (typeof p === 'string' ? put(p) : p)) };
}

export function terraformDigitalOcean(s: ExportSubject): Json {
  const d = s.desired;
  const region = placementString(d, 'region');
  const size = placementString(d, 'size') ?? DEFAULT_SIZE;
  const vpc = placementString(d, 'vpc');
  const cidrs = placementList(d, 'allow_from');
  const extraTags = placementList(d, 'tags');
  const volumeName = volumeNameOf(s);
  const req = doRequests({ region: '<region>', size });
  const droplet = req.dropletCreate({ name: s.name, image: d.image, ignition: '' }, '', '<volume>');
  const volume = req.volumeCreate({ name: volumeName, sizeGiB: d.dataSizeGiB, deviceName: DEVICE_NAME, vmName: s.name });
  const firewall = req.firewall(s.name, cidrs);
  // A password from TF_VAR_admin_password is percent-encoded: count up to 3 bytes for each of 128 characters.
  const userData = fitUserData(withVolumeName(s.ignition, volumeName), DO_USER_DATA_LIMIT, 3 * 128, "a droplet's user data");
  const pw = passwordParts(s);
  // Terraform owns these resources: its own mark, none of cnvm's (cnvm, cnvm-vm:…), so cnvm never takes them for its.
  const tags = [`cnvm-export:${s.name}`, ...extraTags];

  return tfDocument({
    providers: requiredProviders(s, { digitalocean: { source: 'digitalocean/digitalocean', version: '~> 2.50' } }),
    provider: { digitalocean: {} },
    variable: {
      region: { type: 'string', ...(region ? { default: region } : {}), description: 'DigitalOcean region slug (the droplet, its volume and reserved IP)' },
      image: {
        type: 'string',
        ...(s.imagePinned ? { default: d.image.id } : {}),
        description: `A Fedora CoreOS custom image id in the region${s.imagePinned ? '' : ` (import the ${s.images?.stream ?? 'stable'} stream's DigitalOcean image once; cnvm provision does that and reuses it)`}. A new value replaces the droplet; the data volume stays.`,
      },
      size: { type: 'string', default: droplet.size, description: 'Droplet size slug' },
      vpc_uuid: { type: 'string', default: vpc ?? null, nullable: true, description: "VPC (null: the region's default VPC)" },
      allowed_cidrs: { type: 'list(string)', ...(cidrs.length ? { default: cidrs } : {}), description: 'Who may reach PMM (443) and ssh (22)' },
      data_size_gib: { type: 'number', default: d.dataSizeGiB, description: 'Size of the PMM data volume (grows in place, never shrinks)' },
      ...pw.variable,
    },
    locals: { cnvm: describeDesired(s), ...pw.local },
    resource: mergeResources(
      {
        digitalocean_volume: {
          data: {
            name: volumeName,
            region: '${var.region}',
            size: '${var.data_size_gib}',
            description: volume.description,
            tags,
            // The PMM data: `terraform destroy` and any plan that would replace it stop with an error.
            lifecycle: { prevent_destroy: true },
          },
        },
        digitalocean_droplet: {
          pmm: {
            name: s.name,
            region: '${var.region}',
            size: '${var.size}',
            image: '${var.image}',
            vpc_uuid: '${var.vpc_uuid}',
            ipv6: droplet.ipv6,
            monitoring: droplet.monitoring,
            backups: droplet.backups,
            user_data: ignitionTemplate(userData),
            volume_ids: ['${digitalocean_volume.data.id}'],
            tags,
            graceful_shutdown: true,
          },
        },
        digitalocean_reserved_ip: { pmm: { region: '${var.region}' } },
        digitalocean_reserved_ip_assignment: { pmm: { ip_address: '${digitalocean_reserved_ip.pmm.ip_address}', droplet_id: '${digitalocean_droplet.pmm.id}' } },
        digitalocean_firewall: {
          pmm: {
            name: firewall.name,
            droplet_ids: ['${digitalocean_droplet.pmm.id}'],
            inbound_rule: firewall.inbound_rules.map((r) => ({ protocol: r.protocol, port_range: r.ports, source_addresses: '${var.allowed_cidrs}' })),
            outbound_rule: firewall.outbound_rules.map((r) => ({ protocol: r.protocol, ...('ports' in r ? { port_range: r.ports === '0' ? '1-65535' : r.ports } : {}), destination_addresses: r.destinations.addresses })),
          },
        },
      },
      pw.resource,
    ),
    output: {
      pmm_url: { value: 'https://${digitalocean_reserved_ip.pmm.ip_address}/', description: 'PMM web UI and API (the reserved IP: stable across droplet replacements)' },
      public_ip: { value: '${digitalocean_reserved_ip.pmm.ip_address}' },
      droplet_id: { value: '${digitalocean_droplet.pmm.id}' },
      data_volume_id: { value: '${digitalocean_volume.data.id}', description: 'The PMM data volume' },
      ...pw.output,
    },
  });
}
