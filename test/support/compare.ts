// Semantic comparison of Ignition configs as shared/conformance/README.md defines it: key order is free, array
// order is not, and a `data:` URL source compares by its decoded (and gunzipped) bytes.
import { gunzipSync } from 'node:zlib';

export function decodeDataUrl(url: string, compression?: unknown): Buffer | undefined {
  const m = /^data:([^,]*),(.*)$/s.exec(url);
  if (!m) return undefined;
  const meta = m[1] ?? '';
  const body = m[2] ?? '';
  let bytes = meta.endsWith(';base64') ? Buffer.from(body, 'base64') : Buffer.from(decodeURIComponentBytes(body));
  if (compression === 'gzip') bytes = gunzipSync(bytes);
  return bytes;
}

function decodeURIComponentBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Uint8Array.from(out);
}

/** Replaces every resource's data URL by its decoded text and drops `compression`, so equal contents compare equal. */
export function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const decoded = typeof obj.source === 'string' ? decodeDataUrl(obj.source, obj.compression) : undefined;
    for (const key of Object.keys(obj).sort()) {
      if (decoded && key === 'source') out.source = { decodedData: decoded.toString('base64') };
      else if (decoded && key === 'compression') out.compression = '<data url>';
      else out[key] = normalize(obj[key]);
    }
    return out;
  }
  return value;
}
