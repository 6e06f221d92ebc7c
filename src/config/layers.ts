// Settings users keep in git, layered: the provider profile (providers/<provider>.yaml) → a stage file
// (providers/stages/<stage>.yaml) → a host file (providers/hosts/<name>.yaml) → command-line flags. Later layers
// win; maps merge key by key; lists are replaced. Every value remembers where it came from, and any key the
// schema does not know is an error naming the file, line and column.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDocument } from 'yaml';
import { LIMITS, readLimitedIfExists } from '../util/read-limited.js';
import { pathUnder } from '../util/safe-path.js';
import { parseYaml, positionOf } from '../core/yaml.js';
import { CnvmError } from '../errors.js';
import { allProviderSettings } from '../provider/registry.js';
import { formatEntry, type ConfigPath, type ReportEntry } from '../report.js';

type FieldType = 'string' | 'int' | 'bool' | 'strings' | 'stringMap' | { fields: Record<string, FieldType> };

const COMMON_SETTINGS: Record<string, FieldType> = {
  provider: 'string',
  memory: 'int',
  cpus: 'int',
  data_size: 'string',
  stream: 'string',
  image: 'string',
  ssh_keys: 'strings',
  health_timeout: 'int',
  pmm: { fields: { tag: 'string', publish_http: 'bool', env: 'stringMap', secret_env: 'stringMap' } },
};

/** The settings schema: everything a profile may say (the common keys, and each provider module's). */
export const SETTINGS: { fields: Record<string, FieldType> } = {
  fields: { ...COMMON_SETTINGS, ...Object.fromEntries(allProviderSettings().map((s) => [s.key, s.type])) },
};

export type Settings = Record<string, unknown>;

export interface Layer {
  /** Shown as the origin: a path relative to the working directory, or `--flag`. */
  source: string;
  values: Settings;
  /** Where each value sits in the file (line/column), by dotted path. */
  positions?: Map<string, { line: number; column: number }>;
}

export interface Resolved {
  settings: Settings;
  /** Dotted path → the layer it came from (`providers/hosts/pmm1.yaml:3:9`, `--data-size`, `default`). */
  origins: Record<string, string>;
  layers: string[];
  /** The stage file (--stage) these settings were layered with, if any. */
  stage?: string;
}

export class SettingsError extends CnvmError {
  constructor(readonly entries: ReportEntry[]) {
    super('usage', entries.map(formatEntry).join('\n'));
  }
}

function check(value: unknown, type: FieldType, path: ConfigPath, problems: { path: ConfigPath; message: string; key?: boolean }[]): void {
  if (typeof type === 'object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return void problems.push({ path, message: 'expected a mapping' });
    for (const [k, v] of Object.entries(value)) {
      const sub = type.fields[k];
      if (!sub) problems.push({ path: [...path, k], message: `unknown key ${k} (known: ${Object.keys(type.fields).join(', ')})`, key: true });
      else check(v, sub, [...path, k], problems);
    }
    return;
  }
  const ok =
    type === 'string' ? typeof value === 'string' :
    type === 'int' ? Number.isInteger(value) :
    type === 'bool' ? typeof value === 'boolean' :
    type === 'strings' ? Array.isArray(value) && value.every((v) => typeof v === 'string') :
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean');
  const words = { string: 'a string', int: 'a whole number', bool: 'true or false', strings: 'a list of strings', stringMap: 'a mapping of names to values' };
  if (!ok) problems.push({ path, message: `expected ${words[type]}` });
}

/** Settings are small: more than a hundred alias expansions is an alias bomb, refused before anything is expanded. */
const MAX_ALIAS_COUNT = 100;

function aliasBound(text: string, source: string): void {
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, merge: true });
  if (doc.errors.length > 0) return; // parseYaml reports syntax errors with butane's positions
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // Other reference errors (an unknown anchor) are parseYaml's to report, with their position.
    if (!(err instanceof ReferenceError) || !/Excessive alias/.test(err.message)) return;
    throw new SettingsError([{ kind: 'error', path: [], message: `too many alias expansions (more than ${MAX_ALIAS_COUNT}): ${err.message}`, file: source, position: { line: 1, column: 1 } }]);
  }
}

/** Reads one YAML layer; a file that does not exist is no layer. */
export function readLayer(path: string, cwd = process.cwd()): Layer | undefined {
  const text = readLimitedIfExists(path, { limit: LIMITS.profile, what: 'profile' });
  if (text === undefined) return undefined;
  const source = relative(cwd, path) || path;
  aliasBound(text, source);
  const parsed = parseYaml(text);
  if (parsed.errors.length > 0) {
    throw new SettingsError(parsed.errors.map((e) => ({ kind: 'error', path: [], message: e.message, position: e.position, file: source })));
  }
  const values = (parsed.value ?? {}) as Settings;
  const problems: { path: ConfigPath; message: string; key?: boolean }[] = [];
  check(values, SETTINGS, [], problems);
  if (problems.length > 0) {
    throw new SettingsError(
      problems.map((p) => {
        const position = positionOf(parsed.nodes, p.path, p.key ? 'key' : 'value');
        return { kind: 'error', path: p.path, message: p.message, file: source, ...(position ? { position } : {}) };
      }),
    );
  }
  const positions = new Map<string, { line: number; column: number }>();
  const walk = (v: unknown, path: string[]): void => {
    const pos = positionOf(parsed.nodes, path, 'value');
    if (pos && path.length > 0) positions.set(path.join('.'), pos);
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(values, []);
  return { source, values, positions };
}

/** Later layers win; maps merge key by key (so pmm.env adds variables), lists and scalars are replaced. */
export function mergeLayers(layers: Layer[], defaults: Settings = {}): Resolved {
  const settings: Settings = {};
  const origins: Record<string, string> = {};
  const apply = (target: Settings, values: Settings, prefix: string[], origin: (path: string) => string): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      const path = [...prefix, k];
      const key = path.join('.');
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const into = (target[k] && typeof target[k] === 'object' && !Array.isArray(target[k]) ? target[k] : (target[k] = {})) as Settings;
        apply(into, v as Settings, path, origin);
      } else {
        target[k] = v;
        origins[key] = origin(key);
      }
    }
  };
  apply(settings, defaults, [], () => 'default');
  for (const layer of layers) {
    apply(settings, layer.values, [], (key) => {
      const pos = layer.positions?.get(key);
      return pos ? `${layer.source}:${pos.line}:${pos.column}` : layer.source;
    });
  }
  return { settings, origins, layers: layers.map((l) => l.source) };
}

export interface LayerRequest {
  provider?: string;
  name?: string;
  stage?: string;
  configDir?: string;
  /** Values given as flags, already in settings shape, with the flag that gave each. */
  flags?: { values: Settings; origins?: Record<string, string> };
}

export const DEFAULTS: Settings = { data_size: '20G', stream: 'stable', memory: 4096, cpus: 2, health_timeout: 900 };

/** The file layers that exist for this provider, stage and VM name, in order, then the flags. */
export function resolveSettings(req: LayerRequest, cwd = process.cwd()): Resolved {
  const dir = req.configDir ?? join(cwd, 'providers');
  const files = [
    ...(req.provider ? [pathUnder(dir, `${req.provider}.yaml`)] : []),
    ...(req.stage ? [pathUnder(dir, 'stages', `${req.stage}.yaml`)] : []),
    ...(req.name ? [pathUnder(dir, 'hosts', `${req.name}.yaml`)] : []),
  ];
  if (req.stage && !existsSync(pathUnder(dir, 'stages', `${req.stage}.yaml`))) {
    throw new SettingsError([{ kind: 'error', path: [], message: `stage file ${pathUnder(dir, 'stages', `${req.stage}.yaml`)} does not exist` }]);
  }
  const layers = files.map((f) => readLayer(f, cwd)).filter((l): l is Layer => l !== undefined);
  if (req.flags && Object.keys(req.flags.values).length > 0) {
    const flagOrigins = req.flags.origins ?? {};
    layers.push({ source: 'flags', values: req.flags.values, positions: new Map() });
    const resolved = mergeLayers(layers, DEFAULTS);
    for (const [key, origin] of Object.entries(resolved.origins)) if (origin === 'flags') resolved.origins[key] = flagOrigins[key] ?? 'flags';
    return req.stage ? { ...resolved, stage: req.stage } : resolved;
  }
  const merged = mergeLayers(layers, DEFAULTS);
  return req.stage ? { ...merged, stage: req.stage } : merged;
}

/** `key: value   # origin` lines, for `cnvm config show`. */
export function formatResolved(r: Resolved): string {
  const lines: string[] = [];
  const walk = (v: unknown, path: string[], indent: string): void => {
    for (const [k, x] of Object.entries(v as Settings)) {
      const key = [...path, k].join('.');
      if (x && typeof x === 'object' && !Array.isArray(x)) {
        lines.push(`${indent}${k}:`);
        walk(x, [...path, k], `${indent}  `);
      } else {
        lines.push(`${`${indent}${k}: ${Array.isArray(x) ? `[${x.map((i) => JSON.stringify(i)).join(', ')}]` : JSON.stringify(x)}`.padEnd(44)} # ${r.origins[key] ?? '?'}`);
      }
    }
  };
  walk(r.settings, [], '');
  return `${lines.join('\n')}\n`;
}
