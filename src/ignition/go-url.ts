// URL checks as Ignition performs them. Ignition parses every source with Go's net/url and data URLs with
// vincent-petithory/dataurl, and what those libraries refuse decides what Ignition refuses; WHATWG `new URL()`
// accepts and rejects different strings, so the parts of both Go parsers that can fail are reimplemented here.

export interface GoUrl {
  scheme: string;
  opaque: string;
  rawQuery: string;
}

const HEX = /^[0-9a-fA-F]{2}$/;

/** net/url's shouldEscape(c, encodeHost) for ASCII: which bytes may not appear raw in a host. */
function badHostByte(c: string): boolean {
  if (/[A-Za-z0-9]/.test(c)) return false;
  return !"!$&'()*+,;=:[]<>\"-_.~%".includes(c);
}

/** net/url's unescape: percent escapes must be complete; hosts refuse most punctuation and escaped ASCII. */
function checkEscapes(text: string, host: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return false;
      if (host && parseInt(hex, 16) < 0x80 && hex !== '25') return false;
      i += 2;
    } else if (host && c.charCodeAt(0) < 0x80 && badHostByte(c)) {
      return false;
    }
  }
  return true;
}

function validPort(colonPort: string): boolean {
  return colonPort === '' || /^:[0-9]*$/.test(colonPort);
}

function parseHost(host: string): boolean {
  if (host.startsWith('[')) {
    const end = host.lastIndexOf(']');
    if (end < 0 || !validPort(host.slice(end + 1))) return false;
    return checkEscapes(host.slice(1, end).replace(/%25.*$/, ''), true);
  }
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && !validPort(host.slice(colon))) return false;
  return checkEscapes(host, true);
}

/** Go's url.Parse, reduced to what it returns that Ignition reads; undefined where Go returns an error. */
export function parseGoUrl(raw: string): GoUrl | undefined {
  // Control characters anywhere are refused before anything else.
  for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) < 0x20 || raw.charCodeAt(i) === 0x7f) return undefined;
  const hash = raw.indexOf('#');
  let rest = hash >= 0 ? raw.slice(0, hash) : raw;
  if (hash >= 0 && !checkEscapes(raw.slice(hash + 1), false)) return undefined;
  let scheme = '';
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i] as string;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) return undefined; // missing protocol scheme
      scheme = rest.slice(0, i).toLowerCase();
      rest = rest.slice(i + 1);
    }
    break;
  }
  let rawQuery = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    rawQuery = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { scheme, opaque: rest, rawQuery };
    const slash = rest.indexOf('/');
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(':')) return undefined;
  }
  if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    const afterSlashes = rest.slice(2);
    const slash = afterSlashes.indexOf('/');
    const authority = slash >= 0 ? afterSlashes.slice(0, slash) : afterSlashes;
    rest = slash >= 0 ? afterSlashes.slice(slash) : '';
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:%@]*$/.test(userinfo) || !checkEscapes(userinfo, false)) return undefined;
    }
    if (!parseHost(authority.slice(at + 1))) return undefined;
  }
  if (!checkEscapes(rest, false)) return undefined;
  return { scheme, opaque: '', rawQuery };
}

/** Whether a query string has `key` with an empty first value (url.Values drops pairs it cannot unescape). */
function emptyQueryValue(rawQuery: string, key: string): boolean {
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const k = eq >= 0 ? pair.slice(0, eq) : pair;
    let name: string;
    try {
      name = decodeURIComponent(k.replace(/\+/g, ' '));
    } catch {
      continue;
    }
    if (name === key) return eq < 0 || pair.slice(eq + 1) === '';
  }
  return false;
}

const ERR_SCHEME = 'invalid url scheme';
const ERR_URL = 'unable to parse url';
const ERR_VERSION_ID = 'invalid S3 object VersionId';
const ERR_ARN = 'invalid S3 ARN format';

/** Ignition's validateURL for spec 3.`minor`: the error message, or undefined when the URL is accepted. */
export function validateUrl(source: string, minor: number): string | undefined {
  const u = parseGoUrl(source);
  if (!u) return ERR_URL;
  switch (u.scheme) {
    case 'http':
    case 'https':
    case 'tftp':
      return undefined;
    case 'gs':
      return minor >= 2 ? undefined : ERR_SCHEME;
    case 's3':
      return emptyQueryValue(u.rawQuery, 'versionId') ? ERR_VERSION_ID : undefined;
    case 'arn':
      return minor >= 4 ? validateArn(`arn:${u.opaque}`, u.rawQuery) : ERR_SCHEME;
    case 'data':
      return dataUrlError(source);
    default:
      return ERR_SCHEME;
  }
}

/** The AWS SDK's arn.IsARN/arn.Parse plus Ignition's S3 object rules. */
function validateArn(full: string, rawQuery: string): string | undefined {
  const parts = full.split(':');
  if (parts.length < 6) return ERR_ARN;
  const service = parts[2];
  const resource = parts.slice(5).join(':');
  if (service !== 's3') return ERR_ARN;
  const segments = full.split('/').length;
  if (resource.startsWith('accesspoint/') ? segments < 3 : segments < 2) return ERR_ARN;
  return emptyQueryValue(rawQuery, 'versionId') ? ERR_VERSION_ID : undefined;
}

const TSPECIAL = '()<>@,;:\\"/[]?=';
const isToken = (c: string): boolean => c.charCodeAt(0) > 0x20 && c.charCodeAt(0) < 0x7f && !TSPECIAL.includes(c);
const isUrlChar = (c: string): boolean => c.charCodeAt(0) > 0x20 && c.charCodeAt(0) < 0x7f && !'<>#"{}|\\^[]`'.includes(c);
const isBase64Char = (c: string): boolean => /[A-Za-z0-9+/=\n]/.test(c);

/** dataurl.DecodeString's verdict on a `data:` URL: its error text, or undefined when it decodes. */
export function dataUrlError(text: string): string | undefined {
  if (!text.startsWith('data:')) return 'missing data prefix';
  let i = 5;
  const at = (): string | undefined => text[i];
  let base64 = false;
  // Media type (optional): type "/" subtype.
  const first = at();
  if (first === undefined) return 'missing comma before data';
  if (first !== ';' && first !== ',') {
    if (!isToken(first)) return 'invalid character after data prefix';
    const start = i;
    while (at() !== '/') {
      const c = at();
      if (c === undefined) return 'missing media type slash';
      if (!isToken(c)) return 'invalid character for media type';
      i++;
    }
    const type = text.slice(start, i);
    if (!/^x-/i.test(type) && !/^(text|image|audio|video|application|message|multipart)/.test(type)) return 'invalid media type';
    i++;
    while (at() !== ';' && at() !== ',') {
      const c = at();
      if (c === undefined) return 'incomplete media type';
      if (!isToken(c)) return 'invalid character for media subtype';
      i++;
    }
  }
  // Parameters: ;attr=value, or the final ;base64.
  while (at() === ';') {
    i++;
    const c = at();
    if (c === undefined || c === '=' || c === ',') return 'unterminated parameter sequence';
    if (!isToken(c)) return 'invalid character for parameter attribute';
    const start = i;
    while (at() !== '=' && at() !== ',') {
      const d = at();
      if (d === undefined) return 'unterminated parameter sequence';
      if (!isToken(d)) return 'invalid character for parameter attribute';
      i++;
    }
    if (at() === ',') {
      const name = text.slice(start, i);
      if (name !== 'base64') return `expected base64, got ${name}`;
      base64 = true;
      break;
    }
    i++; // '='
    const v = at();
    if (v === undefined) return 'missing comma before data';
    if (v === '"') {
      i++;
      for (;;) {
        const d = at();
        if (d === undefined) return 'unclosed quoted string';
        if (d.charCodeAt(0) > 0x7f) return 'invalid character for parameter value';
        i++;
        if (d === '\\') {
          if (at() === undefined) return 'unexpected eof';
          i++;
        } else if (d === '"') break;
      }
    } else {
      if (!isToken(v)) return 'invalid character for parameter value';
      while (at() !== ';' && at() !== ',') {
        const d = at();
        if (d === undefined) return 'missing comma before data';
        if (!isToken(d)) return 'invalid character for parameter value';
        i++;
      }
    }
    if (at() !== ';' && at() !== ',') return at() === undefined ? 'missing comma before data' : 'expected semicolon or comma';
  }
  if (at() !== ',') return at() === undefined ? 'missing comma before data' : 'expected semicolon or comma';
  const data = text.slice(i + 1);
  for (const c of data) if (!(base64 ? isBase64Char(c) : isUrlChar(c))) return 'invalid data character';
  return base64 ? base64Error(data) : percentError(data);
}

function percentError(data: string): string | undefined {
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== '%') continue;
    if (data.length - i < 3) return 'rfc2396: unexpected end of unescape sequence';
    if (!HEX.test(data.slice(i + 1, i + 3))) return 'rfc2396: invalid char 0x25 in unescape sequence';
    i += 2;
  }
  return undefined;
}

/** Go's base64.StdEncoding.DecodeString: padded, newlines ignored. */
function base64Error(data: string): string | undefined {
  const chars: { c: string; at: number }[] = [];
  for (let i = 0; i < data.length; i++) if (data[i] !== '\n') chars.push({ c: data[i] as string, at: i });
  for (let q = 0; q < chars.length; q += 4) {
    const quantum = chars.slice(q, q + 4);
    const pad = quantum.findIndex((x) => x.c === '=');
    if (pad >= 0) {
      // Padding may only end the input, after at least two data characters, and must fill the quantum.
      if (pad < 2 || quantum.length < 4 || quantum.slice(pad).some((x) => x.c !== '=') || q + 4 < chars.length) {
        return `illegal base64 data at input byte ${(quantum[Math.max(pad, 0)] ?? quantum[0])?.at ?? 0}`;
      }
    } else if (quantum.length < 4) {
      return `illegal base64 data at input byte ${data.length}`;
    }
  }
  return undefined;
}
