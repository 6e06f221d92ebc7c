// `cnvm status`: the VM and its data volume as the provider reports them.
import type { Provider, VmInfo, Volume } from '../provider/types.js';
import { dataVolumeName } from './names.js';

export interface Status {
  name: string;
  vm?: VmInfo;
  volume?: Volume;
}

export async function status(provider: Provider, name: string): Promise<Status> {
  const [vm, volume] = await Promise.all([provider.findVm(name), provider.findVolume(dataVolumeName(name))]);
  return { name, ...(vm ? { vm } : {}), ...(volume ? { volume } : {}) };
}
