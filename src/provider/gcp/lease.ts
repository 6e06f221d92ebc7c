// GCE's VM lease: an item `cnvm-lease-<zone>-<vm>` of the project's common instance metadata, its value the holder
// (JSON; no secrets). Why this is atomic: every write of project metadata (projects.setCommonInstanceMetadata)
// carries the fingerprint of the metadata it was computed from, and GCE refuses it (412 conditionNotMet) when the
// metadata changed since, so of two runs that read the same metadata and add the lease, exactly one write lands;
// the other re-reads and finds the lease taken. Removal and renewal are the same fingerprint-checked
// read-modify-write, changing only the lease item (and only while it is still the one read), so other items (ssh
// keys, other VMs' leases) are never lost. The project resource always exists, so the lease can be taken before
// any of the VM's resources do (a first provision).
import { ProviderError } from '../errors.js';
import type { GceApi } from './api.js';
import type { LeaseHolder, LeasePrimitives, StoredLease } from '../types.js';

type Item = { key?: string; value?: string };
type Metadata = { items?: Item[]; fingerprint?: string };

const ATTEMPTS = 8;
export const leaseKey = (zone: string, vm: string): string => `cnvm-lease-${zone}-${vm}`;
const conflict = (err: unknown): boolean => err instanceof ProviderError && /conditionNotMet|fingerprint/i.test(err.message);

function parse(value: string | undefined): StoredLease | undefined {
  if (value === undefined) return undefined;
  try {
    const lease = JSON.parse(value) as LeaseHolder;
    if (typeof lease.token === 'string') return { lease, version: lease.token };
  } catch {
    // not one of ours: treated as expired
  }
  return { lease: { holder: '?', host: '?', pid: 0, command: '?', acquiredAt: '', expiresAt: new Date(0).toISOString(), token: value }, version: value };
}

export function gcpLeases(api: GceApi, project: string, zone: string): LeasePrimitives {
  async function metadata(): Promise<Metadata> {
    const p = await api.call<{ commonInstanceMetadata?: Metadata }>(`projects.get ${project}`, (c) => c.projects.get!({ project }));
    return p?.commonInstanceMetadata ?? {};
  }

  /**
   * Reads the metadata, lets `change` compute the new value of the lease item (undefined: delete it; false: no
   * write), and writes it with the fingerprint read; on a conflict (someone else wrote), starts over.
   */
  async function update(key: string, change: (current: StoredLease | undefined) => string | undefined | false): Promise<boolean> {
    const item = leaseKey(zone, key);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const m = await metadata();
      const items = m.items ?? [];
      const next = change(parse(items.find((i) => i.key === item)?.value));
      if (next === false) return false;
      const rest = items.filter((i) => i.key !== item).map((i) => ({ key: i.key, value: i.value }));
      try {
        await api.mutate(
          `projects.setCommonInstanceMetadata ${item}`,
          (c, r) => c.projects.setCommonInstanceMetadata!(r),
          { project, metadataResource: { fingerprint: m.fingerprint, items: next === undefined ? rest : [...rest, { key: item, value: next }] } },
          'global',
        );
        return true;
      } catch (err) {
        if (!conflict(err)) throw err;
      }
    }
    throw new ProviderError('failed', `project ${project}'s metadata kept changing while cnvm wrote ${item}; try again`);
  }

  return {
    where: (key) => `GCE project metadata ${leaseKey(zone, key)} (${project})`,
    async read(key) {
      const m = await metadata();
      return parse(m.items?.find((i) => i.key === leaseKey(zone, key))?.value);
    },
    create: (key, lease) => update(key, (current) => (current ? false : JSON.stringify(lease))),
    async renew(key, current, lease) {
      const ok = await update(key, (now) => (now?.version === current.version ? JSON.stringify(lease) : false));
      return ok ? { lease, version: lease.token } : undefined;
    },
    async remove(key, current) {
      await update(key, (now) => (now?.version === current.version ? undefined : false));
    },
  };
}
