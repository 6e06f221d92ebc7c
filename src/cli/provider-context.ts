// What every provider command needs before it acts: the flags' settings, the state store, the provider placed where
// the VM lives, progress and the newest image. Kept apart from the commands so fleet/status-all/across can use it
// without importing the commands (no import cycle).
import type { StateStore } from '../lifecycle/store.js';
import type { ImageRef } from '../provider/types.js';
import type { ProviderModule, SettingValues } from '../provider/registry.js';
import { UsageError } from './errors.js';
import { checkedVmName, checkStage, stateDirOf } from './checked-flags.js';
import { fromFlag } from './inputs.js';
import { FLAG_SETTINGS, NUMERIC_SETTINGS } from './lifecycle-flags.js';
import type { Progress } from './progress.js';

export type Flags = Record<string, string | boolean | string[] | undefined>;
/** A string flag's value (undefined when absent or given as a boolean). */
export const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

export function required(flags: Flags, name: string): string {
  const v = str(flags, name);
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

/** The layered settings (profile → stage → host file → flags) for this command line. */
export async function settingsFrom(flags: Flags, provider: string, name?: string) {
  const { providerModule } = await import('../provider/registry.js');
  providerModule(provider); // an unknown --provider is a usage error before any file is read
  if (name !== undefined) checkedVmName(name);
  checkStage(flags);
  const { resolveSettings } = await import('../config/layers.js');
  const values: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  for (const [flag, path] of Object.entries(FLAG_SETTINGS)) {
    const v = flags[flag];
    if (v === undefined || v === false) continue;
    const parts = path.split('.');
    let into = values;
    for (const part of parts.slice(0, -1)) into = (into[part] ??= {}) as Record<string, unknown>;
    const numeric = NUMERIC_SETTINGS.has(path);
    if (numeric && !/^\d+$/.test(String(v))) throw new UsageError(`--${flag} must be a whole number, got ${JSON.stringify(v)}`);
    into[parts[parts.length - 1] as string] = numeric ? Number(v) : v;
    origins[path] = `--${flag}`;
  }
  const stage = str(flags, 'stage');
  const configDir = str(flags, 'config-dir');
  const resolved = resolveSettings({ provider, ...(name ? { name } : {}), ...(stage ? { stage } : {}), ...(configDir ? { configDir } : {}), flags: { values, origins } });
  // Path settings (a storage directory) are absolute from here on: recorded, compared and used the same from any cwd.
  const { resolve } = await import('node:path');
  for (const decl of providerModule(provider).settings) {
    const v = resolved.settings[decl.key];
    if (decl.path && typeof v === 'string' && v !== '') resolved.settings[decl.key] = resolve(v);
  }
  return resolved;
}

type Resolved = Awaited<ReturnType<typeof settingsFrom>>;

export async function storeFrom(flags: Flags): Promise<StateStore> {
  const [{ StateStore }, { defaultStateDir }] = await Promise.all([import('../lifecycle/store.js'), import('../lifecycle/journal.js')]);
  return new StateStore(stateDirOf(flags, defaultStateDir()));
}

/**
 * The provider, placed where the VM lives: from the record when this machine has one (so status, upgrade and
 * destroy need no --storage-dir/--zone repeated), else from the settings. A location flag that contradicts the
 * record is refused: the VM and its volume are where the record says.
 */
export async function providerFor(providerName: string, resolved: Resolved, store: StateStore, name: string | undefined) {
  const [{ providerModule }, { createProvider }] = await Promise.all([import('../provider/registry.js'), import('../provider/index.js')]);
  const mod = providerModule(providerName);
  const record = name ? store.readRecord(providerName, name) : undefined;
  const settings: SettingValues = {};
  for (const decl of mod.settings) {
    const v = resolved.settings[decl.key];
    const recorded = record?.desired.placement[decl.key];
    if (record && decl.location && recorded !== undefined && fromFlag(resolved, decl.key) && JSON.stringify(v) !== JSON.stringify(recorded)) {
      throw new UsageError(`--${decl.flag} ${String(v)}: ${name} lives at ${decl.key} ${String(recorded)} (cnvm's record ${store.recordPath(providerName, name as string)}); a VM cannot be moved`);
    }
    const value = record && !decl.transient && !fromFlag(resolved, decl.key) && recorded !== undefined ? recorded : v;
    if (value !== undefined) settings[decl.key] = value as string | number | string[];
  }
  return { provider: await createProvider(providerName, settings), module: mod, record };
}

/** The progress display for this run: a live line on a terminal, timestamped lines in a pipe, NDJSON with --json. */
export async function progressFor(command: string, json: boolean): Promise<Progress> {
  const { createProgress, progressMode } = await import('./progress.js');
  return createProgress({ command, mode: progressMode(json) });
}

/** Warnings go above the live line; with --json they are in the envelope (and the NDJSON stream). */
export const noteTo = (progress: Progress) => (line: string): void => progress.note(line);

/** The newest image of a stream: a download of several hundred MB for libvirt, a look-up for the clouds. */
export async function resolveImage(mod: ProviderModule, stream: string, settings: SettingValues, progress: Progress): Promise<ImageRef> {
  progress.event({ step: 'image', status: 'start', detail: `newest Fedora CoreOS ${stream}` });
  try {
    const image = await mod.resolveImage(stream, settings, (line) => progress.update(line.replace(/^image: /, '')));
    progress.event({ step: 'image', status: 'done', detail: image.version ?? image.id });
    return image;
  } catch (err) {
    progress.event({ step: 'image', status: 'failed', detail: (err as Error).message.split('\n')[0] as string });
    throw err;
  }
}

export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
