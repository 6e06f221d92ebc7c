// Reading and checking the user's inputs before anything happens: ssh key files, the password file, sizes and
// numbers, the stream. Each error names the flag (or profile key) and the file, with the exit code of its kind.
import { statSync } from 'node:fs';
import { LIMITS, readLimited } from '../util/read-limited.js';
import { homedir } from 'node:os';
import type { DesiredOverrides } from '../lifecycle/desired.js';
import type { DesiredState } from '../lifecycle/record.js';
import { STREAMS } from '../image/stream.js';
import { providerModule } from '../provider/registry.js';
import { SSH_KEY } from '../workload/pmm-server.js';
import { splitPmmEnv } from '../config/secrets.js';
import { IoError, UsageError } from './errors.js';

type Resolved = { settings: Record<string, unknown>; origins: Record<string, string>; stage?: string };


/** A regular file of at most `limit` bytes (a device, FIFO or huge file is exit 2; a failed read exit 3). */
function readText(path: string, what: string, limit: number): string {
  try {
    return readLimited(path, { limit, what });
  } catch (err) {
    if ((err as { kind?: string }).kind !== 'io') throw err;
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    throw new IoError(`cannot read ${what} ${path}: ${cause?.code === 'ENOENT' ? 'no such file' : (err as Error).message.replace(/^cannot read .*?: /, '')}`);
  }
}

/** ssh_keys entries are public keys, or files holding them (relative to the working directory). */
export function readSshKeys(entries: unknown, origin: string): string[] {
  const list = Array.isArray(entries) ? (entries as string[]) : [];
  return list.flatMap((entry) => {
    if (SSH_KEY.test(entry.trim())) return [entry.trim()];
    const path = entry.replace(/^~(?=\/)/, homedir());
    const text = readText(path, `ssh key (${origin})`, LIMITS.sshKey);
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw new UsageError(`${origin} ${entry}: this is a PRIVATE key; give its public half (${entry}.pub)`);
    const keys = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    if (keys.length === 0) throw new UsageError(`${origin} ${entry}: the file holds no ssh public key`);
    keys.forEach((k, i) => {
      if (!SSH_KEY.test(k)) throw new UsageError(`${origin} ${entry}, line ${i + 1}: not an ssh public key ("${k.slice(0, 30)}…"); expected e.g. "ssh-ed25519 AAAA… comment"`);
    });
    return keys;
  });
}

/** The admin password file: one line, at least 8 characters; warned about when others can read it. */
export function readPasswordFile(path: string, warn: (line: string) => void): string {
  const text = readText(path, 'password file (--admin-password-file)', LIMITS.password);
  const password = text.replace(/\r?\n$/, '');
  if (password.length === 0) throw new UsageError(`--admin-password-file ${path}: the file is empty`);
  if (/[\r\n\0]/.test(password)) throw new UsageError(`--admin-password-file ${path}: the password must be on one line`);
  if (password.length < 8) throw new UsageError(`--admin-password-file ${path}: the password must be at least 8 characters`);
  if ((statSync(path).mode & 0o077) !== 0) warn(`warning: ${path} is readable by other users (mode ${(statSync(path).mode & 0o777).toString(8)}); chmod 600 it`);
  return password;
}

export function checkStream(stream: string | undefined, origin: string): void {
  if (stream !== undefined && !(STREAMS as readonly string[]).includes(stream)) throw new UsageError(`${origin} ${stream}: unknown Fedora CoreOS stream (${STREAMS.join(', ')})`);
}

export function checkPositive(value: number | undefined, origin: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new UsageError(`${origin} must be a whole number ≥ 1, got ${value}`);
}

/** Values set by a flag on this command line (not by a profile file or a default). */
export const fromFlag = (r: Resolved, key: string): boolean => (r.origins[key] ?? '').startsWith('--');
const originOf = (r: Resolved, key: string): string => r.origins[key] ?? key;

export interface DesiredInputs {
  /** The whole desired state for a new VM (image left for the caller to resolve when not given). */
  defaults: Omit<DesiredState, 'image'> & { image?: DesiredState['image'] };
  /** What this command line gave explicitly. */
  overrides: DesiredOverrides;
  /** Secret PMM settings (by name, by value or marked in `pmm.secret_env`): for the first boot's config only. */
  secretEnv: Record<string, string>;
}

/** The desired state from layered settings, every value checked. */
export async function desiredFrom(r: Resolved, providerName: string): Promise<DesiredInputs> {
  const { parseSize } = await import('../lifecycle/names.js');
  const s = r.settings;
  const mod = providerModule(providerName);
  const dataSizeGiB = parseSize(typeof s.data_size === 'string' ? s.data_size : '20G');
  const memoryMiB = typeof s.memory === 'number' ? s.memory : undefined;
  const cpus = typeof s.cpus === 'number' ? s.cpus : undefined;
  checkPositive(memoryMiB, originOf(r, 'memory'));
  checkPositive(cpus, originOf(r, 'cpus'));
  if (memoryMiB !== undefined && memoryMiB < 256) throw new UsageError(`${originOf(r, 'memory')}: ${memoryMiB} MiB is too little for PMM (it needs ≥ 2048; the minimum cnvm accepts is 256)`);
  checkStream(typeof s.stream === 'string' ? s.stream : undefined, originOf(r, 'stream'));
  const sshKeys = readSshKeys(s.ssh_keys, originOf(r, 'ssh_keys'));
  const pmmSettings = (s.pmm ?? {}) as { tag?: string; publish_http?: boolean; env?: Record<string, unknown>; secret_env?: Record<string, unknown> };
  const strings = (m: Record<string, unknown> | undefined): Record<string, string> | undefined => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined);
  const { env, secret: secretEnv } = splitPmmEnv(strings(pmmSettings.env), strings(pmmSettings.secret_env));
  const pmm = {
    ...(pmmSettings.tag ? { tag: pmmSettings.tag } : {}),
    ...(pmmSettings.publish_http !== undefined ? { publishHttp: pmmSettings.publish_http } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(Object.keys(secretEnv).length ? { secretEnv: Object.keys(secretEnv).sort() } : {}),
  };
  const placement: DesiredState['placement'] = {};
  const explicitPlacement: DesiredState['placement'] = {};
  for (const decl of mod.settings) {
    const v = s[decl.key];
    if (v === undefined || decl.transient) continue;
    placement[decl.key] = v as string | number | string[];
    if (fromFlag(r, decl.key)) explicitPlacement[decl.key] = v as string | number | string[];
  }
  const image = typeof s.image === 'string' ? mod.imageFromFlag(s.image) : undefined;
  const overrides: DesiredOverrides = {
    ...(fromFlag(r, 'image') && image ? { image } : {}),
    ...(fromFlag(r, 'data_size') ? { dataSizeGiB } : {}),
    ...(fromFlag(r, 'memory') && memoryMiB ? { memoryMiB } : {}),
    ...(fromFlag(r, 'cpus') && cpus ? { cpus } : {}),
    ...(fromFlag(r, 'ssh_keys') ? { sshKeys } : {}),
    ...(fromFlag(r, 'pmm.tag') && pmm.tag ? { pmm: { tag: pmm.tag } } : {}),
    ...(Object.keys(explicitPlacement).length ? { placement: explicitPlacement } : {}),
    ...(r.stage ? { stage: r.stage } : {}),
  };
  return {
    defaults: { ...(image ? { image } : {}), dataSizeGiB, ...(memoryMiB ? { memoryMiB } : {}), ...(cpus ? { cpus } : {}), sshKeys, pmm, placement, ...(r.stage ? { stage: r.stage } : {}) },
    overrides,
    secretEnv,
  };
}
