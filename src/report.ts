// Problems found while reading, translating or validating a config, in the shape butane and Ignition print them:
// `error at $.storage.files.1, line 7 col 7: duplicate entry defined`.

export type Severity = 'error' | 'warning' | 'info';

/** A JSON path into a config: object keys and array indexes, outermost first. */
export type ConfigPath = readonly (string | number)[];

export interface SourcePosition {
  line: number;
  column: number;
}

export interface ReportEntry {
  kind: Severity;
  path: ConfigPath;
  message: string;
  /** Where in the source text the offending node starts, when the input was text. */
  position?: SourcePosition;
  /** The input file the entry is about (a path or `<stdin>`). */
  file?: string;
}

export class Report {
  readonly entries: ReportEntry[] = [];

  error(path: ConfigPath, message: string): void {
    this.entries.push({ kind: 'error', path, message });
  }

  warn(path: ConfigPath, message: string): void {
    this.entries.push({ kind: 'warning', path, message });
  }

  info(path: ConfigPath, message: string): void {
    this.entries.push({ kind: 'info', path, message });
  }

  add(entry: ReportEntry): void {
    this.entries.push(entry);
  }

  merge(other: Report | readonly ReportEntry[]): void {
    const list = other instanceof Report ? other.entries : other;
    for (const entry of list) this.entries.push(entry);
  }

  get hasErrors(): boolean {
    return this.entries.some((e) => e.kind === 'error');
  }

  get hasWarnings(): boolean {
    return this.entries.some((e) => e.kind === 'warning');
  }

  get errors(): ReportEntry[] {
    return this.entries.filter((e) => e.kind === 'error');
  }

  get warnings(): ReportEntry[] {
    return this.entries.filter((e) => e.kind === 'warning');
  }
}

/** `$.storage.files.1.path`, the notation butane and Ignition use. */
export function formatPath(path: ConfigPath): string {
  let text = '$';
  for (const part of path) text += `.${String(part)}`;
  return text;
}

/**
 * One entry as butane prints it (`error at $.path, line L col C: message`; the path or the position is left out
 * when unknown, and an empty path is not printed), prefixed with the file it concerns when known.
 */
export function formatEntry(entry: ReportEntry): string {
  const where: string[] = [];
  if (entry.path.length > 0) where.push(formatPath(entry.path));
  if (entry.position) where.push(`line ${entry.position.line} col ${entry.position.column}`);
  const text = `${entry.kind}${where.length > 0 ? ` at ${where.join(', ')}` : ''}: ${entry.message}`;
  return entry.file ? `${entry.file}: ${text}` : text;
}

export function formatReport(entries: readonly ReportEntry[]): string {
  return entries.map((e) => `${formatEntry(e)}\n`).join('');
}
