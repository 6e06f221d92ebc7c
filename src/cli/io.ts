// Reading input and writing output for the CLI.
import { writeFileAtomic as write } from '../util/atomic-write.js';
import { IoError } from './errors.js';

/** Atomic file output (see util/atomic-write); failures become the CLI's I/O error. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  try {
    write(path, data, mode);
  } catch (err) {
    throw new IoError((err as Error).message);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
