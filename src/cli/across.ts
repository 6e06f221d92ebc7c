// `cnvm list` and `cnvm status --all` over several providers at once: `--provider a,b`, or with no --provider every
// provider that has a profile in the config directory (providers/<name>.yaml). Each provider is asked on its own
// and at the same time; one that cannot be reached (no credentials, endpoint down) is reported and the others are
// still shown. Exit 0 when every provider answered, else the first failure's exit code after printing the rest.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isCnvmError } from '../errors.js';
import type { Provider } from '../provider/types.js';
import type { StateStore } from '../lifecycle/store.js';
import { EXIT_CODES, INTERNAL_ERROR_EXIT } from './exit-codes.js';
import { UsageError } from './errors.js';
import { providerFor, settingsFrom, storeFrom, type Flags } from './provider-context.js';

const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

export interface ProviderAnswer {
  name: string;
  ok: boolean;
  /** Why the provider could not be asked (ok false). */
  error?: { kind: string; message: string; exitCode: number };
}

/** The providers this command line is about, each checked against the registry before anything is asked. */
export async function providersOf(flags: Flags): Promise<string[]> {
  const { providerModule, providerNames } = await import('../provider/registry.js');
  const given = str(flags, 'provider');
  if (given !== undefined) {
    const names = given.split(',').map((n) => n.trim());
    if (names.some((n) => n === '')) throw new UsageError(`--provider ${JSON.stringify(given)}: a provider name or a comma-separated list (${providerNames().join(', ')})`);
    names.forEach((n) => providerModule(n));
    return [...new Set(names)];
  }
  const dir = str(flags, 'config-dir') ?? join(process.cwd(), 'providers');
  const configured = providerNames().filter((n) => existsSync(join(dir, `${n}.yaml`)));
  if (configured.length === 0) throw new UsageError(`--provider is required: no provider profile (${providerNames().map((n) => `${n}.yaml`).join(', ')}) in ${dir}`);
  return configured;
}

function failure(err: unknown): NonNullable<ProviderAnswer['error']> {
  if (isCnvmError(err)) return { kind: err.kind, message: err.message.split('\n')[0] ?? err.message, exitCode: EXIT_CODES[err.kind] };
  return { kind: 'internal', message: err instanceof Error ? err.message : String(err), exitCode: INTERNAL_ERROR_EXIT };
}

/**
 * Runs `ask` on every provider at once with its own settings and placement. Answers come back in the order the
 * providers were named; a failed provider's error is kept, never thrown, so the others are still shown.
 */
export async function acrossProviders<T>(flags: Flags, ask: (provider: Provider, store: StateStore) => Promise<T[]>): Promise<{ answers: ProviderAnswer[]; rows: (T & { provider: string })[] }> {
  const names = await providersOf(flags);
  const store = await storeFrom(flags);
  const one = names.length === 1;
  const results = await Promise.all(
    names.map(async (name) => {
      try {
        const resolved = await settingsFrom(flags, name);
        const { provider } = await providerFor(name, resolved, store, undefined);
        const rows = await ask(provider, store);
        return { answer: { name, ok: true }, rows: rows.map((r) => ({ provider: name, ...r })) };
      } catch (err) {
        // Bad input is the user's to fix before anything is shown: it is not one provider's outage. With a single
        // provider its failure is the command's (its own exit code and --json error envelope).
        if (one || (isCnvmError(err) && err.kind === 'usage')) throw err;
        return { answer: { name, ok: false, error: failure(err) }, rows: [] };
      }
    }),
  );
  return { answers: results.map((r) => r.answer), rows: results.flatMap((r) => r.rows) };
}

/** Failed providers on stderr; the exit code of the first one (0 when all answered). */
export function reportFailures(answers: ProviderAnswer[]): number {
  const failed = answers.filter((a) => !a.ok);
  for (const a of failed) process.stderr.write(`cnvm: ${a.name}: ${a.error?.message ?? 'failed'}\n`);
  return failed[0]?.error?.exitCode ?? 0;
}

/** A plain text table: columns padded to their widest cell, the last one left as it is. */
export function table(header: string[], cells: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  return [header, ...cells].map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] as number))).join('  ')).join('\n');
}
