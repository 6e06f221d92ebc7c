// The version-skew check: can an OS image's Ignition read the config cnvm is about to give it? Ignition refuses a
// config whose `ignition.version` is newer than it implements and the VM then sits in emergency mode, so this is
// checked before anything changes. What the image runs is derived from its release:
// - a Fedora CoreOS build `MAJOR.YYYYMMDD.STREAM.N` (stream metadata, an AMI or GCE image name, --image-release):
//   FCOS fast-tracks every Ignition release into its streams, so a build made before an Ignition release cannot
//   have it, and one made PROMOTION_DAYS after it has it on every stream (testing → stable takes two weeks);
//   between the two the answer is "uncertain" and cnvm warns instead of refusing;
// - `ignition-X.Y.Z` (--image-release, for a user's own image): exactly that Ignition.
// The table of spec versions and the Ignition release that first reads each comes from the schema model
// (schema/model.mjs → src/generated/ignition-releases.ts, with its upstream source).
import { CnvmError } from '../errors.js';
import { IGNITION_RELEASES } from '../generated/ignition-releases.js';
import { BUTANE_SPECS } from '../generated/specs.js';

/** Days after an Ignition release by which every FCOS stream carries it (fast-track, then two weeks per stream). */
export const PROMOTION_DAYS = 35;

export type ImageRelease =
  | { kind: 'fcos'; version: string; built: string }
  | { kind: 'ignition'; version: string };

const FCOS_BUILD = /(?:^|[^\d])(\d{2})[.-](20\d{6})[.-](\d+)[.-](\d+)(?![\d])/;

/** An FCOS build or Ignition version from text; undefined when it names neither. */
export function releaseFromText(text: string): ImageRelease | undefined {
  const ign = /^ignition[-:@ ]?v?(\d+\.\d+\.\d+)$/i.exec(text.trim());
  if (ign) return { kind: 'ignition', version: ign[1] as string };
  const m = FCOS_BUILD.exec(text);
  if (!m) return undefined;
  const day = m[2] as string;
  const built = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
  if (Number.isNaN(Date.parse(`${built}T00:00:00Z`))) return undefined;
  return { kind: 'fcos', version: `${m[1]}.${day}.${m[3]}.${m[4]}`, built };
}

class UsageError extends CnvmError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** --image-release: an FCOS build (`42.20250901.3.0`) or `ignition-2.14.0`. */
export function parseImageRelease(text: string, origin = '--image-release'): ImageRelease {
  const r = releaseFromText(text);
  if (!r) throw new UsageError(`${origin} ${JSON.stringify(text)}: give a Fedora CoreOS build (e.g. 42.20250901.3.0) or the image's Ignition version (e.g. ignition-2.20.0)`);
  return r;
}

/** What the image is: the flag wins, then the image's recorded version, then a build named in its id. */
export function imageRelease(image: { id: string; version?: string }, flag?: string): ImageRelease | undefined {
  if (flag !== undefined) return parseImageRelease(flag);
  return (image.version ? releaseFromText(image.version) : undefined) ?? releaseFromText(image.id.split('/').pop() ?? image.id);
}

const num = (v: string): number[] => v.replace(/-.*$/, '').split('.').map(Number);
const cmp = (a: string, b: string): number => {
  const [x, y] = [num(a), num(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};
const days = (from: string, to: string): number => (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;

export interface SkewVerdict {
  verdict: 'reads' | 'cannot-read' | 'uncertain' | 'unknown';
  /** One line for the plan: what was checked and the answer. */
  message: string;
  /** The newest stable spec the image surely reads, and the newest Butane version of each variant for it. */
  newestSpec?: string;
  newestButane?: string[];
}

function readsSpec(release: ImageRelease, row: (typeof IGNITION_RELEASES)[number]): 'yes' | 'no' | 'maybe' {
  const experimental = row.spec.includes('experimental');
  if (release.kind === 'ignition') {
    if (cmp(release.version, row.ignition) < 0) return 'no';
    // An experimental spec is dropped by the release that stabilises it: only the releases of its own minor line read it.
    if (experimental) return num(release.version)[1] === num(row.ignition)[1] ? 'yes' : 'no';
    return 'yes';
  }
  const age = days(row.released, release.built);
  if (age < 0) return 'no';
  if (age < PROMOTION_DAYS) return 'maybe';
  return 'yes';
}

const describeRelease = (r: ImageRelease): string => (r.kind === 'fcos' ? `Fedora CoreOS ${r.version}` : `Ignition ${r.version}`);

/** Whether an image of this release reads a config of this Ignition spec version. */
export function checkSpecSupport(release: ImageRelease | undefined, spec: string): SkewVerdict {
  const row = IGNITION_RELEASES.find((r) => r.spec === spec);
  if (!row) return { verdict: 'unknown', message: `Ignition spec ${spec} is not in cnvm's table of Ignition releases` };
  if (!release) return { verdict: 'unknown', message: `image release unknown: not checked that its Ignition reads spec ${spec} (give --image-release)` };
  const stable = IGNITION_RELEASES.filter((r) => !r.spec.includes('experimental') && readsSpec(release, r) === 'yes');
  const newestSpec = stable.at(-1)?.spec;
  const newestButane = newestSpec ? newestButaneFor(newestSpec) : [];
  const answer = readsSpec(release, row);
  const needs = `spec ${spec} needs Ignition ≥ ${row.ignition} (released ${row.released})`;
  if (answer === 'yes') return { verdict: 'reads', message: `${describeRelease(release)} reads Ignition spec ${spec}`, ...(newestSpec ? { newestSpec, newestButane } : {}) };
  const newest = newestSpec ? `; it reads ≤ ${newestSpec} (Butane ${newestButane.join(', ')})` : '';
  if (answer === 'maybe') return { verdict: 'uncertain', message: `${describeRelease(release)} may not read Ignition spec ${spec}: ${needs}, and this build is from ${release.kind === 'fcos' ? release.built : '?'}${newest}`, ...(newestSpec ? { newestSpec, newestButane } : {}) };
  return { verdict: 'cannot-read', message: `${describeRelease(release)} cannot read Ignition spec ${spec}: ${needs}${newest}`, ...(newestSpec ? { newestSpec, newestButane } : {}) };
}

/** The newest Butane version of each variant that emits this Ignition spec (e.g. 3.4.0 → fcos 1.5.0, …). */
export function newestButaneFor(spec: string): string[] {
  const best = new Map<string, string>();
  for (const b of BUTANE_SPECS) if (b.ignition === spec && !b.experimental) best.set(b.variant, b.version);
  return [...best].map(([variant, version]) => `${variant} ${version}`);
}

/** Refuses (usage error, exit 2) a config the image cannot read; returns the verdict for the plan otherwise. */
export function assertImageReads(release: ImageRelease | undefined, spec: string, what = 'the config'): SkewVerdict {
  const v = checkSpecSupport(release, spec);
  if (v.verdict === 'cannot-read') throw new UsageError(`version skew: ${what} is Ignition spec ${spec}, but ${v.message}`);
  return v;
}
