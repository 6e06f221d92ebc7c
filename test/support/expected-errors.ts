// Reading butane's stderr (`NAME.expected-error`, `NAME.nonstrict.stderr`) into comparable records, and turning
// cnvm's report entries into the same shape. The rules are the ones shared/conformance/fuzz/README.md states:
// located lines compare by kind, path, line, column and message; go-yaml decode errors by line and message; YAML
// syntax errors by line only (their wording may be cnvm's own); butane's closing line is presentation and skipped.
import { formatPath, type ReportEntry } from '../../src/report.js';

export interface ExpectedRecord {
  kind: string;
  path?: string;
  line?: number;
  column?: number;
  /** Absent for YAML syntax errors, whose wording is free. */
  message?: string;
}

const LOCATED = /^(error|warning|info)(?: at (\$[^,]*?))?(?:,? ?line (\d+) col (\d+))?: (.*)$/;
const SUMMARY = /^(Error translating config: (config generated was invalid|source config is invalid)|Config produced warnings and --strict was specified)$/;

/**
 * The v0.23.0 oracle spells the unused-key warning `Unused key X`; butane ≥ 0.24 (what cnvm follows) writes
 * `unused key X`. The fuzz README says that spelling is the only difference between the two oracles there.
 */
function newestSpelling(message: string): string {
  return message.replace(/^Unused key /, 'unused key ');
}

export function parseButaneStderr(text: string): ExpectedRecord[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const out: ExpectedRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (SUMMARY.test(line)) continue;
    const located = LOCATED.exec(line);
    if (located) {
      out.push({
        kind: located[1] as string,
        ...(located[2] ? { path: located[2] } : {}),
        ...(located[3] ? { line: Number(located[3]), column: Number(located[4]) } : {}),
        message: newestSpelling(located[5] as string),
      });
      continue;
    }
    const fatal = /^Error translating config: (?:Error unmarshaling yaml: )?(.*)$/.exec(line);
    if (!fatal) throw new Error(`unrecognised butane output line: ${line}`);
    const rest = fatal[1] as string;
    if (/^yaml: unmarshal errors:$/.test(rest)) {
      // go-yaml's decode errors follow, one per indented line, with a line number only.
      while (i + 1 < lines.length && /^ {2}line \d+: /.test(lines[i + 1] as string)) {
        const m = /^ {2}line (\d+): (.*)$/.exec(lines[++i] as string) as RegExpExecArray;
        out.push({ kind: 'error', line: Number(m[1]), message: m[2] as string });
      }
      continue;
    }
    const syntax = /^yaml: (?:line (\d+): )?(.*)$/.exec(rest);
    if (syntax && line.includes('Error unmarshaling yaml')) {
      out.push({ kind: 'error', ...(syntax[1] ? { line: Number(syntax[1]) } : {}) });
      continue;
    }
    out.push({ kind: 'error', message: rest });
  }
  return out;
}

/**
 * cnvm's entries seen through what each expected record compares. The vectors were made with `--files-dir files`;
 * messages that name the files directory are compared with that spelling.
 */
export function comparable(entries: readonly ReportEntry[], expected: readonly ExpectedRecord[], filesDir?: string): ExpectedRecord[] {
  return entries.map((e, i) => {
    const want = expected[i];
    const rec: ExpectedRecord = { kind: e.kind };
    if (want?.path !== undefined) rec.path = formatPath(e.path);
    if (want?.line !== undefined && e.position) rec.line = e.position.line;
    if (want?.column !== undefined && e.position) rec.column = e.position.column;
    if (want?.message !== undefined) rec.message = filesDir ? e.message.split(filesDir).join('files') : e.message;
    return rec;
  });
}
