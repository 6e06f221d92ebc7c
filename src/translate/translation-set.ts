// Which Butane path each Ignition output path came from, so that problems Ignition finds in the output are reported
// at the line and column of the Butane source the user wrote.
import type { ConfigPath } from '../report.js';
import { pathKey } from '../core/yaml.js';

export class TranslationSet {
  private readonly entries = new Map<string, { to: ConfigPath; from: ConfigPath }>();

  add(from: ConfigPath, to: ConfigPath): void {
    this.entries.set(pathKey(to), { to, from });
  }

  /** Records `from` as the origin of `to` and of everything inside `value` placed at `to`. */
  addTree(from: ConfigPath, to: ConfigPath, value: unknown): void {
    this.add(from, to);
    if (Array.isArray(value)) value.forEach((v, i) => this.addTree(from, [...to, i], v));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) this.addTree(from, [...to, k], v);
    }
  }

  /** The Butane path for an Ignition path: its own origin, or that of its nearest recorded ancestor. */
  lookup(to: ConfigPath): ConfigPath | undefined {
    for (let len = to.length; len >= 0; len--) {
      const hit = this.entries.get(pathKey(to.slice(0, len)));
      if (hit) return hit.from;
    }
    return undefined;
  }

  /**
   * The Butane path for an Ignition path, as butane reports it: the recorded origin when there is one, else the
   * same path with each key in snake case (a field that is absent or generated has no origin of its own).
   */
  lookupReport(to: ConfigPath): ConfigPath {
    const hit = this.entries.get(pathKey(to));
    if (hit) return hit.from;
    return to.map((p) => (typeof p === 'number' ? p : p.replace(/MiB$/, '_mib').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)));
  }

  /** Copies entries of another set into this one, their output paths rewritten by `relocate`; later wins. */
  mergeFrom(other: TranslationSet, relocate: (to: ConfigPath) => ConfigPath = (p) => p): void {
    for (const { to, from } of other.entries.values()) this.add(from, relocate(to));
  }

  get size(): number {
    return this.entries.size;
  }
}
