// An exported VM's Ignition config cut at its deploy-time holes (the data volume's id, the admin password), and
// the rules for fitting it into a platform's user-data limit. Pure: no rendering, no lifecycle, no provider.
import { gzipSync } from 'node:zlib';
import { CnvmError } from '../errors.js';

/** A well-formed EBS volume id that no real volume has (17 hex digits); its NVMe serial is the id without the dash. */
export const VOLUME_ID_SENTINEL = 'vol-0feedface0cafe000';
export const VOLUME_SERIAL_SENTINEL = VOLUME_ID_SENTINEL.replace('-', '');
/** Letters only, so the translator writes it as-is into the password file's `data:,` URL. */
export const PASSWORD_SENTINEL = 'CnvmExportAdminPasswordFromSecret';

export type Hole = 'volumeSerial' | 'adminPassword';
export type IgnitionPiece = string | { hole: Hole };

export interface ExportIgnition {
  /** The config cut at the holes: literal text and the values the template engine supplies. */
  pieces: IgnitionPiece[];
  /** The config with the sentinels in place (for sizes: every hole's value has the sentinel's length or less). */
  text: string;
  warnings: string[];
}

/** The config with every hole filled: what the guest receives once the engine has resolved its expressions. */
export function fillIgnition(pieces: readonly IgnitionPiece[], values: Record<Hole, string>): string {
  return pieces.map((p) => (typeof p === 'string' ? p : values[p.hole])).join('');
}

export const holesOf = (pieces: readonly IgnitionPiece[]): Set<Hole> => new Set(pieces.flatMap((p) => (typeof p === 'string' ? [] : [p.hole])));

/**
 * The 16 KB rule for a config with holes. provider/ignition-size.ts wraps an oversized config as a gzip data URL,
 * but a value the engine fills in at deploy time cannot sit inside compressed data. So the config is split: the
 * entries that hold a hole (the data disk, its filesystem and mount unit, the password file) stay in a small outer
 * config, as plain JSON, and everything else goes gzip-compressed into `ignition.config.merge`. Ignition merges
 * the inner config into the outer one; their list entries have different keys (paths, devices, unit names), so the
 * result holds every entry of the original config.
 */
export function splitForMerge(pieces: readonly IgnitionPiece[], gzip: (text: string) => Buffer): IgnitionPiece[] {
  // Work on the text with unique stand-ins for the holes, then cut again.
  const marks: Record<Hole, string> = { volumeSerial: VOLUME_SERIAL_SENTINEL, adminPassword: PASSWORD_SENTINEL };
  const config = JSON.parse(fillIgnition(pieces, marks)) as Record<string, unknown> & { ignition: { version: string } };
  const hasHole = (v: unknown): boolean => Object.values(marks).some((m) => JSON.stringify(v).includes(m));
  const outer: Record<string, Record<string, unknown[]>> = {};
  const inner: Record<string, unknown> = { ...config };
  for (const [section, body] of Object.entries(config)) {
    if (section === 'ignition' || !body || typeof body !== 'object' || !hasHole(body)) continue;
    const rest: Record<string, unknown> = {};
    for (const [key, list] of Object.entries(body as Record<string, unknown>)) {
      if (!Array.isArray(list)) {
        if (hasHole(list)) throw new CnvmError('usage', `the Ignition config holds a deploy-time value in ${section}.${key}, which cannot be split out of the compressed part`);
        rest[key] = list;
        continue;
      }
      const kept = list.filter(hasHole);
      if (kept.length) ((outer[section] ??= {})[key] = kept);
      const others = list.filter((e) => !hasHole(e));
      if (others.length) rest[key] = others;
    }
    inner[section] = rest;
  }
  const source = `data:;base64,${gzip(JSON.stringify(inner)).toString('base64')}`;
  const wrapper = { ignition: { version: config.ignition.version, config: { merge: [{ source, compression: 'gzip' }] } }, ...outer };
  return cutAtHoles(JSON.stringify(wrapper));
}

export function cutAtHoles(text: string): IgnitionPiece[] {
  const marks: [string, Hole][] = [
    [VOLUME_SERIAL_SENTINEL, 'volumeSerial'],
    [PASSWORD_SENTINEL, 'adminPassword'],
  ];
  const pieces: IgnitionPiece[] = [];
  let rest = text;
  for (;;) {
    const next = marks
      .map(([mark, hole]) => ({ at: rest.indexOf(mark), mark, hole }))
      .filter((m) => m.at >= 0)
      .sort((a, b) => a.at - b.at)[0];
    if (!next) break;
    if (next.at > 0) pieces.push(rest.slice(0, next.at));
    pieces.push({ hole: next.hole });
    rest = rest.slice(next.at + next.mark.length);
  }
  if (rest) pieces.push(rest);
  return pieces;
}

/** The bytes the filled config takes at most: literal text, plus each hole at its largest value. */
function worstSize(pieces: readonly IgnitionPiece[], maxPassword: number): number {
  return pieces.reduce((n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p) : p.hole === 'volumeSerial' ? VOLUME_SERIAL_SENTINEL.length : maxPassword), 0);
}

/** The 16 KB rule for a config with holes: as it is when it fits, else split (splitForMerge), else an error. */
export function fitUserData(ignition: ExportIgnition, limit: number, maxPassword: number, where: string): readonly IgnitionPiece[] {
  if (worstSize(ignition.pieces, maxPassword) <= limit) return ignition.pieces;
  const wrapped = splitForMerge(ignition.pieces, (text) => gzipSync(text, { level: 9 }));
  const size = worstSize(wrapped, maxPassword);
  if (size > limit) {
    throw new CnvmError('usage', `the Ignition config is ${Buffer.byteLength(ignition.text)} bytes, ${size} compressed, and ${where} takes at most ${limit}; shrink it (fewer ssh keys or PMM settings)`);
  }
  return wrapped;
}
