// `cnvm status`: the VM and its data volume, found from the record (never by scanning other VMs' names).
import { NotFoundError } from '../provider/errors.js';
import type { Provider, VmInfo, Volume } from '../provider/types.js';
import { loadRecord } from './lookup.js';
import { dataVolumeName } from './names.js';
import { currentGeneration, type VmRecord } from './record.js';
import type { StateStore } from './store.js';
import { noUrlReason, pmmUrl } from './url.js';

export interface Status {
  name: string;
  record: VmRecord;
  generation?: number;
  /** The current generation: the VM holding the data volume. */
  vm?: VmInfo;
  volume?: Volume;
  /** Other generations still present (e.g. kept with --keep-old). */
  others: string[];
  /** The PMM URL: the stable address when reserved (whatever the VM's state), else the running VM's address. */
  url?: string;
  /** Why there is no URL, when there is none. */
  urlMissing?: string;
  /** How this provider keeps the address across generations. */
  addressing: string;
}

export async function status(provider: Provider, store: StateStore, name: string): Promise<Status> {
  const record = await loadRecord(provider, store, name);
  if (!record) throw new NotFoundError(`no VM named ${name} on ${provider.name}: cnvm has no record of it here (${store.dir}) and no VM at the provider carries one`);
  const gen = currentGeneration(record);
  const [vm, volume] = await Promise.all([gen ? provider.findVm(gen.vm) : undefined, provider.findVolume(dataVolumeName(name))]);
  const others: string[] = [];
  for (const g of record.generations) {
    if (g.generation === gen?.generation) continue;
    const other = await provider.findVm(g.vm);
    if (other && other.owner?.name !== undefined && other.owner.name !== name) continue;
    if (other) others.push(other.name);
  }
  const url = pmmUrl(vm, record.address);
  return {
    name,
    record,
    ...(gen ? { generation: gen.generation } : {}),
    ...(vm ? { vm } : {}),
    ...(volume ? { volume } : {}),
    others,
    ...(url ? { url } : { urlMissing: noUrlReason(vm) }),
    addressing: provider.addressing.describe,
  };
}
