// `cnvm generate`: butane's command line — Butane YAML (or a TypeScript config module) in, Ignition JSON out.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatIgnition, translate, type TranslateResult } from '../translate/index.js';
import { InvalidConfigError, IoError } from './errors.js';
import { readStdin, writeOutputFile } from './io.js';

export interface GenerateOptions {
  input?: string;
  output?: string;
  strict?: boolean;
  pretty?: boolean;
  filesDir?: string;
  /** Only check the config; write nothing. */
  check?: boolean;
  /** Passed to a TypeScript config module whose default export is a function. */
  provider?: string;
}

export interface GenerateOutcome {
  result: TranslateResult;
  text?: string;
  file: string;
}

const MODULE_INPUT = /\.(m|c)?(t|j)s$/;

/** Loads a TypeScript/JavaScript config module without a compile step; its default export is the config. */
export async function loadConfigModule(path: string, provider?: string): Promise<object> {
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, { interopDefault: true, moduleCache: false });
  const { configModuleError } = await import('./module-error.js');
  const { errnoText, LIMITS, readLimited } = await import('../util/read-limited.js');
  // A missing or unreadable file is an I/O failure (exit 3); what the module itself throws is its config failing.
  try {
    readLimited(path, { limit: LIMITS.stream, what: 'config module' });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    throw new IoError(`cannot load ${path}: ${cause ? errnoText(cause) : (err as Error).message}`);
  }
  let exported: unknown;
  try {
    exported = await jiti.import(resolve(path), { default: true });
  } catch (err) {
    throw configModuleError(err, path, 'loading');
  }
  let value: unknown = exported;
  if (typeof exported === 'function') {
    try {
      value = await (exported as (o: { provider?: string }) => unknown)({ ...(provider ? { provider } : {}) });
    } catch (err) {
      throw configModuleError(err, path, 'calling');
    }
  }
  if (!value || typeof value !== 'object') throw new InvalidConfigError(`${path}: the default export must be a Butane config object`);
  return value;
}

export async function generate(options: GenerateOptions): Promise<GenerateOutcome> {
  const file = options.input ?? '<stdin>';
  let source: string | object;
  if (options.input && MODULE_INPUT.test(options.input)) {
    source = await loadConfigModule(options.input, options.provider);
  } else if (options.input) {
    try {
      source = readFileSync(options.input, 'utf8');
    } catch (err) {
      throw new IoError(`cannot read ${options.input}: ${(err as Error).message}`);
    }
  } else {
    source = await readStdin();
  }
  const result = await translate(source, {
    file,
    ...(options.strict ? { strict: true } : {}),
    ...(options.filesDir ? { filesDir: options.filesDir } : {}),
  });
  if (!result.config) return { result, file };
  const text = formatIgnition(result.config, options.pretty);
  if (!options.check && options.output) writeOutputFile(options.output, text);
  return { result, text, file };
}
