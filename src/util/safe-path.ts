// Every path cnvm builds under one of its own directories (the state directory, a provider's storage directory)
// comes from here: each part must be one plain path component, and the result must stay under the root. A VM name
// such as `a/../../victim` can then never name a file elsewhere, whichever command it reaches.
import { isAbsolute, join, relative, resolve } from 'node:path';
import { CnvmError } from '../errors.js';

export class UnsafePathError extends CnvmError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** One component: not empty, not `.` or `..`, no separator, no NUL, no control characters. */
export function isPlainComponent(part: string): boolean {
  // eslint-disable-next-line no-control-regex
  return part.length > 0 && part.length <= 255 && part !== '.' && part !== '..' && !/[/\\\u0000-\u001f]/.test(part);
}

/** `root/part/part…`, refused (exit 2) when a part is not a plain component or the result would leave `root`. */
export function pathUnder(root: string, ...parts: string[]): string {
  for (const part of parts) {
    if (!isPlainComponent(part)) throw new UnsafePathError(`refusing the path component ${JSON.stringify(part)} under ${root}: it must be one plain file name`);
  }
  const base = resolve(root);
  const path = join(base, ...parts);
  const rel = relative(base, path);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new UnsafePathError(`refusing ${path}: it is not under ${base}`);
  return path;
}
