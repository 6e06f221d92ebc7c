// Carrying cnvm's VM record in cloud tags: EC2 tag values hold at most 256 characters and a resource at most 50
// tags, so the record travels gzip-compressed, base64-encoded, in numbered chunks (`cnvm:record:0`, `:1`, …).
import { gunzipSync, gzipSync } from 'node:zlib';
import { ProviderError } from './errors.js';

const CHUNK = 255;
/** EC2's 50 tags per resource, less the ones cnvm sets itself (Name, managed, device/image, owner, generation). */
const MAX_CHUNKS = 40;

export function recordToTags(prefix: string, record: string): Record<string, string> {
  const encoded = gzipSync(record, { level: 9 }).toString('base64');
  const chunks = Math.ceil(encoded.length / CHUNK);
  if (chunks > MAX_CHUNKS) throw new ProviderError('invalid', `cnvm's VM record is ${encoded.length} bytes encoded; at most ${MAX_CHUNKS * CHUNK} fit in tags`);
  const tags: Record<string, string> = {};
  for (let i = 0; i < chunks; i++) tags[`${prefix}${i}`] = encoded.slice(i * CHUNK, (i + 1) * CHUNK);
  return tags;
}

/** The record back from a resource's tags; undefined when there is none or it is damaged (treated as absent). */
export function recordFromTags(prefix: string, tags: readonly { Key?: string; Value?: string }[] | undefined): string | undefined {
  const parts = (tags ?? [])
    .filter((t) => t.Key?.startsWith(prefix) && /^\d+$/.test(t.Key.slice(prefix.length)))
    .sort((a, b) => Number(a.Key?.slice(prefix.length)) - Number(b.Key?.slice(prefix.length)));
  if (parts.length === 0) return undefined;
  try {
    return gunzipSync(Buffer.from(parts.map((p) => p.Value ?? '').join(''), 'base64')).toString('utf8');
  } catch {
    return undefined;
  }
}
