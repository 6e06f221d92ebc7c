// `cnvm generate --out-dir DIR INPUT…`: many configs rendered in one process (one start-up instead of one per
// file), each with butane's own per-file semantics: its report lines name its file, a bad file does not stop the
// others, and each good one is written atomically to DIR/<name>.ign. A directory INPUT stands for its Butane files.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { ReportEntry } from '../report.js';
import { isCnvmError } from '../errors.js';
import { IoError, UsageError } from './errors.js';
import { generate, type GenerateOptions } from './generate.js';

/** What a directory INPUT contributes: its Butane and config-module files, in name order, not its subfolders. */
const CONFIG_FILE = /\.(bu|ya?ml|(m|c)?(t|j)s)$/;

export interface ManyOptions extends Omit<GenerateOptions, 'input' | 'output'> {
  inputs: string[];
  outDir: string;
}

export interface FileOutcome {
  input: string;
  /** Where the config was written (absent when it was invalid, or with --check). */
  output?: string;
  ok: boolean;
  entries: ReportEntry[];
}

/** The INPUT files a command line names, directories expanded; each with its output path. Checked before any write. */
export function planOutputs(inputs: string[], outDir: string): { input: string; output: string }[] {
  const files: string[] = [];
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch (err) {
      throw new IoError(`cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (st.isDirectory()) {
      const found = readdirSync(input)
        .filter((f) => CONFIG_FILE.test(f) && statSync(join(input, f)).isFile())
        .sort();
      if (!found.length) throw new UsageError(`${input}: no Butane files (*.bu, *.yaml, *.yml) or config modules in it`);
      files.push(...found.map((f) => join(input, f)));
    } else {
      files.push(input);
    }
  }
  const seen = new Map<string, string>();
  return files.map((input) => {
    const output = join(outDir, `${basename(input, extname(input))}.ign`);
    const other = seen.get(output);
    if (other !== undefined) throw new UsageError(`${other} and ${input} would both be written to ${output}; give them different names`);
    seen.set(output, input);
    return { input, output };
  });
}

export async function generateMany(options: ManyOptions): Promise<FileOutcome[]> {
  const { inputs, outDir, ...rest } = options;
  const plan = planOutputs(inputs, outDir);
  if (!rest.check) {
    try {
      mkdirSync(outDir, { recursive: true });
    } catch (err) {
      throw new IoError(`cannot create --out-dir ${outDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const outcomes: FileOutcome[] = [];
  for (const { input, output } of plan) {
    let entries: ReportEntry[];
    let ok: boolean;
    try {
      const { result } = await generate({ ...rest, input, output });
      ok = result.config !== undefined;
      entries = result.entries.map((e) => ({ ...e, file: e.file ?? input }));
    } catch (err) {
      // A file that cannot be read or a config module that throws fails that file, as butane run on it would.
      if (!isCnvmError(err) || (err.kind !== 'io' && err.kind !== 'invalid-config')) throw err;
      ok = false;
      entries = [{ kind: 'error', path: [], message: err.message, file: input }];
    }
    outcomes.push({ input, ...(ok && !rest.check ? { output } : {}), ok, entries });
  }
  return outcomes;
}
