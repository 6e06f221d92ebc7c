// Ignition's Resource checks (file contents, appended data, merged configs, CAs, key files): the URL, compression,
// verification and HTTP headers, then the headers' and the hash's own checks, in Ignition's order.
import type { ConfigPath } from '../report.js';
import { parseGoUrl, validateUrl } from './go-url.js';
import { Findings, list, nilOrEmpty, obj, ptr, str, type Obj } from './go-values.js';

export const ERR_URL = 'unable to parse url';

function urlNilOk(source: unknown, minor: number): string | undefined {
  return nilOrEmpty(source) ? undefined : validateUrl(source as string, minor);
}

/** Resource (FileContents/ConfigReference/CaReference in 3.0) and its children: headers, then verification. */
export function validateResource(f: Findings, value: unknown, at: ConfigPath, minor: number, kind: 'file' | 'config' | 'ca' = 'file'): void {
  const r = obj(value);
  if (minor === 0 && kind === 'ca') {
    // CaReference.Source is a plain string: an absent one is "" and so has no scheme.
    f.error([...at, 'source'], validateUrl(str(r.source), minor));
  } else {
    if (kind === 'file' || minor > 0) {
      const c = ptr(r.compression);
      if (c !== undefined && c !== '' && c !== 'gzip') f.error([...at, 'compression'], 'invalid compression method');
      const hash = ptr(obj(r.verification).hash);
      if (hash !== undefined && r.source === undefined) f.error([...at, 'verification', 'hash'], 'source must be specified if verification is specified');
    }
    f.error([...at, 'source'], urlNilOk(r.source, minor));
    if (minor > 0) f.error([...at, 'httpHeaders'], headerSchemeError(r));
  }
  if (minor > 0) {
    list(r.httpHeaders).forEach((h, i) => {
      const header = obj(h);
      if (str(header.name) === '') f.error([...at, 'httpHeaders', i, 'name'], "HTTP header name can't be empty");
      if (header.value === '') f.error([...at, 'httpHeaders', i, 'value'], 'unable to parse HTTP header');
    });
  }
  validateHash(f, obj(r.verification).hash, [...at, 'verification', 'hash'], minor);
}

function headerSchemeError(r: Obj): string | undefined {
  if (list(r.httpHeaders).length === 0) return undefined;
  if (nilOrEmpty(r.source)) return ERR_URL;
  const u = parseGoUrl(r.source as string);
  if (!u) return ERR_URL;
  return u.scheme === 'http' || u.scheme === 'https' ? undefined : 'cannot use HTTP headers with this source scheme';
}

/** Verification.Validate: Ignition checks the function and the length of the sum, not its digits. */
function validateHash(f: Findings, value: unknown, at: ConfigPath, minor: number): void {
  const hash = ptr(value);
  if (hash === undefined) return;
  const dash = hash.indexOf('-');
  if (dash < 0) return f.error(at, 'malformed hash specifier');
  const fn = hash.slice(0, dash);
  const size = fn === 'sha512' ? 128 : fn === 'sha256' && minor >= 1 ? 64 : undefined;
  if (size === undefined) return f.error(at, 'unrecognized hash function');
  if (Buffer.byteLength(hash.slice(dash + 1)) !== size) f.error(at, 'incorrect size for hash sum');
}

