// Reading `local` contents, `contents_local`, `ssh_authorized_keys_local` and trees from the --files-dir, refusing
// any path that resolves outside it.
import { readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

export const ERR_NO_FILES_DIR =
  'local file paths are relative to a files directory that must be specified with -d/--files-dir';
export const ERR_FILES_DIR_ESCAPE = 'local file path traverses outside the files directory';

export class LocalFileError extends Error {}

/** The absolute path of `relative` inside `filesDir`, or an error if it escapes. */
export function resolveInFilesDir(relative: string, filesDir: string | undefined): string {
  if (!filesDir) throw new LocalFileError(ERR_NO_FILES_DIR);
  const base = resolve(filesDir);
  const target = resolve(base, relative.split('/').join(sep).replace(/^[/\\]+/, ''));
  if (target !== base && !target.startsWith(base + sep)) throw new LocalFileError(ERR_FILES_DIR_ESCAPE);
  return target;
}

export function readLocalFile(relative: string, filesDir: string | undefined): Buffer {
  const path = resolveInFilesDir(relative, filesDir);
  try {
    return readFileSync(path);
  } catch (err) {
    // Worded like Go's os.ReadFile on filepath.Join(filesDir, relative): the directory as the user spelled it,
    // `open` failing for a missing file, `read` for a directory.
    const shown = join(filesDir ?? '', relative);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new LocalFileError(`read ${shown}: is a directory`);
    const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new LocalFileError(`open ${shown}: ${reason}`);
  }
}
