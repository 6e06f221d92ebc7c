// Reading an Ignition config the way Ignition's Go structs see it: an absent non-pointer string is "", an absent
// pointer is nil, absent lists are empty. The rules in rules*.ts are written against these helpers so that each
// reads like the check Ignition performs on the decoded struct.
import { posix } from 'node:path';
import type { ConfigPath, ReportEntry } from '../report.js';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const obj = (v: unknown): Obj => (isObj(v) ? v : {});
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** A Go `string` field. */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** A Go `*string` field. */
export const ptr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** A Go `*int` field. */
export const int = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
export const nilOrEmpty = (v: unknown): boolean => typeof v !== 'string' || v === '';
export const notEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';
export const isTrue = (v: unknown): boolean => v === true;

/** Go's path.Clean. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const cleaned = posix.normalize(p);
  return cleaned.length > 1 && cleaned.endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

/** Go's path.Ext: the suffix from the last dot of the last element. */
export function pathExt(name: string): string {
  for (let i = name.length - 1; i >= 0 && name[i] !== '/'; i--) if (name[i] === '.') return name.slice(i);
  return '';
}

export const ERR_NO_PATH = 'path not specified';

/** Ignition's validatePath. */
export function pathError(p: string): string | undefined {
  if (p === '') return ERR_NO_PATH;
  if (!p.startsWith('/')) return 'path not absolute';
  if (cleanPath(p) !== p) return 'path is not fully simplified';
  return undefined;
}

/** Collects entries in the order Ignition's report would hold them. */
export class Findings {
  readonly entries: ReportEntry[] = [];

  error(path: ConfigPath, message: string | undefined): void {
    if (message !== undefined) this.entries.push({ kind: 'error', path, message });
  }

  warn(path: ConfigPath, message: string | undefined): void {
    if (message !== undefined) this.entries.push({ kind: 'warning', path, message });
  }
}
