// Which Butane variants and versions exist, and what each translates to. The mapping matches upstream butane's.

export type Variant = 'fcos' | 'flatcar' | 'r4e';

export interface ButaneSpec {
  variant: Variant;
  /** `1.4.0` */
  version: string;
  /** `1_4`, the suffix of generated schema/validator modules. */
  id: string;
  /** The Ignition spec version produced, e.g. `3.3.0`. */
  ignition: string;
  /** Butane's internal base schema generation (v0_1 … v0_6); features are gated on it. */
  base: number;
}

const TABLE: readonly ButaneSpec[] = [
  { variant: 'fcos', version: '1.0.0', id: '1_0', ignition: '3.0.0', base: 1 },
  { variant: 'fcos', version: '1.1.0', id: '1_1', ignition: '3.1.0', base: 2 },
  { variant: 'fcos', version: '1.2.0', id: '1_2', ignition: '3.2.0', base: 3 },
  { variant: 'fcos', version: '1.3.0', id: '1_3', ignition: '3.2.0', base: 3 },
  { variant: 'fcos', version: '1.4.0', id: '1_4', ignition: '3.3.0', base: 4 },
  { variant: 'fcos', version: '1.5.0', id: '1_5', ignition: '3.4.0', base: 5 },
  { variant: 'fcos', version: '1.6.0', id: '1_6', ignition: '3.5.0', base: 6 },
  { variant: 'flatcar', version: '1.0.0', id: '1_0', ignition: '3.3.0', base: 4 },
  { variant: 'flatcar', version: '1.1.0', id: '1_1', ignition: '3.4.0', base: 5 },
  { variant: 'r4e', version: '1.0.0', id: '1_0', ignition: '3.3.0', base: 4 },
  { variant: 'r4e', version: '1.1.0', id: '1_1', ignition: '3.4.0', base: 5 },
];

export const SUPPORTED_SPECS: readonly ButaneSpec[] = TABLE;

export function isVariant(value: unknown): value is Variant {
  return value === 'fcos' || value === 'flatcar' || value === 'r4e';
}

export function findSpec(variant: string, version: string): ButaneSpec | undefined {
  return TABLE.find((s) => s.variant === variant && s.version === version);
}

export function versionsOf(variant: string): string[] {
  return TABLE.filter((s) => s.variant === variant).map((s) => s.version);
}

/** Whether `version` (x.y.z) is at least `min` (x.y), for gating features inside one variant. */
export function atLeast(spec: ButaneSpec, min: string): boolean {
  const [a = 0, b = 0] = spec.version.split('.').map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
}
