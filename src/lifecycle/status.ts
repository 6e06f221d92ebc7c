// `cnvm status`: the VM and its data volume as the provider reports them.
import type { Provider, VmInfo, Volume } from '../provider/types.js';
import { currentVm, dataVolumeName, generations } from './names.js';

export interface Status {
  name: string;
  /** The current generation: the VM holding the data volume. */
  vm?: VmInfo;
  volume?: Volume;
  /** Other generations still present (e.g. kept with --keep-old). */
  others: string[];
}

export async function status(provider: Provider, name: string): Promise<Status> {
  const [vm, volume, all] = await Promise.all([currentVm(provider, name), provider.findVolume(dataVolumeName(name)), generations(provider, name)]);
  return { name, ...(vm ? { vm } : {}), ...(volume ? { volume } : {}), others: all.map((v) => v.name).filter((n) => n !== vm?.name) };
}
