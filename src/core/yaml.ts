// Butane YAML → plain value, with the source position of every node so that problems found later (in the schema,
// in butane's rules, or by Ignition on the output) can be reported at a line and column.
//
// The result is what butane's YAML decoder (go-yaml v3) would decode: only the first document, null list entries
// dropped, `<<` merge keys applied, scalars resolved by Go's rules (yaml-scalars.ts), positions counted as go-yaml
// counts them (U+0085/2028/2029 end lines; a node starts at its tag or anchor). What butane's context tree sees
// differently (the `<<` key itself, aliased mappings) is returned beside the value for the warnings butane gives.
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node } from 'yaml';
import type { ConfigPath, SourcePosition } from '../report.js';
import { resolvePlain, resolveTagged, TagMismatch } from './yaml-scalars.js';
import type { YamlProblem } from './yaml-problem.js';
import { firstSyntaxError, preflight } from './yaml-syntax.js';

export { parseGoInt } from './yaml-scalars.js';

export interface ScalarInfo {
  /** The scalar exactly as written (after YAML unquoting/folding). */
  text: string;
  /** Whether it was a plain (unquoted) scalar, i.e. subject to type resolution. */
  plain: boolean;
  /** The tag go-yaml resolved it to (`!!int`, `!!str`, …). */
  yamlTag: string;
  tag?: string;
}

export interface NodeInfo {
  /** Where the value node starts (its tag or anchor, if it has one). */
  value: SourcePosition;
  /** Where the key that introduced this node starts, for mapping entries. */
  key?: SourcePosition;
  /** For an alias: where the node it refers to starts, which is where go-yaml's decode errors point. */
  decoded?: SourcePosition;
  scalar?: ScalarInfo;
  kind?: 'map' | 'seq' | 'scalar';
}

export type { YamlProblem } from './yaml-problem.js';

export interface ParsedYaml {
  value: unknown;
  /** Keyed by {@link pathKey}. */
  nodes: Map<string, NodeInfo>;
  /** Syntax errors: nothing else can be said about the input. */
  errors: YamlProblem[];
  /** go-yaml decode errors found while building the value (duplicate keys), reported once the version is known. */
  decodeErrors: YamlProblem[];
  /** Paths of `<<` keys, which butane reports as unused. */
  mergeKeys: ConfigPath[];
  /** Paths of aliases to mappings, where butane's context tree has no mapping. */
  aliasedMaps: ConfigPath[];
  /** Paths that exist only through an alias or a merge: butane cannot check them for unused keys. */
  hidden: ConfigPath[];
}

/** A stable string key for a config path (array indexes and object keys cannot collide: keys are JSON-quoted). */
export function pathKey(path: ConfigPath): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : JSON.stringify(p))).join('');
}

/** Line starts as go-yaml counts lines: LF, CR, CRLF, NEL, LS and PS each end one. */
function lineTable(text: string): (offset: number) => SourcePosition {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\r' && text[i + 1] === '\n') continue;
    if (c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029') starts.push(i + 1);
  }
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = starts[lo] as number;
    return { line: lo + 1, column: [...text.slice(start, offset)].length + 1 };
  };
}

/** go-yaml places a node at its properties: walk back from the value over a tag and/or anchor before it. */
function propsStart(text: string, offset: number, acrossLines: boolean): number {
  let at = offset;
  for (;;) {
    let i = at - 1;
    while (i >= 0 && (text[i] === ' ' || text[i] === '\t' || (acrossLines && (text[i] === '\n' || text[i] === '\r')))) i--;
    if (i < 0) return at;
    let j = i;
    while (j > 0 && !/\s/.test(text[j - 1] as string)) j--;
    const token = text.slice(j, i + 1);
    if (!/^[!&]/.test(token) || token.includes(':') && !token.startsWith('!')) return at;
    at = j;
  }
}

export function parseYaml(text: string): ParsedYaml {
  const toPos = lineTable(text);
  const out: ParsedYaml = { value: undefined, nodes: new Map(), errors: [], decodeErrors: [], mergeKeys: [], aliasedMaps: [], hidden: [] };
  const early = preflight(text, toPos);
  if (early) {
    out.errors.push(early);
    return out;
  }
  const docs = parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: false, strict: true, prettyErrors: false, merge: false });
  // go-yaml decodes the first document and never looks at the rest.
  const doc = (Array.isArray(docs) ? docs[0] : undefined) as Document.Parsed | undefined;
  if (!doc) return out;
  const syntax = firstSyntaxError(text, doc, toPos);
  if (syntax) {
    out.errors.push(syntax);
    return out;
  }
  try {
    out.value = new Converter(text, doc, out, toPos).convert(doc.contents, [], undefined, undefined);
  } catch (err) {
    if (err instanceof ExcessiveAliasing) {
      out.errors.push({ message: 'document contains excessive aliasing', position: err.position });
      out.value = undefined;
      return out;
    }
    if (!(err instanceof TagMismatch)) throw err;
    out.errors.push({ message: err.message, position: { line: 1, column: 1 } });
    out.value = undefined;
  }
  return out;
}

/** An alias bomb (a few lines expanding to billions of nodes): refused the way go-yaml refuses it. */
class ExcessiveAliasing extends Error {
  constructor(readonly position: SourcePosition) {
    super('document contains excessive aliasing');
  }
}

/** go-yaml's bound: the share of decoded nodes reached through aliases, allowed less as the document grows. */
function allowedAliasRatio(decoded: number): number {
  if (decoded <= 400_000) return 0.99;
  if (decoded >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decoded - 400_000) / 3_600_000);
}

class Converter {
  private readonly active = new Set<Node>();
  private decoded = 0;
  private viaAlias = 0;
  private aliasDepth = 0;
  constructor(
    private readonly text: string,
    private readonly doc: Document.Parsed,
    private readonly out: ParsedYaml,
    private readonly toPos: (offset: number) => SourcePosition,
  ) {}

  /** A block collection's properties may sit on the line before it (`- &anchor`); a scalar's are on its line. */
  private pos(node: Node | null | undefined): SourcePosition {
    const start = node?.range?.[0] ?? 0;
    return this.toPos(propsStart(this.text, start, isMap(node) || isSeq(node)));
  }

  /**
   * `standIn` is set below an alias or inside merged entries: butane's context tree cannot reach those nodes, so
   * anything found there is reported at the alias (or the mapping holding the merge), while go-yaml's own decode
   * errors still point at the node itself (`decoded`).
   */
  convert(node: unknown, path: ConfigPath, keyPos: SourcePosition | undefined, standIn: SourcePosition | undefined): unknown {
    const nodes = this.out.nodes;
    this.decoded++;
    if (this.aliasDepth > 0) this.viaAlias++;
    if (this.viaAlias > 100 && this.decoded > 1000 && this.viaAlias / this.decoded > allowedAliasRatio(this.decoded)) {
      throw new ExcessiveAliasing(standIn ?? keyPos ?? { line: 1, column: 1 });
    }
    if (node === null || node === undefined) {
      nodes.set(pathKey(path), { value: keyPos ?? { line: 1, column: 1 }, ...(keyPos ? { key: keyPos } : {}) });
      return null;
    }
    if (isAlias(node)) {
      const target = node.resolve(this.doc) as Node | undefined;
      if (!target || this.active.has(target)) {
        this.out.errors.push({ message: 'anchor cycle or unknown anchor', position: this.pos(node) });
        return null;
      }
      if (isMap(target)) this.out.aliasedMaps.push(path);
      this.active.add(target);
      this.aliasDepth++;
      let value: unknown;
      try {
        value = this.convert(target, path, keyPos, standIn ?? this.pos(node));
      } finally {
        this.aliasDepth--;
        this.active.delete(target);
      }
      // The alias itself sits where its key is written.
      const info = nodes.get(pathKey(path));
      if (info && keyPos && !standIn) info.key = keyPos;
      return value;
    }
    const n = node as Node;
    const real = this.pos(n);
    const info: NodeInfo = standIn ? { value: standIn, key: standIn, decoded: real } : { value: real, ...(keyPos ? { key: keyPos } : {}) };
    nodes.set(pathKey(path), info);
    if (standIn) this.out.hidden.push(path);
    if (isMap(n)) {
      info.kind = 'map';
      return this.mapping(n, path, standIn);
    }
    if (isSeq(n)) {
      info.kind = 'seq';
      const items: unknown[] = [];
      for (const item of n.items) {
        // go-yaml leaves a null entry out of a list of structs or strings (every list butane has).
        if (isNullNode(item, this.doc)) continue;
        items.push(this.convert(item, [...path, items.length], undefined, standIn));
      }
      return items;
    }
    if (isScalar(n)) {
      info.kind = 'scalar';
      let raw = String(n.value);
      const plain = n.type === 'PLAIN';
      // Clip chomping keeps the final line break only if the file has one.
      if ((n.type === 'BLOCK_LITERAL' || n.type === 'BLOCK_FOLDED') && (n.range?.[1] ?? 0) >= this.text.length && !/[\n\r]$/.test(this.text)) {
        raw = raw.replace(/\n$/, '');
      }
      const tag = n.tag && n.tag !== '!' ? n.tag : undefined;
      const resolved = tag ? resolveTagged(raw, tag, plain) : plain ? resolvePlain(raw) : { tag: '!!str', value: raw };
      info.scalar = { text: raw, plain, yamlTag: resolved.tag, ...(tag ? { tag } : {}) };
      return resolved.value;
    }
    return null;
  }

  private mapping(n: Node & { items: { key: unknown; value: unknown }[] }, path: ConfigPath, standIn: SourcePosition | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const firstSeen = new Map<string, SourcePosition>();
    const merges: unknown[] = [];
    for (const pair of n.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode ?? '');
      const kp = this.pos(keyNode);
      if (isScalar(keyNode) && keyNode.type === 'PLAIN' && key === '<<') {
        this.out.mergeKeys.push([...path, '<<']);
        this.out.nodes.set(pathKey([...path, '<<']), { value: kp, key: kp });
        merges.push(pair.value);
        continue;
      }
      const earlier = firstSeen.get(key);
      if (earlier) {
        this.out.decodeErrors.push({ message: `mapping key ${JSON.stringify(key)} already defined at line ${earlier.line}`, position: kp, path });
        continue;
      }
      firstSeen.set(key, kp);
      define(out, key, this.convert(pair.value, [...path, key], kp, standIn));
    }
    // Merged entries never override keys written in the mapping itself; earlier merge sources win over later ones.
    for (const source of merges) {
      const resolved = isAlias(source) ? source.resolve(this.doc) : source;
      const maps = isSeq(resolved) ? resolved.items.map((i) => (isAlias(i) ? i.resolve(this.doc) : i)) : [resolved];
      for (const m of maps) {
        if (!isMap(m)) continue;
        for (const pair of m.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key ?? '');
          if (Object.prototype.hasOwnProperty.call(out, key)) continue;
          // A merged entry is a copy of another node, like an alias: it counts against the aliasing bound.
          this.aliasDepth++;
          try {
            define(out, key, this.convert(pair.value, [...path, key], this.pos(pair.key as Node), standIn ?? this.pos(n)));
          } finally {
            this.aliasDepth--;
          }
        }
      }
    }
    return out;
  }
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isNullNode(item: unknown, doc: Document.Parsed): boolean {
  const node = isAlias(item) ? item.resolve(doc) : item;
  if (node === null || node === undefined) return true;
  if (!isScalar(node) || (node.tag && node.tag !== 'tag:yaml.org,2002:null')) return false;
  return node.type === 'PLAIN' && resolvePlain(String(node.value)).tag === '!!null';
}

/** The position to report for a path: the nearest node that exists, and the key rather than the value if asked. */
export function positionOf(
  nodes: Map<string, NodeInfo>,
  path: ConfigPath,
  prefer: 'key' | 'value' | 'decoded' = 'value',
): SourcePosition | undefined {
  for (let len = path.length; len >= 0; len--) {
    const info = nodes.get(pathKey(path.slice(0, len)));
    if (!info) continue;
    if (prefer === 'key' && info.key) return info.key;
    if (prefer === 'decoded' && info.decoded) return info.decoded;
    return info.value;
  }
  return undefined;
}
