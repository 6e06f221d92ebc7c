// `systemd.quadlets` (fcos 1.8.0-experimental, flatcar/r4e 1.2.0-experimental: base v0_8_exp): Podman Quadlet files
// written where Podman's systemd generator reads them — /etc/containers/systemd for rootful ones, its `users`
// directory otherwise. A template instance (`web@8080.container`) becomes a link to its template
// (`web@.container`); drop-ins go to `NAME.d/`. Like trees, the entries follow the user's files and links.
import { posix } from 'node:path';
import type { ConfigPath, ReportEntry } from '../report.js';
import { isObject, type JsonObject, type TranslateContext, type Translated } from './types.js';
import { makeDataUrl } from './data-url.js';
import { ERR_NODE_EXISTS } from './trees.js';

export const ERR_QUADLET_EXTENSION =
  'unsupported file extension for quadlet: must be one of .container, .volume, .network, .kube, .image, .build, .pod, or .artifact';
export const ERR_TEMPLATE_CONTENTS = 'template instances cannot have contents or contents_local';
const ERR_TOO_MANY_SOURCES = 'only one of the following can be set: contents, contents_local';
const EXTENSIONS = ['.container', '.volume', '.network', '.kube', '.image', '.build', '.pod', '.artifact'];

type ReadLocal = (relative: string, at: ConfigPath) => Buffer | undefined;

/** `foo@bar.container` is an instance of `foo@.container`; `foo@.container` itself is not an instance. */
export function templateOf(name: string): string | undefined {
  const at = name.indexOf('@');
  const dot = name.lastIndexOf('.');
  if (at < 0 || dot < 0 || at + 1 === dot) return undefined;
  return `${name.slice(0, at)}@.${name.slice(dot + 1)}`;
}

const quadletPath = (rootful: boolean, name: string): string => posix.join(rootful ? '/etc/containers/systemd' : '/etc/containers/systemd/users', name);

/** butane's checks on each quadlet and its drop-ins, before translation. */
export function validateQuadlets(doc: JsonObject): ReportEntry[] {
  const entries: ReportEntry[] = [];
  const systemd = isObject(doc.systemd) ? doc.systemd : {};
  const quadlets = Array.isArray(systemd.quadlets) ? systemd.quadlets : [];
  quadlets.forEach((q, i) => {
    const quadlet = isObject(q) ? q : {};
    const at: ConfigPath = ['systemd', 'quadlets', i];
    const name = typeof quadlet.name === 'string' ? quadlet.name : '';
    if (!EXTENSIONS.some((e) => name.endsWith(e))) {
      entries.push({ kind: 'error', path: [...at, 'name'], message: ERR_QUADLET_EXTENSION });
    } else if (templateOf(name)) {
      for (const field of ['contents', 'contents_local']) {
        if (quadlet[field] !== undefined) entries.push({ kind: 'error', path: [...at, field], message: ERR_TEMPLATE_CONTENTS });
      }
    } else if (quadlet.contents !== undefined && quadlet.contents_local !== undefined) {
      entries.push({ kind: 'error', path: [...at, 'contents_local'], message: ERR_TOO_MANY_SOURCES });
    }
    (Array.isArray(quadlet.dropins) ? quadlet.dropins : []).forEach((d, j) => {
      if (isObject(d) && d.contents !== undefined && d.contents_local !== undefined) {
        entries.push({ kind: 'error', path: [...at, 'dropins', j, 'contents_local'], message: ERR_TOO_MANY_SOURCES });
      }
    });
  });
  return entries;
}

export function processQuadlets(butane: JsonObject, result: Translated, ctx: TranslateContext, readLocal: ReadLocal): void {
  const systemd = isObject(butane.systemd) ? butane.systemd : {};
  const quadlets = Array.isArray(systemd.quadlets) ? systemd.quadlets.filter(isObject) : [];
  if (quadlets.length === 0) return;
  const config = result.config;
  const storage: JsonObject = isObject(config.storage) ? config.storage : (config.storage = {});
  const files: JsonObject[] = Array.isArray(storage.files) ? (storage.files as JsonObject[]) : [];
  const links: JsonObject[] = Array.isArray(storage.links) ? (storage.links as JsonObject[]) : [];
  const dirs: JsonObject[] = Array.isArray(storage.directories) ? (storage.directories as JsonObject[]) : [];
  const exists = (p: string): boolean => [...files, ...links, ...dirs].some((n) => n.path === p);
  result.ts.add(['systemd', 'quadlets'], ['storage']);

  const addFile = (local: unknown, inline: unknown, dest: string, at: ConfigPath): void => {
    const existing = files.find((f) => f.path === dest);
    if ((existing && isObject(existing.contents) && typeof existing.contents.source === 'string') || exists(dest)) {
      ctx.report.error(at, ERR_NODE_EXISTS);
      return;
    }
    const i = files.length;
    const file: JsonObject = { path: dest };
    files.push(file);
    if (i === 0) result.ts.add(at, ['storage', 'files']);
    result.ts.add(at, ['storage', 'files', i]);
    result.ts.add([...at, 'name'], ['storage', 'files', i, 'path']);
    let contents: Uint8Array = new Uint8Array();
    let from: ConfigPath = at;
    if (typeof local === 'string' && local !== '') {
      from = [...at, 'contents_local'];
      const read = readLocal(local, from);
      if (!read) return;
      contents = read;
    }
    if (typeof inline === 'string' && inline !== '') {
      from = [...at, 'contents'];
      contents = Buffer.from(inline, 'utf8');
    }
    const url = makeDataUrl(contents, undefined, ctx.autoCompress);
    file.contents = { source: url.source, ...(url.compression !== undefined ? { compression: url.compression } : {}) };
    result.ts.add(from, ['storage', 'files', i, 'contents']);
    result.ts.add(from, ['storage', 'files', i, 'contents', 'source']);
    if (url.compression !== undefined) result.ts.add(at, ['storage', 'files', i, 'contents', 'compression']);
    file.mode = 0o644;
    result.ts.add(at, ['storage', 'files', i, 'mode']);
  };

  quadlets.forEach((quadlet, n) => {
    const at: ConfigPath = ['systemd', 'quadlets', n];
    const name = typeof quadlet.name === 'string' ? quadlet.name : '';
    const rootful = quadlet.rootful === true;
    const dest = quadletPath(rootful, name);
    const template = templateOf(name);
    if (template) {
      if (links.some((l) => l.path === dest) || exists(dest)) ctx.report.error(at, ERR_NODE_EXISTS);
      else {
        const i = links.length;
        links.push({ path: dest, target: template });
        if (i === 0) result.ts.add(at, ['storage', 'links']);
        result.ts.add(at, ['storage', 'links', i]);
        result.ts.add([...at, 'name'], ['storage', 'links', i, 'path']);
        result.ts.add(at, ['storage', 'links', i, 'target']);
      }
    } else {
      addFile(quadlet.contents_local, quadlet.contents, dest, at);
    }
    (Array.isArray(quadlet.dropins) ? quadlet.dropins : []).forEach((d, j) => {
      const dropin = isObject(d) ? d : {};
      const dname = typeof dropin.name === 'string' ? dropin.name : '';
      addFile(dropin.contents_local, dropin.contents, `${dest}.d/${dname}`, [...at, 'dropins', j]);
    });
  });
  if (files.length > 0) storage.files = files;
  if (links.length > 0) storage.links = links;
}
