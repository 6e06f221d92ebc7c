// Running virsh and qemu-img (execa, with a timeout), virsh's messages mapped to typed errors, and the host
// defaults the adapter starts from.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError, PermissionError, ProviderError, TimeoutError, WrongStateError } from '../errors.js';

export interface Runner {
  run(argv: string[]): Promise<string>;
  /** Runs virsh and returns undefined instead of throwing when the domain does not exist. */
  tryRun(argv: string[]): Promise<string | undefined>;
}

export function virshRunner(uri: string, commandTimeoutSec: number): Runner {
  async function run(argv: string[]): Promise<string> {
    const { execa } = await import('execa');
    const [file, ...args] = argv as [string, ...string[]];
    const result = await execa(file, args, { reject: false, stdin: 'ignore', timeout: commandTimeoutSec * 1000 });
    if (result.timedOut) throw new TimeoutError(`${argv.slice(0, 4).join(' ')}… did not finish within ${commandTimeoutSec} s (is libvirtd answering on ${uri}?)`);
    if ((result as { code?: string }).code === 'ENOENT') throw new ProviderError('failed', `${file} is not installed (Debian: apt-get install libvirt-clients qemu-utils)`);
    if (result.exitCode !== 0) throw classify(argv, `${result.stderr || result.stdout}`.trim());
    return result.stdout;
  }

  /** Runs virsh and returns undefined instead of throwing when the domain does not exist. */
  async function tryRun(argv: string[]): Promise<string | undefined> {
    try {
      return await run(argv);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  return { run, tryRun };
}

/** A port on 127.0.0.1 nothing listens on now (the kernel's choice), for user-mode networking's forward. */
export async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export function defaultStorageDir(uri: string): string {
  if (uri.includes('/session')) return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'cnvm', 'libvirt');
  return '/var/lib/cnvm/libvirt';
}

export function defaultVirtType(): 'kvm' | 'qemu' {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return 'kvm';
  } catch {
    return 'qemu';
  }
}

/** virsh's messages → typed errors, the original text kept as the cause. */
function classify(argv: string[], message: string): ProviderError {
  const cause = new Error(message);
  // virsh says "error: Failed to start domain 'x'" first and the reason on the next error line: keep both.
  const errors = message.split('\n').map((l) => l.replace(/^error:\s*/, '').trim()).filter(Boolean);
  const what = `${argv.slice(0, 4).join(' ')}…: ${errors.slice(0, 3).join(': ')}`;
  if (/failed to get domain|Domain not found|no domain with matching name/i.test(message)) return new NotFoundError(what, { cause });
  if (/permission denied|access denied|authentication/i.test(message)) return new PermissionError(what, { cause });
  if (/is not running|already active|domain is already running|Requested operation is not valid/i.test(message)) return new WrongStateError(what, { cause });
  if (/timed out|timeout/i.test(message)) return new TimeoutError(what, { cause });
  return new ProviderError('failed', what, { cause });
}
