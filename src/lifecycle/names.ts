// How cnvm names the resources of one PMM VM, the same for every provider. An upgrade creates the next
// generation (`NAME-g2`, `NAME-g3`, …); the current VM is the one holding the data volume.
import type { Provider, VmInfo } from '../provider/types.js';

export const dataVolumeName = (vm: string): string => `${vm}-data`;
/** The name the guest sees the data disk under (virtio serial / GCE deviceName); fixed so configs are reusable. */
export const DATA_DEVICE_NAME = 'pmm-data';

export function generationOf(name: string, vmName: string): number | undefined {
  if (vmName === name) return 1;
  const m = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-g(\\d+)$`).exec(vmName);
  return m ? Number(m[1]) : undefined;
}

export const generationName = (name: string, generation: number): string => (generation <= 1 ? name : `${name}-g${generation}`);

/** Every VM of NAME's generations, oldest first. */
export async function generations(provider: Provider, name: string): Promise<VmInfo[]> {
  const { vms } = await provider.list();
  return vms
    .filter((vm) => generationOf(name, vm.name) !== undefined)
    .sort((a, b) => (generationOf(name, a.name) ?? 0) - (generationOf(name, b.name) ?? 0));
}

/** The VM that holds NAME's data volume; without one attached, the newest generation. */
export async function currentVm(provider: Provider, name: string): Promise<VmInfo | undefined> {
  const volume = await provider.findVolume(dataVolumeName(name));
  if (volume?.attachedTo && generationOf(name, volume.attachedTo) !== undefined) return provider.findVm(volume.attachedTo);
  const all = await generations(provider, name);
  return all[all.length - 1];
}

/** `20G`, `20GiB`, `512M` (rounded up to whole GiB), `1T` → GiB. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(G|GB|GiB|M|MB|MiB|T|TB|TiB)?$/i.exec(text.trim());
  if (!m) throw new Error(`invalid size ${JSON.stringify(text)}: use e.g. 20G`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'G').toUpperCase()[0];
  const gib = unit === 'T' ? n * 1024 : unit === 'M' ? n / 1024 : n;
  const whole = Math.ceil(gib);
  if (whole < 1) throw new Error(`size ${text} is below 1 GiB`);
  return whole;
}
