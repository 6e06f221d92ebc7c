// The one way tests run the built `cnvm` (dist/cli/bin.js, the file users get; test/support/build-dist.ts builds
// it): a child process in a sandbox. Every test file that starts the CLI goes through here. Its HOME and XDG directories are a temporary directory of this test process
// (never the developer's ~/.local/state/cnvm or image cache), and the loopback-only variables of
// test/support/loopback-env.ts are always set, so no default code path can reach past 127.0.0.1.
// `runCli` is asynchronous, so stand-ins served from the test's own process (EC2/GCE fakes, the operator-address
// echo, the PMM stand-in) keep answering while it runs; `runCliSync` is for tests with no peer in this process.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './conformance.js';
import { LOOPBACK_ENV } from './loopback-env.js';

export const CLI_BIN = join(REPO_ROOT, 'dist/cli/bin.js');

export interface CliRun {
  /** Exit code, null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}
/** The name main's first version of this helper used. */
export type CliResult = CliRun;

export interface CliOptions {
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Variables to set on top of the sandbox; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** Start from an empty environment (PATH only) instead of this process's. */
  clean?: boolean;
  /** HOME for this run (default: the sandbox home shared by this test process). */
  home?: string;
  /** Standard input (default: none). */
  input?: string;
  /** Options for node itself, before the script (e.g. `--import` a tracer). */
  nodeArgs?: string[];
  /** Kill the child after this many milliseconds. */
  timeoutMs?: number;
  /** Another copy of the built CLI (a test's copy of the package); default: this repository's dist/cli/bin.js. */
  bin?: string;
  /** Run under a pseudo-terminal of this size (util-linux `script`; stdout and stderr both reach it). */
  pty?: { cols: number; rows: number };
}

let sandbox: string | undefined;
/** This test process's sandbox home, created on first use and removed when the process exits. */
export function sandboxHome(): string {
  if (!sandbox) {
    // Under the run's own directory (test/support/sandbox-root.ts removes it when the run ends).
    const dir = mkdtempSync(join(process.env.CNVM_TEST_SANDBOX_ROOT ?? tmpdir(), 'cnvm-cli-home-'));
    sandbox = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return sandbox;
}

/** The environment a spawned CLI gets. */
export function cliEnv(options: Pick<CliOptions, 'env' | 'clean' | 'home'> = {}): NodeJS.ProcessEnv {
  // A HOME the test gives (in env or as home) carries the XDG directories with it, as it would for a user.
  const home = options.home ?? options.env?.HOME ?? sandboxHome();
  const xdg = (sub: string): string => {
    const path = join(home, sub);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const base: NodeJS.ProcessEnv = options.clean ? { PATH: process.env.PATH ?? '/usr/bin:/bin' } : { ...process.env };
  const env: NodeJS.ProcessEnv = {
    // Under what this process has (a test may have pointed CNVM_PUBLIC_IP_URL at its own loopback echo server).
    ...LOOPBACK_ENV,
    ...base,
    HOME: home,
    XDG_STATE_HOME: xdg('.local/state'),
    XDG_CACHE_HOME: xdg('.cache'),
    XDG_DATA_HOME: xdg('.local/share'),
    XDG_CONFIG_HOME: xdg('.config'),
  };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  for (const [k, v] of Object.entries(LOOPBACK_ENV)) if (!env[k]) env[k] = v;
  for (const k of ENDPOINT_VARS) {
    const v = env[k];
    if (v && !LOOPBACK_URL.test(v)) throw new Error(`runCli: ${k}=${v} is not a loopback address; tests reach only 127.0.0.0/8`);
  }
  return env;
}

/** Variables that point cnvm or an SDK at a server: each must be on loopback (or empty: the SDK's default is off). */
const ENDPOINT_VARS = ['CNVM_PUBLIC_IP_URL', 'CNVM_STREAM_BASE_URL', 'CNVM_GITHUB_API_URL', 'CNVM_EC2_ENDPOINT', 'CNVM_GCE_ENDPOINT', 'CNVM_DO_ENDPOINT', 'CNVM_GCP_SECRETMANAGER_ENDPOINT', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_EC2'];
const LOOPBACK_URL = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost)(:\d+)?(\/|$)/;

/** The command line that runs `cnvm ARGS`: node, its options, the built CLI, the arguments. */
export function cliArgv(args: readonly string[], options: Pick<CliOptions, 'nodeArgs' | 'bin'> = {}): [string, ...string[]] {
  return [process.execPath, ...(options.nodeArgs ?? []), options.bin ?? CLI_BIN, ...args];
}

function argv(args: readonly string[], options: CliOptions): string[] {
  return cliArgv(args, options).slice(1);
}

/** Starts `cnvm ARGS` and hands back the child, for tests that signal it or talk to it while it runs. */
export function spawnCli(args: readonly string[], options: CliOptions & { stdio?: StdioOptions } = {}): ChildProcess {
  return spawn(process.execPath, argv(args, options), {
    cwd: options.cwd ?? REPO_ROOT,
    env: cliEnv(options),
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `cnvm ARGS` and waits for it without blocking this process's event loop. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const quoted = cliArgv(args, options).map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const [file, fileArgs] = options.pty
    ? ['script', ['-qefc', `stty cols ${options.pty.cols} rows ${options.pty.rows}; exec ${quoted}`, '/dev/null']]
    : [process.execPath, argv(args, options)];
  return new Promise((resolve, reject) => {
    const child = spawn(file, fileArgs, {
      cwd: options.cwd ?? REPO_ROOT,
      env: cliEnv(options),
      // stdin is a pipe closed at once (or after the input): never the test runner's own stdin.
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A CLI that exits without reading its input closes the pipe first: that is no failure of the run.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs `cnvm ARGS` synchronously (for tests with no peer in this process). */
export function runCliSync(args: readonly string[], options: CliOptions = {}): CliRun {
  const r = spawnSync(process.execPath, argv(args, options), {
    cwd: options.cwd ?? REPO_ROOT,
    env: cliEnv(options),
    encoding: 'utf8',
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
