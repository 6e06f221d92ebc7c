// `cnvm pmm token create|rotate|list|revoke`: PMM service-account tokens into the team's secret store. This layer
// parses flags, finds PMM (the VM's URL as `cnvm status` shows it, or --url), reads the admin password, and prints;
// the work is in lifecycle/pmm-token.ts. The token is printed only with --show; never in progress lines or --json.
import { readFileSync, statSync } from 'node:fs';
import type { CreateInput, PmmEndpoint, RevokeResult, TokenResult } from '../lifecycle/pmm-token.js';
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { IoError, UsageError } from './errors.js';
import { STATUS_FLAGS } from './lifecycle-flags.js';
import { jsonOut } from './output.js';
import type { Flags } from './provider-commands.js';

const TOKEN = 'The token';
const PMM = 'Which PMM';
export const PMM_TOKEN_FLAGS: FlagSpec[] = [
  { name: 'vm', value: true, help: 'the cnvm VM whose PMM issues the token (with --provider and its location flags)', group: PMM },
  { name: 'url', value: true, help: 'PMM at this https URL instead of a cnvm VM (needs --admin-password-file)', group: PMM },
  ...STATUS_FLAGS.filter((f) => f.name !== 'name' && f.name !== 'json' && f.name !== 'help').map((f) => (f.group === 'Which VM' ? { ...f, group: PMM } : f)),
  { name: 'admin-password-file', value: true, help: "PMM's admin password from FILE (default: cnvm's copy, while it keeps one)", group: PMM },
  { name: 'admin-user', value: true, help: 'the PMM user to authenticate as (default admin)', group: PMM },
  { name: 'pmm-fingerprint', value: true, help: "trust PMM's certificate with this SHA-256 fingerprint (first use, or after it was replaced)", group: PMM },
  { name: 'role', value: true, help: 'create: the service account role: viewer, editor or admin (default viewer)', group: TOKEN },
  { name: 'store', value: true, help: 'file:PATH, k8s-secret:FILE, vault:MOUNT/PATH, aws-secretsmanager:NAME, gcp-secretmanager:NAME', group: TOKEN },
  { name: 'rotate', help: "create: replace cnvm's existing token of NAME (new one stored first, then the old revoked)", group: TOKEN },
  { name: 'expires-in', value: true, help: 'the token expires after this many days (default: never)', group: TOKEN },
  { name: 'show', help: 'print the token (once) on stdout; without it the token is only in the store', group: TOKEN },
  { name: 'delete-secret', help: 'revoke: also delete the stored secret', group: TOKEN },
  { name: 'json', help: 'machine-readable output (see docs/json-output.md); never carries the token', group: 'Output' },
  { name: 'help', short: 'h', help: 'show this help', group: 'Output' },
];

const USAGE = `PMM service-account tokens: created through PMM's API, stored in your secret store.

Usage:
  cnvm pmm token create NAME (--vm VM --provider P | --url URL) [--role viewer|editor|admin] [--store STORE] [--rotate] [--show]
  cnvm pmm token rotate NAME (--vm VM --provider P | --url URL) [--store STORE] [--show]
  cnvm pmm token list (--vm VM --provider P | --url URL) [--json]
  cnvm pmm token revoke NAME (--vm VM --provider P | --url URL) [--delete-secret [--store STORE]]

${flagHelp(PMM_TOKEN_FLAGS)}

Examples:
  cnvm pmm token create ci --vm pmm1 --provider libvirt --role viewer --store vault:secret/pmm/ci
  cnvm pmm token create ci --vm pmm1 --provider aws --store aws-secretsmanager:pmm/ci --json
  cnvm pmm token rotate ci --vm pmm1 --provider libvirt
  cnvm pmm token revoke ci --vm pmm1 --provider aws --delete-secret
`;

const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

function readAdminPassword(path: string, note: (l: string) => void): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new IoError(`--admin-password-file ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (!password || /[\r\n\0]/.test(password)) throw new UsageError(`--admin-password-file ${path}: give the password alone on one line`);
  if ((statSync(path).mode & 0o077) !== 0) note(`warning: ${path} is readable by other users; chmod 600 it`);
  return password;
}

async function endpointFrom(flags: Flags, note: (l: string) => void): Promise<{ ep: PmmEndpoint; lockStore: import('../lifecycle/store.js').StateStore }> {
  const { storeFrom, settingsFrom, providerFor } = await import('./provider-commands.js');
  const { PmmFiles, urlKey } = await import('../lifecycle/pmm-files.js');
  const vm = str(flags, 'vm');
  const url = str(flags, 'url');
  const providerName = str(flags, 'provider');
  if (vm && url) throw new UsageError('give --vm (a cnvm VM) or --url (any PMM), not both');
  if (!vm && !url) throw new UsageError('give --vm VM --provider P (a cnvm VM), or --url URL');
  if (vm && !providerName) throw new UsageError('--vm needs --provider (the VM is found as cnvm status finds it)');
  const passwordFile = str(flags, 'admin-password-file');
  if (url && !passwordFile) throw new UsageError('--url needs --admin-password-file (cnvm keeps passwords only for its own VMs)');
  if (url) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new UsageError(`--url ${url}: not a URL`);
    }
    if (u.protocol !== 'https:') throw new UsageError(`--url ${url}: PMM's API is reached over https only`);
  }
  const fingerprint = str(flags, 'pmm-fingerprint');
  const password = passwordFile ? readAdminPassword(passwordFile, note) : undefined;
  const state = await storeFrom(flags);
  const base = { user: str(flags, 'admin-user') ?? 'admin', ...(fingerprint ? { fingerprint } : {}), note };
  if (url) return { ep: { ...base, url, password: password as string, files: new PmmFiles(state.dir, urlKey(url)) }, lockStore: state };
  const resolved = await settingsFrom(flags, providerName as string, vm);
  const { provider } = await providerFor(providerName as string, resolved, state, vm);
  const { vmPmmUrl } = await import('../lifecycle/pmm-token.js');
  const pmmUrl = await vmPmmUrl(provider, state, vm as string);
  const kept = password ?? state.readSecret(provider.name, vm as string);
  if (kept === undefined) {
    throw new UsageError(`no admin password for ${vm}: cnvm deleted its copy once PMM had applied it (provision shows it once); give --admin-password-file FILE`);
  }
  return { ep: { ...base, url: pmmUrl, password: kept, files: new PmmFiles(state.dir, `${provider.name}-${vm}`) }, lockStore: state };
}

function tokenJson(r: TokenResult): object {
  // Everything but the token itself.
  return { action: r.action, serviceAccount: r.serviceAccount, token: { id: r.token.id, name: r.token.name }, store: r.store, revoked: r.revoked, notRevoked: r.notRevoked, certificate: r.certificate };
}

/** `cnvm pmm token SUB …` (argv after `token`). */
export async function runPmmToken(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (!['create', 'rotate', 'list', 'revoke'].includes(sub)) throw new UsageError(`unknown command 'pmm token ${sub}': create, rotate, list or revoke\n\n${USAGE.trimEnd()}`);
  const { flags, positionals } = parseArgs(rest, PMM_TOKEN_FLAGS);
  if (flags.help) return void process.stdout.write(USAGE), 0;
  const json = flags.json === true;
  const note = (line: string): void => void process.stderr.write(`${line}\n`);
  const name = positionals[0];
  if (sub === 'list' ? positionals.length > 0 : positionals.length !== 1) throw new UsageError(sub === 'list' ? `unexpected argument ${positionals[0]}` : `pmm token ${sub} needs one NAME (the service account)`);
  const lifecycle = await import('../lifecycle/pmm-token.js');
  if (name) lifecycle.validateTokenName(name);
  const misplaced = (flag: string, only: string): void => {
    if (flags[flag] !== undefined) throw new UsageError(`--${flag} is for ${only}`);
  };
  if (sub !== 'create') for (const f of ['role', 'rotate']) misplaced(f, 'create');
  if (sub !== 'revoke') misplaced('delete-secret', 'revoke');
  if (sub === 'list' || sub === 'revoke') for (const f of ['show', 'expires-in']) misplaced(f, 'create and rotate');
  const role = sub === 'create' ? lifecycle.roleOf(str(flags, 'role') ?? 'viewer') : undefined;
  const days = str(flags, 'expires-in');
  if (days !== undefined && !/^[1-9]\d{0,4}$/.test(days)) throw new UsageError(`--expires-in ${days}: a whole number of days ≥ 1`);
  const { parseStore } = await import('../workload/token-stores/index.js');
  const storeSpec = str(flags, 'store');
  const store = storeSpec && sub !== 'revoke' ? await parseStore(storeSpec) : undefined;
  if (sub === 'revoke' && storeSpec) await parseStore(storeSpec); // the form is checked before anything happens
  const { ep, lockStore } = await endpointFrom(flags, note);

  if (sub === 'list') {
    const { accounts, certificate } = await lifecycle.listTokens(ep);
    if (json) jsonOut('pmm token', { action: 'list', url: ep.url, accounts, certificate });
    else {
      process.stdout.write(`PMM ${ep.url}: ${accounts.length} service account(s)\n`);
      for (const a of accounts) {
        process.stdout.write(`${a.name} (id ${a.id}, ${a.role}${a.disabled ? ', disabled' : ''})${a.store ? ` → ${a.store.location}` : ''}\n`);
        for (const t of a.tokens) process.stdout.write(`  token ${t.name} (id ${t.id})${t.managedByCnvm ? ' [cnvm]' : ''}${t.expired ? ' expired' : t.expiration ? ` expires ${t.expiration}` : ''}\n`);
      }
    }
    return 0;
  }
  if (sub === 'revoke') {
    const r: RevokeResult = await lifecycle.revokeToken(ep, lockStore, { name: name as string, deleteSecret: flags['delete-secret'] === true, store: (s) => parseStore(s), ...(storeSpec ? { storeSpec } : {}) });
    if (json) jsonOut('pmm token', { action: 'revoke', url: ep.url, ...r });
    else {
      process.stdout.write(`${name}: revoked ${r.revoked.length ? r.revoked.map((t) => t.name).join(', ') : 'no cnvm token'} in PMM${r.serviceAccount?.deleted ? '; service account deleted' : r.serviceAccount ? `; service account kept (other tokens: ${r.kept.map((t) => t.name).join(', ')})` : ''}\n`);
      if (r.secret) process.stdout.write(`secret ${r.secret.location}: ${r.secret.detail}\n`);
    }
    return 0;
  }
  // create / rotate
  const entry = ep.files.tokens()[name as string];
  const target = store ?? (sub === 'rotate' && entry?.store ? await parseStore(entry.store) : undefined);
  if (!target && flags.show !== true) throw new UsageError(`give --store STORE (or --show to print the token once): a token is shown by PMM only when it is created`);
  const input: CreateInput = {
    name: name as string,
    ...(role ? { role } : {}),
    ...(target ? { store: target } : {}),
    rotate: sub === 'rotate' || flags.rotate === true,
    mustExist: sub === 'rotate',
    ...(days ? { secondsToLive: Number(days) * 86_400 } : {}),
  };
  let result: TokenResult;
  try {
    result = await lifecycle.createToken(ep, lockStore, input);
  } catch (err) {
    // Both tokens work after a half-done rotation: the new one is stored, so --show still shows it (once).
    if (err instanceof lifecycle.PartialRotationError && flags.show === true && !json) process.stdout.write(`${err.result.token.key}\n`);
    throw err;
  }
  if (json) jsonOut('pmm token', { url: ep.url, ...tokenJson(result) });
  else {
    note(`${name}: ${result.action === 'rotate' ? 'rotated' : 'created'} token ${result.token.name} (id ${result.token.id}) of service account ${result.serviceAccount.name} (id ${result.serviceAccount.id}, ${result.serviceAccount.role}${result.serviceAccount.created ? ', new' : ''})`);
    if (result.store) note(`stored at ${result.store.location}${result.store.version ? ` (version ${result.store.version})` : ''}`);
    for (const t of result.revoked) note(`revoked old token ${t.name} (id ${t.id})`);
  }
  if (flags.show === true) {
    if (json) note('--show: not printed with --json (the JSON output never carries the token)');
    else process.stdout.write(`${result.token.key}\n`);
  }
  return 0;
}
