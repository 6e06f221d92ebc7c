// `cnvm pmm …`: PMM's own operations. `releases` lists the stable PMM 3 releases --pmm-tag can name (newest first),
// from percona/pmm's GitHub releases; GITHUB_TOKEN raises the rate limit and is never printed. `token` is in
// pmm-token.ts.
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';

const RELEASES_FLAGS: FlagSpec[] = [
  { name: 'json', help: 'Machine output: {ok, command, releases: [{version, tagName, publishedAt, url}]}' },
  { name: 'limit', value: true, help: 'Show at most N releases (default: all)' },
  { name: 'help', short: 'h', help: 'Show this help' },
];

const PMM_USAGE = `Usage: cnvm pmm <subcommand> [flags]

Subcommands:
  releases [--json] [--limit N]   Stable PMM 3 releases (what --pmm-tag latest, 3.N or 3.N.M resolves against)
  token create|rotate|list|revoke PMM service-account tokens into your secret store (cnvm pmm token --help)`;

export async function runPmm(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'releases') return runReleases(rest);
  if (sub === 'token') return (await import('./pmm-token.js')).runPmmToken(rest);
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${PMM_USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown pmm subcommand '${sub}'\n\n${PMM_USAGE}`);
}

async function runReleases(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, RELEASES_FLAGS);
  if (flags.help) return void process.stdout.write(`Usage: cnvm pmm releases [flags]\n\n${flagHelp(RELEASES_FLAGS)}\n`), 0;
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const limitText = typeof flags.limit === 'string' ? flags.limit : undefined;
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a whole number ≥ 1, got ${limitText}`);
  const { listPmmReleases } = await import('../workload/pmm-release.js');
  const token = process.env.GITHUB_TOKEN;
  const releases = (await listPmmReleases(token ? { token } : {})).slice(0, limit);
  if (flags.json) {
    (await import('./output.js')).jsonOut('pmm releases', { releases });
    return 0;
  }
  for (const r of releases) process.stdout.write(`${r.version.padEnd(10)} ${r.publishedAt?.slice(0, 10) ?? ''}\n`.replace(/ +\n$/, '\n'));
  return 0;
}
