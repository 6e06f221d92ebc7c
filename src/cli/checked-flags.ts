// The checks every command makes on the flags that name files before it builds a path or calls anything: the VM
// name (the same rules as provision, for every command), the stage name, and the state directory's shape.
import { resolve } from 'node:path';
import { validateVmName } from '../lifecycle/names.js';
import { checkStateDirShape, checkStateDirWritable } from '../lifecycle/state-check.js';
import { UsageError } from './errors.js';

type Flags = Record<string, string | boolean | string[] | undefined>;

/** A VM name as provision accepts it (exit 2 otherwise). */
export function checkedVmName(name: string | undefined, flag = '--name'): string {
  if (!name) throw new UsageError(`${flag} is required`);
  validateVmName(name);
  return name;
}

/** `--stage S` reads providers/stages/S.yaml: S is one plain name. */
export function checkStage(flags: Flags): void {
  const stage = flags.stage;
  if (typeof stage === 'string' && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(stage)) {
    throw new UsageError(`--stage ${JSON.stringify(stage)}: use up to 63 letters, digits, dots, dashes and underscores (it names providers/stages/STAGE.yaml)`);
  }
}

/** --state-dir made absolute; an existing one must be a directory (a FIFO or a file is exit 2). */
export function stateDirOf(flags: Flags, fallback: string): string {
  const given = typeof flags['state-dir'] === 'string' ? (flags['state-dir'] as string) : undefined;
  if (given === '') throw new UsageError('--state-dir: give a directory');
  const dir = resolve(given ?? fallback);
  checkStateDirShape(dir);
  return dir;
}

/** Before a command that writes state changes anything: the state directory takes files (exit 3 otherwise). */
export function checkWritableState(dir: string): void {
  checkStateDirWritable(dir);
}
