// The EC2 Query protocol's plumbing for the fake EC2 server: numbered parameters (`InstanceId.1`), filters, tag
// specifications, XML escaping and EC2's paging rules. No EC2 state here.

export interface Tag {
  key: string;
  value: string;
}

export interface Fault {
  status: number;
  code: string;
  message: string;
}

export const fault = (code: string, message: string, status = 400): Fault => ({ status, code, message });

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
export const items = (xs: string[]): string => xs.map((x) => `<item>${x}</item>`).join('');
export const tagSet = (tags: Tag[]): string => `<tagSet>${items(tags.map((t) => `<key>${esc(t.key)}</key><value>${esc(t.value)}</value>`))}</tagSet>`;

/** `InstanceId.1=a&InstanceId.2=b` → ['a', 'b']. */
export function numbered(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`) as string);
  return out;
}

export interface Filter {
  name: string;
  values: string[];
}

export function filters(params: URLSearchParams): Filter[] {
  const out: Filter[] = [];
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) out.push({ name: params.get(`Filter.${i}.Name`) as string, values: numbered(params, `Filter.${i}.Value`) });
  return out;
}

export function tagSpecs(params: URLSearchParams, resource: string): Tag[] {
  const tags: Tag[] = [];
  for (let i = 1; params.has(`TagSpecification.${i}.ResourceType`); i++) {
    if (params.get(`TagSpecification.${i}.ResourceType`) !== resource) continue;
    for (let j = 1; params.has(`TagSpecification.${i}.Tag.${j}.Key`); j++) {
      tags.push({ key: params.get(`TagSpecification.${i}.Tag.${j}.Key`) as string, value: params.get(`TagSpecification.${i}.Tag.${j}.Value`) ?? '' });
    }
  }
  return tags;
}

/** Every filter matches (AND); within one filter, any value (OR). `tag:K` filters read the tags. */
export function matches(fs: Filter[], tags: Tag[], get: (name: string) => string | string[] | undefined): boolean {
  return fs.every((f) => {
    const v = f.name.startsWith('tag:') ? tags.find((t) => t.key === f.name.slice(4))?.value : get(f.name);
    const vs = Array.isArray(v) ? v : v === undefined ? [] : [v];
    return vs.some((x) => f.values.includes(x));
  });
}

/**
 * EC2's paging (API reference, Describe* actions that page): MaxResults 5–1000, NextToken for the next page, and
 * MaxResults cannot be combined with a list of ids. As on EC2, a page is cut before the filters apply, so a
 * filtered page may be short or empty and still carry a NextToken: clients must follow it. `maxPage` caps a page
 * lower, as EC2 may, so paging clients are exercised with few resources. Without MaxResults everything comes at once.
 */
export function page<T>(all: T[], keep: (x: T) => boolean, p: URLSearchParams, ids: string[], maxPage: number): { items: T[]; next?: string } | Fault {
  const max = p.get('MaxResults');
  if (max !== null && ids.length) return fault('InvalidParameterCombination', 'The parameter MaxResults cannot be used with the parameter ids');
  if (max !== null && (!/^\d+$/.test(max) || Number(max) < 5 || Number(max) > 1000)) return fault('InvalidParameterValue', `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
  if (max === null) return { items: all.filter(keep) };
  const size = Math.min(Number(max), maxPage);
  const token = p.get('NextToken');
  const start = token === null ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0 || start > all.length) return fault('InvalidNextToken', 'The specified NextToken is not valid.');
  const next = start + size < all.length ? String(start + size) : undefined;
  return { items: all.slice(start, start + size).filter(keep), ...(next ? { next } : {}) };
}

export const isFault = (x: unknown): x is Fault => typeof x === 'object' && x !== null && 'code' in x && 'status' in x;
