// Inline and local contents become `data:` URLs the way butane encodes them: the shortest of percent-encoding,
// base64, and (when the user set no compression) gzip+base64, the last one paying for the 4 bytes of "gzip".
import { gzipSync } from 'node:zlib';

const UNRESERVED = /[A-Za-z0-9\-_.!~*'()]/;

/** Percent-encodes every byte outside RFC 2396's unreserved set, with uppercase hex. */
export function percentEncode(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export interface DataUrl {
  source: string;
  /**
   * The compression to record: `''` or `'gzip'` when butane would set it, undefined when the user chose a
   * compression (their value stays).
   */
  compression?: string;
}

export function makeDataUrl(contents: Uint8Array, userCompression: string | null | undefined, allowCompression = true): DataUrl {
  const userCompressed = userCompression !== undefined && userCompression !== null && userCompression !== '';
  let opaque = `,${percentEncode(contents)}`;
  const b64 = `;base64,${Buffer.from(contents).toString('base64')}`;
  if (b64.length < opaque.length) opaque = b64;
  let compression: string | undefined = userCompressed ? undefined : '';
  if (!userCompressed && allowCompression) {
    const gz = `;base64,${gzipSync(contents, { level: 9 }).toString('base64')}`;
    if (gz.length + 'gzip'.length < opaque.length) {
      opaque = gz;
      compression = 'gzip';
    }
  }
  return { source: `data:${opaque}`, ...(compression !== undefined ? { compression } : {}) };
}

/** fcos 1.0 (Ignition 3.0) predates butane's encoding choice: always percent-encoded, no compression field. */
export function makePlainDataUrl(contents: Uint8Array): string {
  return `data:,${percentEncode(contents)}`;
}
