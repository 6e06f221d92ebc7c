// Terraform JSON for EC2 (hashicorp/aws): instance, encrypted gp3 data volume that Terraform refuses to destroy,
// the attachment as /dev/sdf (the guest finds it by its NVMe serial, the volume id without the dash), an Elastic
// IP with its association (the stable address), a security group for 443 and 22. Values come from the EC2
// adapter's request builders so `cnvm provision --provider aws --dry-run` shows the same VM. With `--address
// ephemeral` there is no Elastic IP: the URL is the instance's own public IP, which changes on replacement.
import { awsRequests, EC2_USER_DATA_LIMIT } from './adapter.js';
import { PMM_PORTS } from './network.js';
import { CnvmError } from '../../errors.js';
import { fitUserData } from '../../export-kit/pieces.js';
import { describeDesired, ownTags, DEVICE_NAME, placementList, placementString, volumeNameOf, type ExportSubject } from '../../export-kit/subject.js';
import { ignitionTemplate, mergeResources, passwordParts, requiredProviders, tfDocument, type Json } from '../../export-kit/terraform.js';

export function terraformAws(s: ExportSubject): Json {
  const d = s.desired;
  const instanceType = placementString(d, 'machine_type');
  const cidrs = placementList(d, 'allow_from');
  const ephemeral = placementString(d, 'address') === 'ephemeral';
  const ip = ephemeral ? '${aws_instance.pmm.public_ip}' : '${aws_eip.pmm.public_ip}';
  const req = awsRequests({ region: '<region>', ...(instanceType ? { instanceType } : {}), ...(cidrs.length ? { allowCidrs: cidrs } : {}) });
  const run = req.runInstances({ name: s.name, image: d.image, ignition: '' }, '');
  const volume = req.createVolume({ name: volumeNameOf(s), sizeGiB: d.dataSizeGiB, deviceName: DEVICE_NAME, vmName: s.name });
  const attach = req.attachVolume('<instance>', '<volume>');
  const ports = PMM_PORTS;
  // A password from TF_VAR_admin_password is percent-encoded: count up to 3 bytes for each of 128 characters.
  const userData = fitUserData(s.ignition, EC2_USER_DATA_LIMIT, 3 * 128, 'EC2 user data');
  const amis = s.images?.amis ?? {};
  if (!s.imagePinned && Object.keys(amis).length === 0) throw new CnvmError('usage', 'no AMI: give --image ami-… or let cnvm read the stream metadata (--stream, --stream-file)');
  const pw = passwordParts(s);
  const tags = (extra: Record<string, string>): Record<string, string> => ({ 'cnvm:export': s.name, ...extra });
  const volumeTags = ownTags(Object.fromEntries(((volume.TagSpecifications[0]?.Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value])));
  const region = placementString(d, 'region');
  const keyName = placementString(d, 'key_name');
  const subnet = placementString(d, 'subnet');

  const ingress = Object.fromEntries(
    ports.map((port) => [
      port === 443 ? 'https' : port === 22 ? 'ssh' : `tcp_${port}`,
      {
        for_each: '${toset(var.allowed_cidrs)}',
        security_group_id: '${aws_security_group.pmm.id}',
        cidr_ipv4: '${each.value}',
        ip_protocol: 'tcp',
        from_port: port,
        to_port: port,
        description: port === 443 ? 'PMM over HTTPS' : 'ssh',
      },
    ]),
  );

  return tfDocument({
    providers: requiredProviders(s, { aws: { source: 'hashicorp/aws', version: '~> 5.80' } }),
    provider: { aws: { region: '${var.region}' } },
    variable: {
      region: { type: 'string', ...(region ? { default: region } : {}), description: 'AWS region' },
      ami: {
        type: 'string',
        default: s.imagePinned ? d.image.id : '',
        description: `A Fedora CoreOS AMI; empty: the ${s.images?.stream ?? 'stream'} stream's AMI for the region${s.images?.release ? ` (FCOS ${s.images.release})` : ''}. A new value replaces the instance; the data volume stays.`,
      },
      instance_type: { type: 'string', default: run.InstanceType, description: 'EC2 instance type' },
      subnet_id: { type: 'string', ...(subnet ? { default: subnet } : {}), description: 'Subnet for the instance (its zone holds the data volume)' },
      allowed_cidrs: { type: 'list(string)', ...(cidrs.length ? { default: cidrs } : {}), description: 'Who may reach PMM (443) and ssh (22)' },
      data_size_gib: { type: 'number', default: d.dataSizeGiB, description: 'Size of the PMM data volume (grows in place, never shrinks)' },
      key_name: { type: 'string', default: keyName ?? null, nullable: true, description: 'EC2 key pair (optional; the ssh keys are in the Ignition config)' },
      ...pw.variable,
    },
    locals: {
      fcos_amis: amis,
      ami: '${var.ami != "" ? var.ami : local.fcos_amis[var.region]}',
      cnvm: describeDesired(s),
      ...pw.local,
    },
    data: { aws_subnet: { pmm: { id: '${var.subnet_id}' } } },
    resource: mergeResources(
      {
        aws_security_group: { pmm: { name: `${s.name}-pmm`, description: `PMM over HTTPS and ssh for ${s.name} (exported by cnvm)`, vpc_id: '${data.aws_subnet.pmm.vpc_id}', tags: tags({ Name: `${s.name}-pmm` }) } },
        aws_vpc_security_group_ingress_rule: ingress,
        aws_ebs_volume: {
          data: {
            availability_zone: '${data.aws_subnet.pmm.availability_zone}',
            size: '${var.data_size_gib}',
            type: volume.VolumeType,
            encrypted: volume.Encrypted,
            tags: tags(volumeTags),
            // The PMM data: `terraform destroy` and any plan that would replace it stop with an error.
            lifecycle: { prevent_destroy: true },
          },
        },
        aws_instance: {
          pmm: {
            ami: '${local.ami}',
            instance_type: '${var.instance_type}',
            subnet_id: '${var.subnet_id}',
            vpc_security_group_ids: ['${aws_security_group.pmm.id}', ...placementList(d, 'security_group')],
            key_name: '${var.key_name}',
            user_data: ignitionTemplate(userData, 'replace(aws_ebs_volume.data.id, "-", "")'),
            metadata_options: { http_endpoint: run.MetadataOptions.HttpEndpoint, http_tokens: run.MetadataOptions.HttpTokens, http_put_response_hop_limit: run.MetadataOptions.HttpPutResponseHopLimit },
            tags: tags({ Name: s.name }),
          },
        },
        aws_volume_attachment: {
          data: {
            device_name: attach.Device,
            volume_id: '${aws_ebs_volume.data.id}',
            instance_id: '${aws_instance.pmm.id}',
            // On a new AMI Terraform detaches first: stopping the old instance makes that a clean unmount.
            stop_instance_before_detaching: true,
          },
        },
        ...(ephemeral
          ? {}
          : {
              aws_eip: { pmm: { domain: 'vpc', tags: tags({ Name: `${s.name}-address` }) } },
              aws_eip_association: { pmm: { allocation_id: '${aws_eip.pmm.id}', instance_id: '${aws_instance.pmm.id}' } },
            }),
      },
      pw.resource,
    ),
    output: {
      pmm_url: { value: `https://${ip}/`, description: ephemeral ? "PMM web UI and API (the instance's own public IP: it changes when the instance is replaced)" : 'PMM web UI and API (the Elastic IP: stable across instance replacements)' },
      public_ip: { value: ip },
      instance_id: { value: '${aws_instance.pmm.id}' },
      data_volume_id: { value: '${aws_ebs_volume.data.id}', description: 'The PMM data volume' },
      ...pw.output,
    },
  });
}
