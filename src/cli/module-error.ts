// A user's TypeScript/JavaScript config module that throws (while loading or when its default export is called)
// is the user's config failing, not cnvm: exit 1 with the module's message and where it was thrown (file:line:column
// in the user's source, from the stack's first frame outside node_modules and cnvm itself), never a stack trace.
import { fileURLToPath } from 'node:url';
import { dirname, relative, resolve, sep } from 'node:path';
import { InvalidConfigError } from './errors.js';

/** cnvm's own files (dist/ or src/), whose frames are not the user's. */
const CNVM_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function userFrame(stack: string, modulePath: string): string | undefined {
  const frames = stack
    .split('\n')
    .slice(1)
    .map((l) => /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: (m[1] as string).startsWith('file://') ? fileURLToPath(m[1] as string) : (m[1] as string), line: m[2], column: m[3] }));
  const own = frames.find((f) => f.file === modulePath);
  const other = frames.find((f) => !f.file.split(sep).includes('node_modules') && !f.file.startsWith(CNVM_ROOT + sep));
  const frame = own ?? other;
  if (!frame) return undefined;
  const shown = relative(process.cwd(), frame.file);
  return `${shown && !shown.startsWith('..') ? shown : frame.file}:${frame.line}:${frame.column}`;
}

/** The error to show for a config module that threw: `path:line:col: message`. */
export function configModuleError(err: unknown, path: string, when: 'loading' | 'calling'): InvalidConfigError {
  const modulePath = resolve(path);
  const message = err instanceof Error ? err.message : `threw ${typeof err === 'string' ? JSON.stringify(err) : String(err)}`;
  // A syntax error names its place in its message already ("ParseError: … /abs/file.ts:2:18").
  const where = err instanceof Error && err.stack ? userFrame(err.stack, modulePath) : undefined;
  const first = message.split('\n').filter((l) => l.trim())[0]?.trim() ?? 'error';
  const inMessage = new RegExp(`\\s*${modulePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`, 'g');
  const located = message.includes(modulePath) ? message.replace(/\s*\n\s*/g, ' ').replace(inMessage, '').trim() : first;
  const what = when === 'loading' ? `while loading the config module ${path}` : `thrown by the default export of ${path}`;
  return new InvalidConfigError(`Error translating config: ${where ?? path}: ${located} (${what})`);
}
