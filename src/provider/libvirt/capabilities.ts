// What cnvm reads from `virsh capabilities`, parsed as XML (fast-xml-parser): the virtualisation types offered for
// x86_64 guests, and the DAC base label (the uid:gid qemu runs as) per type.
import { XMLParser } from 'fast-xml-parser';

type Node = Record<string, unknown>;
const LISTS = new Set(['guest', 'domain', 'secmodel', 'baselabel']);
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false, isArray: (name) => LISTS.has(name) });
const obj = (v: unknown): Node => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function capabilities(xml: string): Node {
  try {
    return obj(obj(parser.parse(xml) as unknown).capabilities);
  } catch {
    return {};
  }
}

/** `kvm`, `qemu`: the domain types libvirt offers for x86_64 guests. */
export function offeredVirtTypes(xml: string): string[] {
  const types = list(capabilities(xml).guest)
    .filter((g) => obj(obj(g).arch)['@_name'] === 'x86_64')
    .flatMap((g) => list(obj(obj(g).arch).domain).map((d) => obj(d)['@_type']));
  return [...new Set(types.filter((t): t is string => typeof t === 'string'))];
}

/** The DAC security model's base label for a domain type (`+64055:+64055`), as numbers. */
export function dacBaseLabel(xml: string, virtType: string): { uid: number; gid: number } | undefined {
  const dac = list(obj(capabilities(xml).host).secmodel).find((m) => obj(m).model === 'dac');
  const label = list(obj(dac).baselabel).find((l) => obj(l)['@_type'] === virtType);
  const value = obj(label)['#text'];
  if (typeof value !== 'string') return undefined;
  const [uid, gid] = value.split(':').map((n) => Number(n.replace(/^\+/, '')));
  return uid !== undefined && gid !== undefined && Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
}
