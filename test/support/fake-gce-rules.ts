// The checks the fake Compute API makes on what it is sent, each as the Compute API reference states it:
// resource names (RFC 1035: `[a-z]([-a-z0-9]{0,61}[a-z0-9])?`), labels (≤ 64; keys 1–63 characters starting with a
// lowercase letter, values 0–63, both only lowercase letters, digits, `_` and `-`), network tags (RFC 1035), zones,
// regions and machine types that exist, exactly one boot disk, CIDR source ranges. Each returns GCE's reason and
// message, or undefined when the value is fine.

export interface Refusal {
  reason: string;
  message: string;
}

/** A small catalogue standing in for zones.list / machineTypes.list / diskTypes.list. */
export const KNOWN_ZONES = ['europe-west1-b', 'europe-west1-c', 'europe-west1-d', 'us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'];
export const KNOWN_MACHINE_TYPES = ['e2-micro', 'e2-small', 'e2-medium', 'e2-standard-2', 'e2-standard-4', 'e2-standard-8', 'n2-standard-2', 'n2-standard-4', 'n2-standard-8', 'c3-standard-4'];
export const KNOWN_DISK_TYPES = ['pd-standard', 'pd-balanced', 'pd-ssd', 'hyperdisk-balanced'];
export const regionOfZone = (zone: string): string => zone.replace(/-[a-z]$/, '');
export const KNOWN_REGIONS = [...new Set(KNOWN_ZONES.map(regionOfZone))];

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([0-9]|[12]\d|3[0-2])$/;

const invalid = (message: string): Refusal => ({ reason: 'invalid', message });

export function checkName(field: string, name: unknown): Refusal | undefined {
  if (typeof name !== 'string' || !NAME.test(name)) {
    return invalid(`Invalid value for field '${field}': ${JSON.stringify(name)}. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`);
  }
  return undefined;
}

export function checkLabels(field: string, labels: unknown): Refusal | undefined {
  if (labels === undefined) return undefined;
  const entries = Object.entries((labels ?? {}) as Record<string, unknown>);
  if (entries.length > 64) return invalid(`Invalid value for field '${field}': at most 64 labels, got ${entries.length}`);
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) return invalid(`Invalid value for field '${field}': label key ${JSON.stringify(key)} must start with a lowercase letter and hold only lowercase letters, digits, '_' and '-' (≤ 63)`);
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) return invalid(`Invalid value for field '${field}': label value ${JSON.stringify(value)} of ${key} may hold only lowercase letters, digits, '_' and '-' (≤ 63)`);
  }
  return undefined;
}

export function checkTags(field: string, tags: unknown): Refusal | undefined {
  for (const tag of ((tags ?? {}) as { items?: unknown[] }).items ?? []) {
    const bad = checkName(`${field}.items`, tag);
    if (bad) return bad;
  }
  return undefined;
}

/** `zones/Z/machineTypes/T` (full or partial URL) naming a type that exists in the instance's zone. */
export function checkMachineType(zone: string, url: unknown): Refusal | undefined {
  const m = typeof url === 'string' ? /(?:^|\/)zones\/([^/]+)\/machineTypes\/([^/]+)$/.exec(url) : null;
  if (!m) return invalid(`Invalid value for field 'resource.machineType': ${JSON.stringify(url)}. Must be a URL to a machine type resource`);
  if (m[1] !== zone) return invalid(`Invalid value for field 'resource.machineType': ${JSON.stringify(url)}. Machine type must be in zone ${zone}`);
  if (!KNOWN_MACHINE_TYPES.includes(m[2] as string)) return { reason: 'notFound', message: `The resource 'projects/p/zones/${zone}/machineTypes/${m[2]}' was not found` };
  return undefined;
}

export function checkDiskType(zone: string, url: unknown): Refusal | undefined {
  if (url === undefined) return undefined;
  const m = typeof url === 'string' ? /(?:^|\/)zones\/([^/]+)\/diskTypes\/([^/]+)$/.exec(url) : null;
  if (!m || m[1] !== zone || !KNOWN_DISK_TYPES.includes(m[2] as string)) return invalid(`Invalid value for field 'resource.type': ${JSON.stringify(url)}. Disk type must be one of ${KNOWN_DISK_TYPES.join(', ')} in zone ${zone}`);
  return undefined;
}

interface AttachedDiskBody {
  boot?: boolean;
  source?: string;
  initializeParams?: { sourceImage?: string; diskSizeGb?: string };
}

/** Exactly one boot disk, made from an image (or an existing disk); every other disk an existing disk's source. */
export function checkDisks(disks: AttachedDiskBody[] | undefined): Refusal | undefined {
  const boot = (disks ?? []).filter((d) => d.boot);
  if (boot.length !== 1) return invalid(`Invalid value for field 'resource.disks': exactly one boot disk is required, got ${boot.length}`);
  const image = boot[0]?.initializeParams?.sourceImage;
  if (!boot[0]?.source && !(typeof image === 'string' && /(^|\/)projects\/[a-z][-a-z0-9.:]*\/global\/images\/(family\/)?[a-z][-a-z0-9]*$/.test(image))) {
    return invalid(`Invalid value for field 'resource.disks[0].initializeParams.sourceImage': ${JSON.stringify(image)}. Must be a URL to an image resource`);
  }
  const data = (disks ?? []).filter((d) => !d.boot);
  const i = data.findIndex((d) => !d.source || d.initializeParams);
  if (i >= 0) return invalid(`Invalid value for field 'resource.disks[${i + 1}]': a non-boot disk here needs the source of an existing disk`);
  return undefined;
}

export function checkCidrs(field: string, ranges: unknown): Refusal | undefined {
  if (!Array.isArray(ranges) || ranges.length === 0) return invalid(`Invalid value for field '${field}': at least one source range is required`);
  const bad = ranges.find((r) => typeof r !== 'string' || !CIDR.test(r));
  return bad === undefined ? undefined : invalid(`Invalid value for field '${field}': ${JSON.stringify(bad)}. Must be an IPv4 CIDR range`);
}

/** Metadata: each value ≤ 256 KiB, all of it ≤ 512 KiB, keys unique and `[a-zA-Z0-9-_]{1,128}`. */
export function checkMetadata(items: { key?: string; value?: string }[] | undefined): Refusal | undefined {
  let total = 0;
  const seen = new Set<string>();
  for (const item of items ?? []) {
    const key = item.key ?? '';
    if (!/^[a-zA-Z0-9_-]{1,128}$/.test(key) || seen.has(key)) return invalid(`Invalid value for field 'resource.metadata': key ${JSON.stringify(key)} is invalid or repeated`);
    seen.add(key);
    const size = Buffer.byteLength(item.value ?? '');
    if (size > 256 * 1024) return invalid(`Invalid value for field 'resource.metadata': the value of ${key} is ${size} bytes, more than 262144`);
    total += size + Buffer.byteLength(key);
  }
  return total > 512 * 1024 ? invalid(`Invalid value for field 'resource.metadata': ${total} bytes in all, more than 524288`) : undefined;
}
