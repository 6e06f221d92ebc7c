// The cnvm library: Butane → Ignition translation, Ignition validation, typed builders, and the generated spec
// types. Cloud SDKs are never imported from here; providers load them lazily.
export { translate, formatIgnition, type TranslateOptions, type TranslateResult } from './translate/index.js';
export { validateIgnitionText as validate, validateIgnitionSemantics, SUPPORTED_IGNITION_VERSIONS } from './ignition/validate.js';
export { SUPPORTED_SPECS, type ButaneSpec, type Variant } from './butane/versions.js';
export { Report, formatEntry, formatPath, type ReportEntry, type ConfigPath, type Severity } from './report.js';
export * from './builders/index.js';
// Every spec's generated types as namespaces (Ignition3_6, ButaneFcos1_7, …), from the spec registry.
export type * from './generated/types/index.js';
export { pmmAdminPasswordFile, randomPassword, PmmOptionsError, type PmmServer, type ZincatiPolicy } from './workload/pmm-server.js';
export { pmmServer, type PmmServerOptions } from './pmm-recipe.js';
export { dataDiskDevice, type DataDisk } from './provider/registry.js';
export { resolvePmmTag, PMM_PINNED_TAG } from './workload/pmm-release.js';
