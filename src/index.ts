// The cnvm library: Butane → Ignition translation, Ignition validation, typed builders, and the generated spec
// types. Cloud SDKs are never imported from here; providers load them lazily.
export { translate, formatIgnition, type TranslateOptions, type TranslateResult } from './translate/index.js';
export { validateIgnitionText as validate, validateIgnitionSemantics, SUPPORTED_IGNITION_VERSIONS } from './ignition/validate.js';
export { SUPPORTED_SPECS, type ButaneSpec, type Variant } from './butane/versions.js';
export { Report, formatEntry, formatPath, type ReportEntry, type ConfigPath, type Severity } from './report.js';
export * from './builders/index.js';
export type * as Ignition3_0 from './generated/types/ignition-v3_0.js';
export type * as Ignition3_1 from './generated/types/ignition-v3_1.js';
export type * as Ignition3_2 from './generated/types/ignition-v3_2.js';
export type * as Ignition3_3 from './generated/types/ignition-v3_3.js';
export type * as Ignition3_4 from './generated/types/ignition-v3_4.js';
export type * as Ignition3_5 from './generated/types/ignition-v3_5.js';
export type * as ButaneFcos1_0 from './generated/types/butane-fcos-1_0.js';
export type * as ButaneFcos1_1 from './generated/types/butane-fcos-1_1.js';
export type * as ButaneFcos1_2 from './generated/types/butane-fcos-1_2.js';
export type * as ButaneFcos1_3 from './generated/types/butane-fcos-1_3.js';
export type * as ButaneFcos1_4 from './generated/types/butane-fcos-1_4.js';
export type * as ButaneFcos1_5 from './generated/types/butane-fcos-1_5.js';
export type * as ButaneFcos1_6 from './generated/types/butane-fcos-1_6.js';
export type * as ButaneFlatcar1_0 from './generated/types/butane-flatcar-1_0.js';
export type * as ButaneFlatcar1_1 from './generated/types/butane-flatcar-1_1.js';
export type * as ButaneR4e1_0 from './generated/types/butane-r4e-1_0.js';
export type * as ButaneR4e1_1 from './generated/types/butane-r4e-1_1.js';
export { pmmServer, pmmAdminPasswordFile, randomPassword, PmmOptionsError, type PmmServerOptions, type PmmServer, type ZincatiPolicy } from './workload/pmm-server.js';
export { dataDiskDevice, type DataDisk } from './workload/data-disk.js';
export { resolvePmmTag, PMM_PINNED_TAG } from './workload/pmm-release.js';
