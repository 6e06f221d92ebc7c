// The builder types are the generated Butane types (src/generated/types) of the newest fcos spec, so a typo in a
// field name or a wrong value type is a compile error. Older versions accept a subset; the translator reports any
// field the chosen version does not have.
import type * as Fcos from '../generated/types/butane-fcos-1_6.js';

export type FcosVersion = '1.0.0' | '1.1.0' | '1.2.0' | '1.3.0' | '1.4.0' | '1.5.0' | '1.6.0';
export type FcosConfig = Omit<Fcos.Config, 'version'> & { version: FcosVersion };
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
