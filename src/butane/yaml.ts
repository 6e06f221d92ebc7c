// Butane YAML → plain value, with the source position of every node so that problems found later (in the schema,
// in butane's rules, or by Ignition on the output) can be reported at a line and column.
//
// Scalars are resolved the way butane's YAML decoder (go-yaml v3) resolves them rather than by any YAML 1.1/1.2
// schema of the `yaml` package: `0644` is octal 420 (Go's base-0 integer parsing), `yes` stays a string, and the
// original text of every scalar is kept so that a string-typed field given `123` gets the text `123` back.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigPath, SourcePosition } from '../report.js';

export interface ScalarInfo {
  /** The scalar exactly as written (after YAML unquoting/folding). */
  text: string;
  /** Whether it was a plain (unquoted) scalar, i.e. subject to type resolution. */
  plain: boolean;
  tag?: string;
}

export interface NodeInfo {
  /** Where the value node starts. */
  value: SourcePosition;
  /** Where the key that introduced this node starts, for mapping entries. */
  key?: SourcePosition;
  scalar?: ScalarInfo;
}

export interface ParsedYaml {
  value: unknown;
  /** Keyed by {@link pathKey}. */
  nodes: Map<string, NodeInfo>;
  errors: { message: string; position: SourcePosition }[];
}

/** A stable string key for a config path (array indexes and object keys cannot collide: keys are JSON-quoted). */
export function pathKey(path: ConfigPath): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : JSON.stringify(p))).join('');
}

const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const TRUES = new Set(['true', 'True', 'TRUE']);
const FALSES = new Set(['false', 'False', 'FALSE']);
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** Go's strconv.ParseInt(s, 0, 64) as go-yaml v3 uses it for plain scalars. */
export function parseGoInt(text: string): number | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  let body = m[2] ?? '';
  // Go allows underscores only after a base prefix, between digits.
  const prefixed = /^0[xXoObB]/.test(body) || (body.length > 1 && body.startsWith('0'));
  if (body.includes('_')) {
    if (!prefixed || /__|_$/.test(body)) return undefined;
    body = body.replace(/_/g, '');
  }
  let value: number;
  if (/^0[xX]/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[oO]/.test(body)) value = parseInt(body.slice(2), 8);
  else if (/^0[bB]/.test(body)) value = parseInt(body.slice(2), 2);
  else if (body.length > 1 && body.startsWith('0')) value = parseInt(body.slice(1), 8);
  else value = parseInt(body, 10);
  if (!Number.isFinite(value) || Number.isNaN(value)) return undefined;
  return sign * value;
}

function resolvePlain(text: string): unknown {
  if (NULLS.has(text)) return null;
  if (TRUES.has(text)) return true;
  if (FALSES.has(text)) return false;
  const asInt = parseGoInt(text);
  if (asInt !== undefined) return asInt;
  if (FLOAT.test(text)) return Number(text);
  if (/^[-+]?\.(inf|Inf|INF)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(nan|NaN|NAN)$/.test(text)) return NaN;
  return text;
}

function resolveTagged(text: string, tag: string): unknown {
  switch (tag) {
    case 'tag:yaml.org,2002:str':
      return text;
    case 'tag:yaml.org,2002:null':
      return null;
    case 'tag:yaml.org,2002:bool':
      return TRUES.has(text) ? true : FALSES.has(text) ? false : text;
    case 'tag:yaml.org,2002:int':
      return parseGoInt(text) ?? text;
    case 'tag:yaml.org,2002:float':
      return FLOAT.test(text) ? Number(text) : text;
    default:
      return resolvePlain(text);
  }
}

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const nodes = new Map<string, NodeInfo>();
  const errors: ParsedYaml['errors'] = [];
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, {
      lineCounter,
      schema: 'failsafe',
      // Duplicate keys are found below, where the first occurrence's line is known for the message.
      uniqueKeys: false,
      strict: true,
      prettyErrors: false,
      merge: true,
    });
  } catch (err) {
    errors.push({ message: (err as Error).message, position: { line: 1, column: 1 } });
    return { value: undefined, nodes, errors };
  }
  const toPos = (offset: number | undefined): SourcePosition => {
    const p = lineCounter.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  for (const e of [...doc.errors]) {
    // An unclosed quote runs to the end of the input; go-yaml (and so butane) reports where the quote opened.
    const quote = e.code === 'MISSING_CHAR' ? /closing (["'])/.exec(e.message)?.[1] : undefined;
    if (quote) {
      errors.push({ message: 'found unexpected end of stream', position: toPos(text.lastIndexOf(quote, e.pos[0])) });
      continue;
    }
    errors.push({ message: yamlErrorMessage(e.code, e.message), position: toPos(e.pos[0]) });
  }
  if (errors.length > 0) return { value: undefined, nodes, errors };

  const seen = new Set<Node>();
  const convert = (node: unknown, path: (string | number)[], keyPos?: SourcePosition): unknown => {
    if (node === null || node === undefined) {
      nodes.set(pathKey(path), { value: keyPos ?? { line: 1, column: 1 }, ...(keyPos ? { key: keyPos } : {}) });
      return null;
    }
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target || seen.has(target as Node)) {
        errors.push({ message: 'anchor cycle or unknown anchor', position: toPos(node.range?.[0]) });
        return null;
      }
      seen.add(target as Node);
      const value = convert(target, path, keyPos);
      seen.delete(target as Node);
      // The alias itself is where the user wrote the value.
      const info = nodes.get(pathKey(path));
      if (info) info.value = toPos(node.range?.[0]);
      return value;
    }
    const n = node as Node;
    const valuePos = toPos(n.range?.[0]);
    const info: NodeInfo = { value: valuePos, ...(keyPos ? { key: keyPos } : {}) };
    nodes.set(pathKey(path), info);
    if (isMap(n)) {
      const out: Record<string, unknown> = {};
      const firstSeen = new Map<string, SourcePosition>();
      for (const pair of n.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode ?? '');
        const kp = toPos(keyNode?.range?.[0]);
        const earlier = firstSeen.get(key);
        if (earlier) {
          errors.push({ message: `mapping key ${JSON.stringify(key)} already defined at line ${earlier.line}`, position: kp });
          continue;
        }
        firstSeen.set(key, kp);
        const valueNode = pair.value as Node | null;
        // An empty value (`key:`) has no node; point at the key.
        Object.defineProperty(out, key, {
          value: convert(valueNode, [...path, key], kp),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    if (isSeq(n)) {
      return n.items.map((item, i) => convert(item, [...path, i], undefined));
    }
    if (isScalar(n)) {
      const raw = String(n.value);
      const plain = n.type === 'PLAIN';
      const tag = n.tag && n.tag !== '!' ? n.tag : undefined;
      info.scalar = { text: raw, plain, ...(tag ? { tag } : {}) };
      if (tag) return resolveTagged(raw, tag);
      return plain ? resolvePlain(raw) : raw;
    }
    return null;
  };
  const value = convert(doc.contents, []);
  return { value, nodes, errors };
}

function yamlErrorMessage(code: string, message: string): string {
  // The `yaml` package appends a code excerpt after the first line; keep only the description.
  const first = message.split('\n')[0] ?? message;
  const trimmed = first.replace(/ at line \d+, column \d+:?$/, '');
  void code;
  return trimmed;
}

/** The position to report for a path: the nearest node that exists, and the key rather than the value if asked. */
export function positionOf(
  nodes: Map<string, NodeInfo>,
  path: ConfigPath,
  prefer: 'key' | 'value' = 'value',
): SourcePosition | undefined {
  for (let len = path.length; len >= 0; len--) {
    const info = nodes.get(pathKey(path.slice(0, len)));
    if (info) return prefer === 'key' && info.key ? info.key : info.value;
  }
  return undefined;
}
