// How cnvm names the resources of one PMM VM, the same for every provider.
export const dataVolumeName = (vm: string): string => `${vm}-data`;
/** The name the guest sees the data disk under (virtio serial / GCE deviceName); fixed so configs are reusable. */
export const DATA_DEVICE_NAME = 'pmm-data';

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
