// `cnvm validate FILE.ign`: Ignition's own checks (structure and semantics) for the config's spec version.
import { readFileSync } from 'node:fs';
import { validateIgnitionText } from '../ignition/validate.js';
import type { ReportEntry } from '../report.js';
import { IoError } from './errors.js';
import { readStdin } from './io.js';

export interface ValidateOutcome {
  file: string;
  version?: string;
  entries: ReportEntry[];
}

export async function validateFile(path: string | undefined): Promise<ValidateOutcome> {
  const file = path ?? '<stdin>';
  let text: string;
  try {
    text = path ? readFileSync(path, 'utf8') : await readStdin();
  } catch (err) {
    throw new IoError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const { version, entries } = await validateIgnitionText(text, file);
  return { file, ...(version ? { version } : {}), entries };
}
