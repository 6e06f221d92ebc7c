// How go-yaml v3 (butane's YAML decoder) resolves scalars, rather than any schema of the `yaml` package: plain
// numbers go through Go's strconv with underscores removed first (`1_000` is 1000, `017` is octal, `08` is the float
// 8), and an explicit tag must match what the text resolves to (`!!bool 1.2.0` is an error).

export const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const TRUES = new Set(['true', 'True', 'TRUE']);
const FALSES = new Set(['false', 'False', 'FALSE']);
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INF = /^[-+]?\.(inf|Inf|INF)$/;
const NAN = /^\.(nan|NaN|NAN)$/;

/** Go's strconv.ParseInt(s, 0, 64) (and ParseUint) on text already stripped of underscores. */
export function parseGoInt(text: string): number | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2] ?? '';
  let value: number;
  if (/^0[xX]/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[oO]/.test(body)) value = parseInt(body.slice(2), 8);
  else if (/^0[bB]/.test(body)) value = parseInt(body.slice(2), 2);
  else if (body.length > 1 && body.startsWith('0')) value = parseInt(body.slice(1), 8);
  else value = parseInt(body, 10);
  return Number.isFinite(value) ? sign * value : undefined;
}

export type YamlTag = '!!null' | '!!bool' | '!!int' | '!!float' | '!!str';

/** The tag and value go-yaml gives a plain scalar. */
export function resolvePlain(text: string): { tag: YamlTag; value: unknown } {
  if (NULLS.has(text)) return { tag: '!!null', value: null };
  if (TRUES.has(text)) return { tag: '!!bool', value: true };
  if (FALSES.has(text)) return { tag: '!!bool', value: false };
  if (INF.test(text)) return { tag: '!!float', value: text.startsWith('-') ? -Infinity : Infinity };
  if (NAN.test(text)) return { tag: '!!float', value: NaN };
  if (/^[-+0-9.]/.test(text)) {
    const plain = text.replace(/_/g, '');
    const asInt = parseGoInt(plain);
    // Past int64 (negative) or uint64 (positive) Go's integer parsers fail and the text is read as a float.
    const fits = asInt !== undefined && asInt >= -(2 ** 63) && asInt < 2 ** 64;
    if (asInt !== undefined && fits) return { tag: '!!int', value: asInt };
    if (FLOAT.test(plain)) return { tag: '!!float', value: Number(plain) };
    const legacy = /^(-?)0([bo])([0-9]+)$/.exec(plain);
    if (legacy) {
      const v = parseInt(legacy[3] as string, legacy[2] === 'b' ? 2 : 8);
      if (Number.isFinite(v)) return { tag: '!!int', value: legacy[1] ? -v : v };
    }
  }
  return { tag: '!!str', value: text };
}

const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]| +)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?( *(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?$/;

export class TagMismatch extends Error {}

/**
 * A scalar with an explicit tag, as go-yaml decodes it: the tag wins when the text fits it, and the document is
 * refused (`cannot decode !!str `x` as a !!bool`) when it does not.
 */
export function resolveTagged(text: string, tag: string, plain: boolean): { tag: string; value: unknown } {
  const short = tag.replace(/^tag:yaml\.org,2002:/, '!!');
  const resolved = resolvePlain(text);
  const mismatch = (): never => {
    throw new TagMismatch(`cannot decode ${resolved.tag} \`${text}\` as a ${short}`);
  };
  switch (short) {
    case '!!str':
      return { tag: '!!str', value: text };
    case '!!null':
      return resolved.tag === '!!null' ? resolved : mismatch();
    case '!!bool':
      return resolved.tag === '!!bool' ? resolved : mismatch();
    case '!!int':
      return resolved.tag === '!!int' ? resolved : mismatch();
    case '!!float':
      if (resolved.tag === '!!int' || resolved.tag === '!!float') return { tag: '!!float', value: Number(resolved.value) };
      return mismatch();
    case '!!timestamp':
      return TIMESTAMP.test(text) ? { tag: '!!timestamp', value: text } : mismatch();
    case '!!binary': {
      const compact = text.replace(/\s/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
        throw new TagMismatch('!!binary value contains invalid base64 data');
      }
      return { tag: '!!str', value: Buffer.from(compact, 'base64').toString('latin1') };
    }
    default:
      // Local tags (`!foo`) do not change how the text is read.
      return plain ? resolvePlain(text) : { tag: '!!str', value: text };
  }
}
