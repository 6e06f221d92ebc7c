// Reading input and writing output for the CLI.
import { writeFileThrough } from '../util/atomic-write.js';
import { IoError } from './errors.js';

/**
 * `-o FILE`: written through to what FILE is (FIFO, device, symlink target), atomically with its mode kept when it
 * is a regular file (see util/atomic-write); failures become the CLI's I/O error.
 */
export function writeOutputFile(path: string, data: string | Uint8Array): void {
  try {
    writeFileThrough(path, data);
  } catch (err) {
    throw new IoError((err as Error).message);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
