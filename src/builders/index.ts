// Typed builders: write a Butane config in TypeScript, compose it from modules (workloads), and hand the result to
// `translate()` or `cnvm generate` (which loads a .ts file's default export). The types are the generated Butane
// types of each spec version; `fcos()` stamps the variant and version.
import type { FcosBody, FcosConfig, FcosFile, FcosDirectory, FcosUnit, FcosDropin, FcosUser, FcosFilesystem, FcosDisk, FcosLink, FcosVersion } from './types.js';

export type * from './types.js';

/** A piece of an fcos config without variant/version, as modules contribute them (newest stable fields). */
export type Fragment = Omit<FcosConfig, 'variant' | 'version'>;

/**
 * A complete fcos config. `fcos('1.4.0', body)` type-checks `body` against fcos 1.4.0's fields. The older form
 * `fcos(body, version?)` takes the newest fields; its default 1.4.0 (Ignition 3.3.0) is the newest spec Debian's
 * Ignition can check.
 */
export function fcos<V extends FcosVersion>(version: V, body: FcosBody<V>): FcosConfig<V>;
export function fcos(body: Fragment, version?: FcosVersion): FcosConfig;
export function fcos(a: FcosVersion | Fragment, b?: FcosVersion | Fragment): unknown {
  if (typeof a === 'string') return { variant: 'fcos', version: a, ...(b as object) };
  return { variant: 'fcos', version: (b as FcosVersion | undefined) ?? '1.4.0', ...a };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Combines fragments: objects merge key by key, lists concatenate in argument order, and a later scalar wins.
 * Entries for the same path or unit name are NOT deduplicated here: the translator reports them as duplicates,
 * which is what a conflict between two modules should produce.
 */
export function compose(...fragments: (Fragment | undefined | false)[]): Fragment {
  const merge = (a: unknown, b: unknown): unknown => {
    if (b === undefined) return a;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (isPlainObject(a) && isPlainObject(b)) {
      const out: Record<string, unknown> = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
      return out;
    }
    return b;
  };
  let out: unknown = {};
  for (const f of fragments) if (f) out = merge(out, f);
  return out as Fragment;
}

/** Inline contents (becomes a data: URL). */
export const inline = (text: string): { inline: string } => ({ inline: text });

/** Contents read from --files-dir at translation time. */
export const local = (path: string): { local: string } => ({ local: path });

/** Contents fetched by Ignition at first boot; give a hash so a changed remote file is refused. */
export const remote = (source: string, sha512?: string): { source: string; verification?: { hash: string } } => ({
  source,
  ...(sha512 ? { verification: { hash: `sha512-${sha512}` } } : {}),
});

export function file(path: string, options: Omit<FcosFile, 'path'> = {}): FcosFile {
  return { path, ...options };
}

export function directory(path: string, options: Omit<FcosDirectory, 'path'> = {}): FcosDirectory {
  return { path, ...options };
}

export function link(path: string, target: string, options: Omit<FcosLink, 'path' | 'target'> = {}): FcosLink {
  return { path, target, ...options };
}

export function unit(name: string, options: Omit<FcosUnit, 'name'> = {}): FcosUnit {
  return { name, ...options };
}

export function dropin(name: string, contents: string): FcosDropin {
  return { name, contents };
}

export function user(name: string, options: Omit<FcosUser, 'name'> = {}): FcosUser {
  return { name, ...options };
}

export function filesystem(device: string, options: Omit<FcosFilesystem, 'device'> = {}): FcosFilesystem {
  return { device, ...options };
}

export function disk(device: string, options: Omit<FcosDisk, 'device'> = {}): FcosDisk {
  return { device, ...options };
}
