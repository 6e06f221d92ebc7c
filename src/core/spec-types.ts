// The shape of the generated spec registry (src/generated/specs.ts, written by `npm run gen` from schema/model.mjs).

export type Variant = 'fcos' | 'flatcar' | 'r4e';

export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}

export type CompiledValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

export interface ButaneSpecEntry {
  variant: Variant;
  /** `1.4.0`, `1.8.0-experimental` */
  version: string;
  /** `1_4`, `1_8_exp`: the suffix of generated schema/validator modules. */
  id: string;
  /** The Ignition spec version produced, e.g. `3.3.0`. */
  ignition: string;
  /** Butane's internal base schema generation (v0_1 … v0_8_exp); features are gated on it. */
  base: number;
  experimental: boolean;
  /** Loads the precompiled schema validator (each is ~100 kB, so only the one needed is loaded). */
  load: () => Promise<{ validate: CompiledValidator }>;
}

/** How Ignition's Go structs print a field that is not a plain omitempty pointer (see schema/model.mjs). */
export type GoShape = 'always' | 'null' | 'omitZero' | 'pointer';

export interface IgnitionSpecEntry {
  version: string;
  /** 3.`minor` */
  minor: number;
  experimental: boolean;
  /** By dotted output path with `*` for list indexes. */
  shapes: Readonly<Record<string, GoShape>>;
  load: () => Promise<{ validate: CompiledValidator }>;
}
