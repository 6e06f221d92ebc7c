// Pure request builders for the Compute Engine API: what --dry-run prints and what the GCE adapter sends. Every
// builder's output is checked against the client's own protos by test/provider/gcp-requests.test.ts, because the
// REST client drops a misspelt field without a word.
import type { VmSpec, VolumeSpec } from '../types.js';

export const MANAGED_LABEL = 'cnvm-managed';
/** GCE's name rule (RFC 1035): instances, disks, addresses, firewalls, network tags. */
export const GCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** The access config GCE and gcloud name by default; cnvm names its own the same. */
export const EXTERNAL_NAT = 'External NAT';
export const NIC0 = 'nic0';
/** Opened to the allowed sources: PMM's HTTPS, and ssh for the operator. */
export const PMM_PORTS = ['443', '22'];

export interface GcpPlacement {
  project: string;
  zone: string;
  machineType?: string;
  /** VPC network (default `default`); with a subnetwork of a custom VPC, the subnetwork's network. */
  network?: string;
  subnetwork?: string;
  /** Extra network tags, besides the per-VM tag its firewall rule targets. */
  tags?: string[];
  diskType?: string;
  /** `static` (default): the instance gets no external IP of its own; a reserved address is assigned to it. */
  address?: 'static' | 'ephemeral';
}

type Json = Record<string, unknown>;

/** The region of a zone (`europe-west1-b` → `europe-west1`). */
export const regionOf = (zone: string): string => zone.replace(/-[a-z]$/, '');

/** An RFC 1035 name made of a prefix and cnvm's VM name, cut to 63 characters without a trailing dash. */
const gceName = (text: string): string => text.slice(0, 63).replace(/-+$/, '');
/** The network tag on every generation of a cnvm VM: its firewall rule targets this tag. */
export const vmTag = (vm: string): string => gceName(`cnvm-${vm}`);
/** The per-VM firewall rule letting the allowed sources reach PMM (443) and ssh (22). */
export const firewallName = (vm: string): string => gceName(`cnvm-${vm}-allow`);

/** A network or subnetwork given by name or by a partial/full URL, as a URL relative to the API. */
function resourceUrl(value: string, prefix: string): string {
  if (value.includes('/')) return value.replace(/^https:\/\/(www|compute)\.googleapis\.com\/compute\/v1\//, '');
  return `${prefix}/${value}`;
}

export function gcpRequests(o: GcpPlacement) {
  const zoneUrl = `projects/${o.project}/zones/${o.zone}`;
  const region = regionOf(o.zone);
  const networkUrl = resourceUrl(o.network ?? 'default', `projects/${o.project}/global/networks`);
  // A subnetwork determines its network; naming `default` beside a custom VPC's subnetwork is refused by GCE, so
  // the network is sent only when the user named one or there is no subnetwork.
  const nic: Json = {
    ...(o.network || !o.subnetwork ? { network: networkUrl } : {}),
    ...(o.subnetwork ? { subnetwork: resourceUrl(o.subnetwork, `projects/${o.project}/regions/${region}/subnetworks`) } : {}),
  };
  const instance = (name: string): Json => ({ project: o.project, zone: o.zone, instance: name });
  const labelsOf = (owner?: string): Record<string, string> => ({ [MANAGED_LABEL]: 'true', ...(owner ? { 'cnvm-owner': owner } : {}) });

  return {
    diskInsert: (spec: VolumeSpec): Json => ({
      project: o.project,
      zone: o.zone,
      diskResource: {
        name: spec.name,
        sizeGb: String(spec.sizeGiB),
        type: `${zoneUrl}/diskTypes/${o.diskType ?? 'pd-balanced'}`,
        labels: { [MANAGED_LABEL]: 'true', ...(spec.vmName ? { 'cnvm-vm': spec.vmName } : {}), 'cnvm-device': spec.deviceName },
      },
    }),
    instanceInsert: (spec: VmSpec, userData: string, dataDisk?: { name: string; deviceName: string }): Json => {
      const vm = spec.owner?.name ?? spec.name;
      return {
        project: o.project,
        zone: o.zone,
        instanceResource: {
          name: spec.name,
          machineType: `${zoneUrl}/machineTypes/${o.machineType ?? 'e2-standard-4'}`,
          // Labels hold the owner (values: lowercase, ≤ 63 characters, as cnvm's names are); the record is metadata.
          labels: { [MANAGED_LABEL]: 'true', ...(spec.owner ? { 'cnvm-owner': spec.owner.name, 'cnvm-generation': String(spec.owner.generation) } : {}) },
          tags: { items: [vmTag(vm), ...(o.tags ?? [])] },
          disks: [
            { boot: true, autoDelete: true, initializeParams: { sourceImage: spec.image.id, diskSizeGb: '20' } },
            ...(dataDisk ? [{ source: `${zoneUrl}/disks/${dataDisk.name}`, deviceName: dataDisk.deviceName, mode: 'READ_WRITE', autoDelete: false }] : []),
          ],
          // Static: no external IP until the reserved one is assigned, so the instance never answers on another.
          networkInterfaces: [{ ...nic, ...(o.address === 'ephemeral' ? { accessConfigs: [{ name: EXTERNAL_NAT, type: 'ONE_TO_ONE_NAT' }] } : {}) }],
          metadata: { items: [{ key: 'user-data', value: userData }, { key: 'cnvm-image', value: spec.image.id }, ...(spec.record ? [{ key: 'cnvm-record', value: spec.record }] : [])] },
        },
      };
    },
    attachDisk: (vm: string, disk: string, deviceName: string): Json => ({
      ...instance(vm),
      attachedDiskResource: { source: `${zoneUrl}/disks/${disk}`, deviceName, mode: 'READ_WRITE', autoDelete: false },
    }),
    detachDisk: (vm: string, deviceName: string): Json => ({ ...instance(vm), deviceName }),
    setDiskAutoDelete: (vm: string, deviceName: string): Json => ({ ...instance(vm), deviceName, autoDelete: false }),
    /** Replaces the instance's metadata; GCE refuses it unless `fingerprint` is the one it last returned. */
    setMetadata: (vm: string, fingerprint: string, items: { key: string; value: string }[]): Json => ({ ...instance(vm), metadataResource: { fingerprint, items } }),
    firewallInsert: (vm: string, sourceRanges: string[]): Json => ({
      project: o.project,
      firewallResource: {
        name: firewallName(vm),
        network: networkUrl,
        direction: 'INGRESS',
        allowed: [{ IPProtocol: 'tcp', ports: PMM_PORTS }],
        sourceRanges,
        targetTags: [vmTag(vm)],
        description: `PMM (443) and ssh (22) to cnvm VM ${vm}`,
      },
    }),
    /** Only the source ranges change; firewalls.patch leaves the other fields as they are. */
    firewallPatch: (vm: string, sourceRanges: string[]): Json => ({ project: o.project, firewall: firewallName(vm), firewallResource: { sourceRanges } }),
    firewall: (vm: string): Json => ({ project: o.project, firewall: firewallName(vm) }),
    addressInsert: (name: string, owner: string): Json => ({
      project: o.project,
      region,
      addressResource: { name, addressType: 'EXTERNAL', networkTier: 'PREMIUM', labels: labelsOf(owner), description: `stable address of cnvm VM ${owner}` },
    }),
    address: (name: string): Json => ({ project: o.project, region, address: name }),
    addAccessConfig: (vm: string, natIP: string): Json => ({ ...instance(vm), networkInterface: NIC0, accessConfigResource: { name: EXTERNAL_NAT, type: 'ONE_TO_ONE_NAT', natIP, networkTier: 'PREMIUM' } }),
    deleteAccessConfig: (vm: string, accessConfig: string, networkInterface = NIC0): Json => ({ ...instance(vm), accessConfig, networkInterface }),
    instance,
    disk: (disk: string): Json => ({ project: o.project, zone: o.zone, disk }),
    list: (filter: string): Json => ({ project: o.project, zone: o.zone, filter }),
    addressList: (filter: string): Json => ({ project: o.project, region, filter }),
  };
}

export type GcpRequests = ReturnType<typeof gcpRequests>;
