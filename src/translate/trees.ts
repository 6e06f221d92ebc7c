// `storage.trees`: every file and symlink under a --files-dir directory becomes a file or link entry (appended
// after the user's), walked in lexical order like Go's filepath.Walk. From fcos 1.7 (base v0_7) a tree may also
// set `user`, `group`, `file_mode` and `dir_mode`; then its directories, the root included, become directory
// entries too.
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { ConfigPath } from '../report.js';
import { isObject, type JsonObject, type TranslateContext, type Translated } from './types.js';
import { makeDataUrl } from './data-url.js';
import { ERR_NO_FILES_DIR, resolveInFilesDir } from './files-dir.js';

export const ERR_NODE_EXISTS = 'matching filesystem node has existing contents or different type';
export const ERR_TREE_NOT_DIRECTORY = 'root of tree must be a directory';
export const ERR_FILE_TYPE = 'trees may only contain files, directories, and symlinks';

type ReadLocal = (relative: string, at: ConfigPath) => Buffer | undefined;

/** The owner fields of a tree, as Ignition node fields (`{id}` / `{name}`), when set. */
function owner(value: unknown): JsonObject | undefined {
  if (!isObject(value)) return undefined;
  const out: JsonObject = {};
  if (typeof value.id === 'number') out.id = value.id;
  if (typeof value.name === 'string') out.name = value.name;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function processTrees(butane: JsonObject, result: Translated, ctx: TranslateContext, readLocal: ReadLocal): void {
  const storage = isObject(butane.storage) ? butane.storage : {};
  const trees = Array.isArray(storage.trees) ? storage.trees : [];
  if (trees.length === 0) return;
  const config = result.config;
  const outStorage: JsonObject = isObject(config.storage) ? config.storage : (config.storage = {});
  const files: JsonObject[] = Array.isArray(outStorage.files) ? (outStorage.files as JsonObject[]) : [];
  const links: JsonObject[] = Array.isArray(outStorage.links) ? (outStorage.links as JsonObject[]) : [];
  const dirs: JsonObject[] = Array.isArray(outStorage.directories) ? (outStorage.directories as JsonObject[]) : [];
  const exists = (p: string) => [...files, ...links, ...dirs].some((n) => n.path === p);
  const added = (list: string, i: number, node: JsonObject, at: ConfigPath): void => {
    if (i === 0) result.ts.add(at, ['storage', list]);
    result.ts.addTree(at, ['storage', list, i], node);
  };

  for (let t = 0; t < trees.length; t++) {
    const tree = trees[t];
    const at: ConfigPath = ['storage', 'trees', t];
    if (!ctx.filesDir) {
      ctx.report.error(at, ERR_NO_FILES_DIR);
      return;
    }
    if (!isObject(tree) || typeof tree.local !== 'string') continue;
    let root: string;
    try {
      root = resolveInFilesDir(tree.local, ctx.filesDir);
    } catch (err) {
      ctx.report.error(at, (err as Error).message);
      continue;
    }
    let rootIsDir = false;
    try {
      rootIsDir = statSync(root).isDirectory();
    } catch {
      ctx.report.error(at, `stat ${join(ctx.filesDir, tree.local)}: no such file or directory`);
      continue;
    }
    if (!rootIsDir) {
      ctx.report.error(at, ERR_TREE_NOT_DIRECTORY);
      continue;
    }
    const destBase = typeof tree.path === 'string' && tree.path !== '' ? tree.path : '/';
    const user = owner(tree.user);
    const group = owner(tree.group);
    const dirMode = typeof tree.dir_mode === 'number' ? tree.dir_mode : undefined;
    const fileMode = typeof tree.file_mode === 'number' ? tree.file_mode : undefined;
    const node = (path: string): JsonObject => ({ ...(group ? { group } : {}), path, ...(user ? { user } : {}) });
    const wantDirs = dirMode !== undefined || user !== undefined || group !== undefined;

    walk(root, '', (rel, abs) => {
      const dest = rel === '' ? destBase : posix.join(destBase, rel);
      const st = lstatSync(abs);
      if (st.isDirectory()) {
        if (!wantDirs) return;
        if (exists(dest)) return ctx.report.error(at, ERR_NODE_EXISTS);
        const dir = { ...node(dest), mode: dirMode ?? 0o755 };
        dirs.push(dir);
        added('directories', dirs.length - 1, dir, at);
      } else if (st.isFile()) {
        let i = files.findIndex((f) => f.path === dest);
        let file = files[i];
        if (file) {
          if (isObject(file.contents) && typeof file.contents.source === 'string' && file.contents.source !== '') {
            return ctx.report.error(at, ERR_NODE_EXISTS);
          }
        } else {
          if (exists(dest)) return ctx.report.error(at, ERR_NODE_EXISTS);
          file = node(dest);
          i = files.length;
          files.push(file);
          added('files', i, file, at);
        }
        const contents = readLocal(posix.join(tree.local as string, rel), at);
        if (!contents) return;
        const existing = isObject(file.contents) ? file.contents : {};
        const url = makeDataUrl(contents, existing.compression as string | undefined, ctx.autoCompress);
        file.contents = { ...existing, source: url.source, ...(url.compression !== undefined ? { compression: url.compression } : {}) };
        result.ts.addTree(at, ['storage', 'files', i, 'contents'], file.contents);
        if (file.mode === undefined) {
          file.mode = fileMode ?? ((st.mode & 0o111) !== 0 ? 0o755 : 0o644);
          result.ts.add(at, ['storage', 'files', i, 'mode']);
        }
      } else if (st.isSymbolicLink()) {
        let i = links.findIndex((l) => l.path === dest);
        let link = links[i];
        if (link) {
          if (typeof link.target === 'string' && link.target !== '') return ctx.report.error(at, ERR_NODE_EXISTS);
        } else {
          if (exists(dest)) return ctx.report.error(at, ERR_NODE_EXISTS);
          link = node(dest);
          i = links.length;
          links.push(link);
          added('links', i, link, at);
        }
        link.target = readlinkSync(abs).split('\\').join('/');
        result.ts.add(at, ['storage', 'links', i, 'target']);
      } else {
        ctx.report.error(at, ERR_FILE_TYPE);
      }
    });
  }
  if (dirs.length > 0) outStorage.directories = dirs;
  if (files.length > 0) outStorage.files = files;
  if (links.length > 0) outStorage.links = links;
}

/** Visits `root` itself and everything below it in lexical order (like Go's filepath.Walk), parents first. */
function walk(root: string, rel: string, visit: (rel: string, abs: string) => void): void {
  const dir = rel === '' ? root : join(root, rel);
  if (rel === '') visit('', root);
  const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const abs = join(root, childRel);
    visit(childRel, abs);
    if (lstatSync(abs).isDirectory()) walk(root, childRel, visit);
  }
}
