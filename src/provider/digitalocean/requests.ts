// Pure builders of the request bodies cnvm sends to DigitalOcean's API v2, and the tags it reads back. Nothing
// here calls the API, so plans (--dry-run) show exactly these bodies.
//
// DigitalOcean has no labels or metadata on droplets and volumes, only tags: names of letters, digits, `-`, `_`
// and `:`, at most 255 characters. cnvm's facts therefore travel as tags `key:value`: `cnvm` (managed),
// `cnvm-vm:<vm>` (the cnvm VM a droplet or volume belongs to, which its firewall targets, so every generation is
// covered), `cnvm-gen:<n>`, `cnvm-image:<id>`, `cnvm-device:<name>` (volumes), and the VM record gzip-compressed,
// base64url-encoded, in numbered chunks `cnvm-rec-<i>:<chunk>`. Reserved IPs take no tags at all: a free-standing
// tag `cnvm-addr:<name>:<ip with dashes>` (tags exist without resources) binds cnvm's name to the IP.
import { gunzipSync, gzipSync } from 'node:zlib';
import { ProviderError } from '../errors.js';
import type { VmSpec, VolumeSpec } from '../types.js';

export const MANAGED_TAG = 'cnvm';
export const TAG = /^[a-zA-Z0-9_:-]{1,255}$/;
const RECORD_PREFIX = 'cnvm-rec-';
const RECORD_CHUNK = 240;
const RECORD_MAX_CHUNKS = 40;

export const ownerTag = (vm: string): string => `cnvm-vm:${vm}`;
export const firewallName = (vm: string): string => `cnvm-${vm}`;
export const addressTag = (name: string, ip: string): string => `cnvm-addr:${name}:${ip.replace(/\./g, '-')}`;
export const addressTagPrefix = (name: string): string => `cnvm-addr:${name}:`;

/** The tag's value for `key` (`key:value`), or undefined. */
export function tagValue(tags: readonly string[] | undefined, key: string): string | undefined {
  const t = (tags ?? []).find((x) => x.startsWith(`${key}:`));
  return t === undefined ? undefined : t.slice(key.length + 1);
}

/** The IP a `cnvm-addr:` tag names, back from its dashed form. */
export const ipOfAddressTag = (tag: string): string => tag.slice(tag.lastIndexOf(':') + 1).replace(/-/g, '.');

export function recordTags(record: string): string[] {
  const encoded = gzipSync(record, { level: 9 }).toString('base64url');
  const chunks = Math.ceil(encoded.length / RECORD_CHUNK);
  if (chunks > RECORD_MAX_CHUNKS) throw new ProviderError('invalid', `cnvm's VM record is ${encoded.length} bytes encoded; at most ${RECORD_MAX_CHUNKS * RECORD_CHUNK} fit in DigitalOcean tags`);
  return Array.from({ length: chunks }, (_, i) => `${RECORD_PREFIX}${i}:${encoded.slice(i * RECORD_CHUNK, (i + 1) * RECORD_CHUNK)}`);
}

/** The record back from a droplet's tags; undefined when there is none or it is damaged (treated as absent). */
export function recordFromTags(tags: readonly string[] | undefined): string | undefined {
  const parts = (tags ?? [])
    .map((t) => /^cnvm-rec-(\d+):(.*)$/.exec(t))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]));
  if (parts.length === 0) return undefined;
  try {
    return gunzipSync(Buffer.from(parts.map((m) => m[2]).join(''), 'base64url')).toString('utf8');
  } catch {
    return undefined;
  }
}

/** An image as the droplet create call takes it: a number for a custom image id, else a slug. */
export const imageParam = (id: string): number | string => (/^\d+$/.test(id) ? Number(id) : id);

export interface DoPlacement {
  region: string;
  /** Droplet size slug (default s-2vcpu-4gb: PMM 3's minimum of 2 vCPUs and 4 GB). */
  size?: string;
  vpcUuid?: string;
  /** More tags for every droplet (e.g. a project's own). */
  extraTags?: string[];
}

export const DEFAULT_SIZE = 's-2vcpu-4gb';

export function doRequests(o: DoPlacement) {
  return {
    volumeCreate: (spec: VolumeSpec) => ({
      name: spec.name,
      size_gigabytes: spec.sizeGiB,
      region: o.region,
      description: `cnvm data volume${spec.vmName ? ` of ${spec.vmName}` : ''}; never formatted or deleted by cnvm unless asked`,
      // No filesystem_type: DigitalOcean would format it; the guest's Ignition config decides that, once.
      tags: [MANAGED_TAG, `cnvm-device:${spec.deviceName}`, ...(spec.vmName ? [ownerTag(spec.vmName)] : [])],
    }),

    dropletCreate: (spec: VmSpec, userData: string, volumeUuid?: string) => ({
      name: spec.name,
      region: o.region,
      size: o.size ?? DEFAULT_SIZE,
      image: imageParam(spec.image.id),
      user_data: userData,
      ipv6: false,
      monitoring: false,
      backups: false,
      ...(o.vpcUuid ? { vpc_uuid: o.vpcUuid } : {}),
      ...(volumeUuid ? { volumes: [volumeUuid] } : {}),
      tags: [
        MANAGED_TAG,
        ownerTag(spec.owner?.name ?? spec.name),
        ...(spec.owner ? [`cnvm-gen:${spec.owner.generation}`] : []),
        `cnvm-image:${spec.image.id}`,
        ...(o.extraTags ?? []),
        ...(spec.record ? recordTags(spec.record) : []),
      ],
    }),

    dropletAction: (type: 'power_on' | 'shutdown' | 'power_off') => ({ type }),

    volumeAction: (type: 'attach' | 'detach', dropletId: number) => ({ type, droplet_id: dropletId, region: o.region }),

    reservedIpCreate: () => ({ region: o.region }),
    reservedIpAssign: (dropletId: number) => ({ type: 'assign', droplet_id: dropletId }),
    reservedIpUnassign: () => ({ type: 'unassign' }),

    /** The VM's own firewall: 443 and 22 from `sources`, everything out (a DigitalOcean firewall without outbound rules drops all egress). */
    firewall: (vm: string, sources: string[]) => ({
      name: firewallName(vm),
      inbound_rules: ['443', '22'].map((ports) => ({ protocol: 'tcp', ports, sources: { addresses: sources } })),
      outbound_rules: [
        { protocol: 'tcp', ports: '0', destinations: { addresses: ['0.0.0.0/0', '::/0'] } },
        { protocol: 'udp', ports: '0', destinations: { addresses: ['0.0.0.0/0', '::/0'] } },
        { protocol: 'icmp', destinations: { addresses: ['0.0.0.0/0', '::/0'] } },
      ],
      tags: [ownerTag(vm)],
    }),

    tagCreate: (name: string) => ({ name }),
  };
}

export type DoRequests = ReturnType<typeof doRequests>;
