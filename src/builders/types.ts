// The builder types are the generated Butane types (src/generated/types): `fcos('1.4.0', body)` checks `body`
// against fcos 1.4's own fields, so a field that version does not have is a compile error. The element helpers
// (file, unit, …) use the newest stable fcos spec's types; the translator reports a field the chosen version lacks.
import type * as Fcos from '../generated/types/butane-fcos-1_7.js';
import type { FcosConfigs, FcosVersion } from '../generated/types/index.js';

export type { FcosConfigs, FcosVersion, FlatcarConfigs, FlatcarVersion, R4eConfigs, R4eVersion } from '../generated/types/index.js';
/** An fcos config of one version (the newest stable one by default). */
export type FcosConfig<V extends FcosVersion = '1.7.0'> = FcosConfigs[V];
/** The body of an fcos config of version V: everything but variant and version. */
export type FcosBody<V extends FcosVersion> = Omit<FcosConfigs[V], 'variant' | 'version'>;
export type FcosFile = Fcos.File;
export type FcosDirectory = Fcos.Directory;
export type FcosLink = Fcos.Link;
export type FcosUnit = Fcos.Unit;
export type FcosDropin = Fcos.Dropin;
export type FcosUser = Fcos.PasswdUser;
export type FcosGroup = Fcos.PasswdGroup;
export type FcosFilesystem = Fcos.Filesystem;
export type FcosDisk = Fcos.Disk;
export type FcosPartition = Fcos.Partition;
export type FcosResource = Fcos.Resource;
