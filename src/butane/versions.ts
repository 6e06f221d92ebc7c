// Which Butane variants and versions exist, and what each translates to: read from the generated registry
// (src/generated/specs.ts), whose only source is the table in schema/model.mjs.
import { BUTANE_SPECS } from '../generated/specs.js';
import type { ButaneSpecEntry, Variant } from '../core/spec-types.js';

export type { Variant };
export type ButaneSpec = ButaneSpecEntry;

export const SUPPORTED_SPECS: readonly ButaneSpec[] = BUTANE_SPECS;

export function isVariant(value: unknown): value is Variant {
  return BUTANE_SPECS.some((s) => s.variant === value);
}

export function findSpec(variant: string, version: string): ButaneSpec | undefined {
  return BUTANE_SPECS.find((s) => s.variant === variant && s.version === version);
}

export function versionsOf(variant: string): string[] {
  return BUTANE_SPECS.filter((s) => s.variant === variant).map((s) => s.version);
}

/** Whether `version` (x.y.z) is at least `min` (x.y), for gating features inside one variant. */
export function atLeast(spec: ButaneSpec, min: string): boolean {
  const [a = 0, b = 0] = spec.version.split('.').map((p) => parseInt(p, 10));
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

/**
 * go-semver's reading of a version string, which butane uses: `1.05.0` is 1.5.0 (leading zeros are accepted and
 * dropped). Returns the canonical text, or undefined when it is not a version.
 */
export function parseSemver(text: string): string | undefined {
  const m = /^v?([0-9]+)\.([0-9]+)\.([0-9]+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(text);
  if (!m) return undefined;
  const core = [m[1], m[2], m[3]].map((n) => String(Number(n))).join('.');
  return m[4] ? `${core}-${m[4]}` : core;
}
