// The shapes every translation step shares: JSON values, the context a translation runs in, and its result (the
// Ignition config and where each of its paths came from). Kept apart so the steps need not import each other.
import type { ButaneSpec } from '../butane/versions.js';
import type { Report } from '../report.js';
import type { TranslationSet } from './translation-set.js';

export type Json = unknown;
export type JsonObject = Record<string, Json>;

export interface TranslateContext {
  spec: ButaneSpec;
  filesDir?: string;
  /** Problems found while translating, at Butane paths. */
  report: Report;
  /** When false, data URLs are never gzipped (butane's NoResourceAutoCompression). */
  autoCompress: boolean;
}

export interface Translated {
  config: JsonObject;
  ts: TranslationSet;
}

export function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
