// The one way tests run the built CLI (dist/cli/bin.js, what users get): asynchronously, so stand-ins served from
// the test's own process (EC2/GCE fakes, the operator-address echo) can answer while it runs.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './conformance.js';

export const CLI_BIN = join(REPO_ROOT, 'dist/cli/bin.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to (and overriding) the test process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
