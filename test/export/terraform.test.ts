// `cnvm export terraform --provider aws|gcp|libvirt`: each file checked against the providers' published schemas
// (hand-written fixtures, provider versions in each file), against golden files, and for what it keeps: the data
// volume protected by prevent_destroy, the device naming the Ignition config mounts, the stable address, no secret.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportTargets, exportVm, fillIgnition, PASSWORD_SENTINEL, type ExportInput } from '../../src/export/index.js';
import { renderVmConfig } from '../../src/lifecycle/config.js';
import { createAwsProvider } from '../../src/provider/aws/adapter.js';
import { createDigitalOceanProvider } from '../../src/provider/digitalocean/adapter.js';
import { createGcpProvider } from '../../src/provider/gcp/adapter.js';
import { createLibvirtProvider } from '../../src/provider/libvirt/adapter.js';
import { desired, FIXTURES, fixtureImages, SSH_KEY } from './helpers.js';
import { checkTerraform, evaluateIgnitionTemplate, loadSchema } from './tf-schema.js';

const schemas = { aws: loadSchema('aws'), google: loadSchema('google'), libvirt: loadSchema('libvirt'), digitalocean: loadSchema('digitalocean'), random: loadSchema('random') };
const placement = { region: 'eu-west-1', project: 'pmm-project', zone: 'europe-west1-b', allow_from: ['203.0.113.7/32'] };
const input = (extra: Partial<ExportInput> = {}): ExportInput => ({ name: 'pmm1', desired: desired(placement), imagePinned: false, password: 'secret', images: fixtureImages(), ...extra });

type Doc = { resource: Record<string, Record<string, Record<string, unknown>>>; variable: Record<string, { default?: unknown }>; output: Record<string, { value: string; sensitive?: boolean }> };

function golden(file: string, doc: unknown): void {
  const path = `${FIXTURES}golden/${file}`;
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

describe('terraform export', () => {
  for (const [target, file] of [
    ['terraform-aws', 'pmm1-aws.tf.json'],
    ['terraform-gcp', 'pmm1-gcp.tf.json'],
    ['terraform-libvirt', 'pmm1-libvirt.tf.json'],
    ['terraform-digitalocean', 'pmm1-digitalocean.tf.json'],
  ] as const) {
    it(`${target}: matches the provider schemas and the golden file`, async () => {
      const { document } = await exportVm(target, input(target === 'terraform-libvirt' ? { desired: desired(placement, '/var/lib/images/fcos.qcow2'), imagePinned: true } : {}));
      expect(checkTerraform(document, schemas)).toEqual([]);
      golden(file, document);
      const variants = [input({ password: 'none' }), input({ desired: { ...desired({ ...placement, machine_type: 'n2-standard-4', subnet: 'sub-1', key_name: 'ops', network: 'none', security_group: 'sg-0abc', virt_type: 'qemu' }), memoryMiB: 8192, cpus: 4 } })];
      for (const v of variants) expect(checkTerraform((await exportVm(target, v)).document, schemas)).toEqual([]);
      expect(JSON.stringify(document)).not.toContain(PASSWORD_SENTINEL);
      // Terraform owns these resources: none carries cnvm's ownership mark.
      expect(JSON.stringify(document)).not.toMatch(/cnvm[:-]managed/);
    });
  }

  it('--address ephemeral: no reserved address in either cloud file; the URL is the instance\'s own IP', async () => {
    const ephemeral = input({ desired: desired({ ...placement, address: 'ephemeral' }) });
    const aws = (await exportVm('terraform-aws', ephemeral)).document as unknown as Doc;
    expect(checkTerraform(aws, schemas)).toEqual([]);
    expect(Object.keys(aws.resource)).not.toContain('aws_eip');
    expect(Object.keys(aws.resource)).not.toContain('aws_eip_association');
    expect(aws.output.pmm_url?.value).toBe('https://${aws_instance.pmm.public_ip}/');
    const gcp = (await exportVm('terraform-gcp', ephemeral)).document as unknown as Doc;
    expect(checkTerraform(gcp, schemas)).toEqual([]);
    expect(Object.keys(gcp.resource)).not.toContain('google_compute_address');
    expect((gcp.resource.google_compute_instance?.pmm?.network_interface as { access_config: unknown[] }[])[0]?.access_config).toEqual([{}]);
    expect(gcp.output.pmm_url?.value).toBe('https://${google_compute_instance.pmm.network_interface[0].access_config[0].nat_ip}/');
    // The default keeps the stable address.
    expect(Object.keys(((await exportVm('terraform-aws', input())).document as unknown as Doc).resource)).toContain('aws_eip');
  });

  it('aws: prevent_destroy volume, attachment as /dev/sdf, Elastic IP association, user data evaluates to the rendered Ignition', async () => {
    const { document, subject } = await exportVm('terraform-aws', input());
    const doc = document as unknown as Doc;
    expect(doc.resource.aws_ebs_volume?.data).toMatchObject({ type: 'gp3', encrypted: true, lifecycle: { prevent_destroy: true } });
    expect(doc.resource.aws_volume_attachment?.data).toMatchObject({ device_name: '/dev/sdf', stop_instance_before_detaching: true });
    expect(doc.resource.aws_eip_association?.pmm).toEqual({ allocation_id: '${aws_eip.pmm.id}', instance_id: '${aws_instance.pmm.id}' });
    expect(doc.output.pmm_url?.value).toBe('https://${aws_eip.pmm.public_ip}/');
    expect(doc.output.admin_password?.sensitive).toBe(true);
    // IMDSv2 only, hop limit 1: the provision request's metadata options.
    expect(doc.resource.aws_instance?.pmm?.metadata_options).toEqual({ http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 });
    const userData = doc.resource.aws_instance?.pmm?.user_data as string;
    const values = { volumeSerial: 'vol0123456789abcdef0', adminPassword: 'a b+c%d/é' };
    expect(evaluateIgnitionTemplate(userData, values)).toBe(fillIgnition(subject.ignition.pieces, { volumeSerial: values.volumeSerial, adminPassword: encodeURIComponent(values.adminPassword) }));
  });

  it('aws: a config over 16 KB becomes the compressed wrapper, the volume serial outside it', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => `${SSH_KEY.split(' ').slice(0, 2).join(' ')} key${i}@example`);
    const { document } = await exportVm('terraform-aws', input({ desired: { ...desired(placement), sshKeys: keys } }));
    expect(checkTerraform(document, schemas)).toEqual([]);
    const userData = evaluateIgnitionTemplate((document as unknown as Doc).resource.aws_instance?.pmm?.user_data as string, { volumeSerial: 'vol0123456789abcdef0', adminPassword: 'Secret123' });
    expect(Buffer.byteLength(userData)).toBeLessThanOrEqual(16 * 1024);
    const outer = JSON.parse(userData) as { ignition: { config: { merge: { compression: string }[] } }; storage: { disks: { device: string }[] } };
    expect(outer.ignition.config.merge[0]?.compression).toBe('gzip');
    expect(outer.storage.disks[0]?.device).toBe('/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0');
  });

  it('gcp: attached_disk with the device name, static address, prevent_destroy disk', async () => {
    const { document, subject } = await exportVm('terraform-gcp', input());
    const doc = document as unknown as Doc;
    const instance = doc.resource.google_compute_instance?.pmm as { attached_disk: { device_name: string }[]; network_interface: { access_config: { nat_ip: string }[] }[]; metadata: Record<string, string> };
    expect(instance.attached_disk[0]?.device_name).toBe('pmm-data');
    expect(instance.network_interface[0]?.access_config[0]?.nat_ip).toBe('${google_compute_address.pmm.address}');
    expect(doc.resource.google_compute_disk?.data).toMatchObject({ type: 'pd-balanced', lifecycle: { prevent_destroy: true } });
    expect(doc.variable.image?.default).toBe('projects/fedora-coreos-cloud/global/images/fedora-coreos-43-20261110-3-0-gcp-x86-64');
    const ignition = evaluateIgnitionTemplate(instance.metadata['user-data'] as string, { adminPassword: 'Secret123' });
    expect(ignition).toBe(fillIgnition(subject.ignition.pieces, { volumeSerial: '', adminPassword: 'Secret123' }));
    expect(ignition).toContain('/dev/disk/by-id/google-pmm-data');
  });

  it('digitalocean: droplet with the volume in volume_ids, never formatted, prevent_destroy, reserved IP assignment, firewall for 443/22', async () => {
    const { document, subject } = await exportVm('terraform-digitalocean', input({ desired: desired({ ...placement, region: 'fra1' }) }));
    const doc = document as unknown as Doc;
    expect(doc.variable.region?.default).toBe('fra1');
    expect(doc.resource.digitalocean_volume?.data).toMatchObject({ name: 'pmm1-data', lifecycle: { prevent_destroy: true } });
    expect(doc.resource.digitalocean_volume?.data).not.toHaveProperty('initial_filesystem_type');
    const droplet = doc.resource.digitalocean_droplet?.pmm as { volume_ids: string[]; user_data: string; tags: string[] };
    expect(droplet.volume_ids).toEqual(['${digitalocean_volume.data.id}']);
    expect(droplet.tags).toEqual(['cnvm-export:pmm1']);
    expect(doc.resource.digitalocean_reserved_ip_assignment?.pmm).toEqual({ ip_address: '${digitalocean_reserved_ip.pmm.ip_address}', droplet_id: '${digitalocean_droplet.pmm.id}' });
    const fw = doc.resource.digitalocean_firewall?.pmm as { inbound_rule: { port_range: string; source_addresses: string }[] };
    expect(fw.inbound_rule.map((r) => [r.port_range, r.source_addresses])).toEqual([['443', '${var.allowed_cidrs}'], ['22', '${var.allowed_cidrs}']]);
    expect(doc.output.pmm_url?.value).toBe('https://${digitalocean_reserved_ip.pmm.ip_address}/');
    // The guest mounts the volume by its name, as DigitalOcean links it; no placeholder id is left anywhere.
    const ignition = evaluateIgnitionTemplate(droplet.user_data, { adminPassword: 'Secret123' });
    expect(ignition).toContain('/dev/disk/by-id/scsi-0DO_Volume_pmm1-data');
    expect(ignition).not.toContain('feedface');
    expect(ignition).toContain('dev-disk-by\\\\x2did-scsi\\\\x2d0DO_Volume_pmm1\\\\x2ddata');
    expect(fillIgnition(subject.ignition.pieces, { volumeSerial: '', adminPassword: 'Secret123' })).toContain('scsi-0DO_Volume_vol-0feedface0cafe000');
    // Unpinned: no image default (the stream's DigitalOcean image is imported, not listed by id).
    expect(doc.variable.image?.default).toBeUndefined();
  });

  it('libvirt: data volume with prevent_destroy, serial pmm-data through the XSLT, Ignition through fw_cfg, the adapter\'s MAC', async () => {
    const { document } = await exportVm('terraform-libvirt', input({ desired: desired(placement, '/var/lib/images/fcos.qcow2'), imagePinned: true }));
    const doc = document as unknown as Doc;
    expect(doc.resource.libvirt_volume?.data).toMatchObject({ format: 'raw', lifecycle: { prevent_destroy: true } });
    const domain = doc.resource.libvirt_domain?.pmm as { coreos_ignition: string; disk: { volume_id: string }[]; xml: { xslt: string } };
    expect(domain.coreos_ignition).toBe('${libvirt_ignition.pmm.id}');
    expect(domain.disk[1]?.volume_id).toBe('${libvirt_volume.data.id}');
    expect(domain.xml.xslt).toContain('<serial>pmm-data</serial>');
    expect(String(doc.resource.libvirt_ignition?.pmm?.content)).toContain('/dev/disk/by-id/virtio-pmm-data');
    expect(doc.variable.mac?.default).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });

  it('every target names the data disk as provisioning through its provider adapter does', async () => {
    const adapters = {
      aws: createAwsProvider({ region: 'eu-west-1' }),
      gcp: createGcpProvider({ project: 'p', zone: 'europe-west1-b' }),
      libvirt: createLibvirtProvider({ storageDir: '/nonexistent/cnvm' }),
      digitalocean: createDigitalOceanProvider({ endpoint: 'http://127.0.0.1:9', token: 'unused', region: 'fra1' }),
    };
    const volume = { id: 'vol-0123456789abcdef0', deviceName: 'pmm-data' };
    const targets = exportTargets();
    expect(new Set(targets.map((t) => t.provider))).toEqual(new Set(Object.keys(adapters)));
    for (const t of targets) {
      const { ignition } = await renderVmConfig(adapters[t.provider as keyof typeof adapters], volume, desired(), undefined);
      const provisioned = (JSON.parse(ignition) as { storage: { disks: { device: string }[] } }).storage.disks[0]?.device;
      expect(t.disk(volume), t.id).toBe(provisioned);
    }
  });
});
