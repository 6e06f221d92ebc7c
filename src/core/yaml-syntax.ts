// What go-yaml refuses before decoding, and where it says the problem is. go-yaml reads only YAML 1.1 documents and
// printable characters; for a parser error it names the line where the enclosing construct starts (counting from
// 0, so one less than that line's number), for a scanner error the line of the offending character.
import type { Document } from 'yaml';
import type { SourcePosition } from '../report.js';
import type { YamlProblem } from './yaml-problem.js';

/** go-yaml's reader: tab, line breaks and printable Unicode only. */
function isPrintable(code: number): boolean {
  return (
    code === 0x09 ||
    code === 0x0a ||
    code === 0x0d ||
    (code >= 0x20 && code <= 0x7e) ||
    code === 0x85 ||
    (code >= 0xa0 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    code >= 0x10000
  );
}

export function preflight(text: string, toPos: (offset: number) => SourcePosition): YamlProblem | undefined {
  let offset = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (!isPrintable(code) && !(code === 0xfeff && offset === 0)) return { message: 'control characters are not allowed', position: toPos(offset) };
    offset += ch.length;
  }
  const directive = /^%YAML[ \t]+([0-9]+)\.([0-9]+)/m.exec(text);
  if (directive && (directive[1] !== '1' || directive[2] !== '1')) {
    return { message: 'found incompatible YAML document', position: toPos(directive.index) };
  }
  return undefined;
}

/** The first syntax error of the document, placed where go-yaml reports it. */
export function firstSyntaxError(text: string, doc: Document.Parsed, toPos: (offset: number) => SourcePosition): YamlProblem | undefined {
  const e = doc.errors[0];
  if (!e) return undefined;
  const first = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
  const at = e.pos[0];
  const lines = text.split(/\r\n|\r|\n/);
  const quote = e.code === 'MISSING_CHAR' ? /closing (["'])/.exec(e.message)?.[1] : undefined;
  if (quote) return unclosedQuote(text, quote, lines, toPos) ?? { message: 'found unexpected end of stream', position: toPos(at) };
  if (e.code === 'BLOCK_AS_IMPLICIT_KEY' || e.code === 'MULTILINE_IMPLICIT_KEY') {
    // go-yaml's scanner stops at the colon that starts the mapping value it cannot allow.
    const colon = text.slice(at).search(/:(\s|$)/);
    return { message: 'mapping values are not allowed in this context', position: toPos(colon < 0 ? at : at + colon) };
  }
  if (e.code === 'BAD_INDENT' && /^Flow (sequence|mapping)/.test(first)) {
    const open = unmatchedOpen(text, at);
    if (open !== undefined) {
      const expected = text[open] === '[' ? "did not find expected ',' or ']'" : "did not find expected ',' or '}'";
      return { message: expected, position: parserLine(toPos(open).line, toPos(at).line) };
    }
  }
  if (e.code === 'TAB_AS_INDENT') return { message: 'found character that cannot start any token', position: toPos(at) };
  return { message: first, position: toPos(at) };
}

/**
 * A parser error names the 0-based line of the construct it was inside, which reads as the line before it; when
 * that construct starts on the first line, the line of the offending token is used instead (also 0-based).
 */
function parserLine(contextLine: number, problemLine: number): SourcePosition {
  return { line: contextLine > 1 ? contextLine - 1 : Math.max(problemLine - 1, 1), column: 1 };
}

/** The last `[` or `{` before `offset` that is not closed before it. */
function unmatchedOpen(text: string, offset: number): number | undefined {
  const stack: number[] = [];
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text[i];
    if (c === '[' || c === '{') stack.push(i);
    else if ((c === ']' || c === '}') && stack.length > 0) stack.pop();
  }
  return stack.at(-1);
}

/** Column of the mapping key a line holds, past any `- ` sequence markers. */
function keyColumn(line: string): number {
  const m = /^(\s*(?:-\s+)*)/.exec(line);
  return (m?.[1] ?? '').length;
}

/**
 * go-yaml pairs quotes from the first one: a quoted scalar that does not close on its line either runs to the end
 * (a scanner error where it opens) or closes somewhere unexpected, and the block mapping around it then finds no key.
 */
function unclosedQuote(text: string, q: string, lines: string[], toPos: (offset: number) => SourcePosition): YamlProblem | undefined {
  const opener = new RegExp(`(^|[:\\-\\[,{]\\s*|^\\s*)${q === "'" ? "'" : '"'}`, 'gm');
  for (let m = opener.exec(text); m; m = opener.exec(text)) {
    const open = m.index + m[0].length - 1;
    const close = closingQuote(text, open, q);
    if (close !== undefined && toPos(close).line === toPos(open).line) continue;
    const openLine = toPos(open).line;
    if (close === undefined) return { message: 'found unexpected end of stream', position: toPos(open) };
    // The enclosing block mapping starts at the topmost line above with the same key column.
    const indent = keyColumn(lines[openLine - 1] ?? '');
    let start = openLine;
    for (let l = openLine - 1; l >= 1; l--) {
      const line = lines[l - 1] ?? '';
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      const lead = (/^\s*/.exec(line)?.[0] ?? '').length;
      if (keyColumn(line) === indent) {
        start = l;
        if (lead < indent) break;
      } else if (lead < indent) break;
    }
    return { message: 'did not find expected key', position: parserLine(start, toPos(close).line) };
  }
  return undefined;
}

function closingQuote(text: string, open: number, q: string): number | undefined {
  for (let i = open + 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] !== q) continue;
    if (q === "'" && text[i + 1] === "'") {
      i++;
      continue;
    }
    return i;
  }
  return undefined;
}
