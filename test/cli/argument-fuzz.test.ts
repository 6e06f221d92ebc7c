// Property-based: thousands of generated command lines over every command, run in this process against a sandbox
// (temporary directories, a stand-in virsh/qemu-img/ssh on PATH that knows no VM, clouds at a closed loopback
// port). Each one ends within a bound with an exit code from the README's table, never 70 (a bug) and never a
// stack; nothing is written outside the sandbox, and nothing leaves loopback.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { REPO_ROOT } from '../support/conformance.js';

const RUNS = Number(process.env.CNVM_FUZZ_RUNS ?? 2000);
/** No command line may take longer than this (a read of /dev/zero or a FIFO that never ends would). */
const CASE_BOUND_MS = 20_000;

const sandbox = mkdtempSync(join(tmpdir(), 'cnvm-fuzz-'));
const victim = mkdtempSync(join(tmpdir(), 'cnvm-fuzz-victim-'));
const S = (p: string): string => join(sandbox, p);

/** The exit codes README.md documents (its table), read from the file so the two cannot drift. */
function documentedExitCodes(): Set<number> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('### Exit codes'));
  return new Set([...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])));
}

function snapshot(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[]).map((p) => `${p}:${statSync(join(root, p)).size}`).sort();
}

const gitStatus = (): string => execFileSync('git', ['status', '--porcelain', '--ignored=no'], { cwd: REPO_ROOT, encoding: 'utf8' });

const STAND_IN = `#!/bin/sh
# A host with libvirt and qemu-img that knows no VM and changes nothing.
for a in "$@"; do
  case "$a" in
    list) exit 0 ;;
    vol-list|pool-list|net-list) exit 0 ;;
    uri) echo qemu:///system; exit 0 ;;
    version|--version) echo 10.0.0; exit 0 ;;
  esac
done
echo "error: failed to get domain: the sandbox has none" >&2
exit 1
`;

const names = fc.constantFrom('pmm1', 'a/../../victim', '../x', '..', '.', '', '-', 'PMM', 'x'.repeat(300), 'ünï', 'a\nb', '$(id)', '%2e%2e', 'pmm1-g2', '--json');
const paths = fc.constantFrom(S('state'), S('fifo'), S('file'), '/dev/null', '/dev/zero', 'rel-state', '', S('missing/deep'), S('ro'));
const files = fc.constantFrom(S('key.pub'), S('fifo'), '/dev/zero', S('missing'), S('dir'), S('big'), S('password'), S('bomb.yaml'), S('in.bu'), S('bad.bu'), '-');
const values = fc.oneof(fc.constantFrom('0', '-1', 'abc', '99999999999999999999', '2048', '1G', '-5G', '1e9T', '3', 'v3', 'latest', '3.99.0', 'stable', 'nope', 'none', 'prod', '../x'), fc.string({ maxLength: 12 }));
const flag = fc.oneof(
  fc.tuple(fc.constant('--provider'), fc.constantFrom('libvirt', 'aws', 'gcp', 'digitalocean', 'nope', '')),
  fc.tuple(fc.constant('--name'), names),
  fc.tuple(fc.constantFrom('--state-dir', '--storage-dir', '--files-dir'), paths),
  // Output to a FIFO waits seconds for a reader (test/cli/hostile-input.test.ts): not among the outputs here.
  fc.tuple(fc.constantFrom('--output', '-o', '-d', '--out-dir'), fc.constantFrom(S('out.ign'), S('dir'), S('file'), '/dev/null', S('missing/deep'), S('ro'), '')),
  fc.tuple(fc.constantFrom('--image', '--ssh-key', '--admin-password-file', '--stream-file', '--config'), files),
  fc.tuple(fc.constantFrom('--memory', '--cpus', '--data-size', '--pmm-tag', '--stream', '--stage', '--network', '--health-timeout', '--limit', '--zone', '--region', '--allow-from', '--vm'), values),
  fc.tuple(fc.constantFrom('--json', '--dry-run', '--all', '--strict', '--pretty', '--keep-password', '--allow-default-password', '--skip-health-check', '--yes', '--delete-volume', '--help', '--zzz', '-x')),
);
const command = fc.constantFrom<string[]>(
  ['generate'], ['validate'], ['provision'], ['status'], ['upgrade'], ['destroy'], ['config', 'show'], ['config'], ['export', 'cloudformation'], ['export', 'terraform'], ['export', 'nope'],
  ['list'], ['ssh'], ['console'], ['logs'], ['pmm', 'releases'], ['pmm', 'token'], ['pmm'], ['help'], ['version'], ['bogus'],
);
const commandLine = fc.tuple(command, fc.array(flag, { maxLength: 7 }), fc.constantFrom(S('in.bu'), S('bad.bu'), S('missing.bu'), S('dir'))).map(([cmd, flags, input]) => {
  const argv = [...cmd, ...flags.flat()];
  // Without INPUT, generate and validate read stdin (as butane does): give them a file.
  return cmd[0] === 'generate' || cmd[0] === 'validate' ? [...argv, input] : argv;
});

/** Closer to what users type: a VM command with a provider, a name and a state dir, then a few more flags. */
const vmCommandLine = fc
  .tuple(
    fc.constantFrom('provision', 'status', 'upgrade', 'destroy', 'ssh', 'console', 'logs', 'list'),
    fc.constantFrom('libvirt', 'aws', 'gcp', 'digitalocean'),
    names,
    paths,
    fc.array(fc.oneof(fc.tuple(fc.constantFrom('--image', '--ssh-key', '--admin-password-file'), files), fc.tuple(fc.constantFrom('--memory', '--cpus', '--data-size', '--pmm-tag', '--stage', '--network'), values), fc.tuple(fc.constantFrom('--json', '--dry-run', '--keep-password', '--skip-health-check', '--all'))), { maxLength: 4 }),
  )
  .map(([cmd, provider, name, state, more]) => [cmd, '--provider', provider, '--name', name, '--state-dir', state, '--storage-dir', S('storage'), ...more.flat()]);
const anyCommandLine = fc.oneof(commandLine, vmCommandLine);

interface Outcome {
  code: number;
  stderr: string;
  ms: number;
}

const saved = { cwd: process.cwd(), env: { ...process.env }, connect: net.Socket.prototype.connect };
const egress: string[] = [];
/**
 * The clouds' stand-in: every request is refused as an authorization failure, in EC2's XML or Google's JSON
 * error shape, so the real SDK clients map it (exit 4) at once instead of retrying a closed port.
 */
let cloud: Server;

beforeAll(async () => {
  cloud = createServer((req, res) => {
    req.resume();
    if (req.url?.includes('/compute/') || req.url?.includes('/v1/')) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 403, message: 'fuzz sandbox: forbidden', errors: [{ reason: 'forbidden', message: 'fuzz sandbox: forbidden' }] } }));
    } else {
      res.writeHead(403, { 'content-type': 'text/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>AuthFailure</Code><Message>fuzz sandbox: forbidden</Message></Error></Errors><RequestID>fuzz</RequestID></Response>');
    }
  });
  await new Promise<void>((resolve) => cloud.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(cloud.address() as AddressInfo).port}`;
  mkdirSync(S('bin'));
  for (const tool of ['virsh', 'qemu-img', 'ssh', 'xz', 'ssh-keygen']) {
    writeFileSync(S(`bin/${tool}`), STAND_IN);
    chmodSync(S(`bin/${tool}`), 0o755);
  }
  mkdirSync(S('dir'));
  mkdirSync(S('ro'), { mode: 0o500 });
  mkdirSync(S('home'));
  mkdirSync(S('providers'));
  execFileSync('mkfifo', [S('fifo')]);
  writeFileSync(S('file'), 'not a directory');
  writeFileSync(S('big'), Buffer.alloc(3 << 20, 0x61));
  writeFileSync(S('password'), 'Fuzz-Password-1234567\n', { mode: 0o600 });
  writeFileSync(S('key.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKc2Wm0dDx8zxSK8aYd0MbQmSoltpZ0rEkR3zWv1xnEF ops@example\n');
  writeFileSync(S('in.bu'), 'variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents: { inline: hi }\n');
  writeFileSync(S('bad.bu'), 'variant: fcos\nversion: 1.5.0\nstorage: { files: [ { path: relative } ] }\n');
  writeFileSync(S('bomb.yaml'), ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [*${'abcdefghi'[i]}, *${'abcdefghi'[i]}, *${'abcdefghi'[i]}, *${'abcdefghi'[i]}, *${'abcdefghi'[i]}, *${'abcdefghi'[i]}, *${'abcdefghi'[i]}, *${'abcdefghi'[i]}, *${'abcdefghi'[i]}]`)].join('\n'));
  writeFileSync(S('providers/libvirt.yaml'), 'network: none\n');
  writeFileSync(join(victim, 'Cargo.lock'), 'keep');
  process.chdir(sandbox);
  Object.assign(process.env, {
    PATH: `${S('bin')}:${process.env.PATH ?? ''}`,
    HOME: S('home'),
    XDG_STATE_HOME: S('home/state'),
    XDG_DATA_HOME: S('home/data'),
    XDG_CACHE_HOME: S('home/cache'),
    CNVM_EC2_ENDPOINT: endpoint,
    CNVM_GCE_ENDPOINT: endpoint,
    CNVM_GCP_SECRETMANAGER_ENDPOINT: endpoint,
    CNVM_DO_ENDPOINT: endpoint,
    DIGITALOCEAN_TOKEN: 'fuzz-token',
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'fuzz',
    AWS_SECRET_ACCESS_KEY: 'fuzz',
    AWS_REGION: 'us-east-1',
    AWS_MAX_ATTEMPTS: '1',
  });
  // Anything that tries to leave loopback is refused and counted.
  net.Socket.prototype.connect = function guarded(this: net.Socket, ...args: unknown[]) {
    const first = args[0] as { host?: string; path?: string } | number | string;
    const host = typeof first === 'object' && first ? (first.path ? 'unix' : (first.host ?? 'localhost')) : typeof args[1] === 'string' ? args[1] : 'localhost';
    if (!/^(127\.|localhost$|::1$|unix$)/.test(host)) {
      egress.push(host);
      process.nextTick(() => this.destroy(new Error(`fuzz sandbox: no traffic to ${host}`)));
      return this;
    }
    return (saved.connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
});

afterAll(() => {
  cloud.close();
  net.Socket.prototype.connect = saved.connect;
  process.chdir(saved.cwd);
  for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
  Object.assign(process.env, saved.env);
  chmodSync(S('ro'), 0o700);
  rmSync(sandbox, { recursive: true, force: true });
  rmSync(victim, { recursive: true, force: true });
});

/** One command line in this process, its output captured, within the bound. */
async function runOnce(argv: string[]): Promise<Outcome> {
  // CNVM_FUZZ_TRACE=FILE: each command line is appended before it runs (to find one that blocks the process).
  if (process.env.CNVM_FUZZ_TRACE) writeFileSync(process.env.CNVM_FUZZ_TRACE, `${JSON.stringify(argv)}\n`, { flag: 'a' });
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await Promise.race([run(argv), new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), CASE_BOUND_MS)))]);
    return { code, stderr, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('generated command lines against a sandbox', () => {
  it(`${RUNS} argument vectors: documented exit codes, never 70 or a stack, nothing outside the sandbox, no egress, each within the bound`, async () => {
    const documented = documentedExitCodes();
    expect(documented.has(2) && documented.has(70)).toBe(true);
    const repoBefore = gitStatus();
    const victimBefore = snapshot(victim);
    const codes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(anyCommandLine, async (argv) => {
        const r = await runOnce(argv);
        codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        const shown = JSON.stringify(argv);
        expect(r.code, `${shown} did not end within ${CASE_BOUND_MS} ms`).not.toBe(-1);
        expect(r.code, `${shown}: ${r.stderr}`).not.toBe(70);
        expect(documented.has(r.code), `${shown} exit ${r.code} is not in README's table: ${r.stderr}`).toBe(true);
        expect(r.stderr, shown).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
      }),
      { numRuns: RUNS, seed: Number(process.env.CNVM_FUZZ_SEED ?? 20261207), endOnFailure: true },
    );
    expect(egress, 'connections that tried to leave loopback').toEqual([]);
    expect(snapshot(victim)).toEqual(victimBefore);
    expect(gitStatus()).toBe(repoBefore);
    // Every run is counted, and the vectors reach more than the flag parser.
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(RUNS);
    expect(codes.size, JSON.stringify([...codes])).toBeGreaterThanOrEqual(3);
    console.log(`argument fuzz: ${RUNS} vectors, exit codes ${JSON.stringify(Object.fromEntries([...codes].sort((a, b) => a[0] - b[0])))}`);
  }, 600_000);
});
