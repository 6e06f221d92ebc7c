// What go-yaml refuses before decoding, and where it says the problem is. go-yaml reads only YAML 1.1 documents and
// printable characters; for a parser error it names the line where the enclosing construct starts (counting from
// 0, so one less than that line's number), for a scanner error the line of the offending character.
import type { Document } from 'yaml';
import type { SourcePosition } from '../report.js';
import type { YamlProblem } from './yaml.js';

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
  // An unclosed quote runs to the end of the input; go-yaml reports where the quote opened.
  const quote = e.code === 'MISSING_CHAR' ? /closing (["'])/.exec(e.message)?.[1] : undefined;
  if (quote) return { message: 'found unexpected end of stream', position: toPos(text.lastIndexOf(quote, e.pos[0])) };
  return { message: first, position: toPos(e.pos[0]) };
}
