// Which PMM 3 image tag to run. A user names a release loosely (`latest`, `3`, `3.4`) or exactly (`3.4.1`); cnvm
// turns a loose name into the concrete newest matching release from percona/pmm's GitHub releases (through
// @octokit/rest, loaded only when a tag is actually resolved), checks an exact one against the same list, and
// records the concrete tag so every later upgrade runs what the plan showed. Offline or rate-limited, an exact tag
// is accepted with a warning (the image may still exist in the registry the VM pulls from); a loose one cannot be
// made concrete and is refused with what to pass instead. Nothing here runs during a plain render.
import { CnvmError } from '../errors.js';

class UsageError extends CnvmError {
  constructor(message: string) {
    super('usage', message);
  }
}

export const PMM_PINNED_TAG = '3.4.1';
/** Where GitHub's REST API is; tests point CNVM_GITHUB_API_URL at a loopback stand-in. */
export const GITHUB_API_ENV = 'CNVM_GITHUB_API_URL';

export class PmmReleaseError extends CnvmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('provider', message, options);
  }
}

export interface ReleaseSource {
  /** GitHub API base URL (default https://api.github.com, or CNVM_GITHUB_API_URL). */
  baseUrl?: string;
  /** Token for a higher rate limit (GITHUB_TOKEN); sent as a header, never logged. */
  token?: string;
  /** Abort after this many milliseconds (default 10 s). */
  timeoutMs?: number;
}

export interface ResolveOptions extends ReleaseSource {
  /** Use PMM_PINNED_TAG instead of failing when GitHub cannot be reached. */
  allowPinnedFallback?: boolean;
}

export interface ResolvedTag {
  tag: string;
  source: 'github' | 'pinned';
  /** Why the pinned tag was used, when it was. */
  reason?: string;
}

/** A stable PMM 3 release as GitHub lists it, newest first in every list this module returns. */
export interface PmmRelease {
  version: string;
  tagName: string;
  publishedAt?: string;
  url?: string;
}

/** What the user asked for with --pmm-tag. */
export type PmmTagSpec =
  | { kind: 'latest' }
  | { kind: 'minor'; major: 3; minor: number }
  | { kind: 'exact'; version: string };

const VERSION = /^v?(3)\.(\d+)\.(\d+)$/;
type Triple = [number, number, number];

function triple(text: string): Triple | undefined {
  const m = VERSION.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}
const newer = (a: Triple, b: Triple): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * `latest` and `3` mean the newest 3.x.y; `3.N` the newest 3.N.y; `3.N.M` exactly that release. Anything else
 * (`v3`, `3.99.x`, `2.44.0`, a digest) is a usage error naming the flag, before anything is asked of GitHub.
 */
export function parsePmmTagSpec(text: string, origin = '--pmm-tag'): PmmTagSpec {
  const t = text.trim();
  if (t === 'latest' || t === '3') return { kind: 'latest' };
  const minor = /^3\.(0|[1-9]\d{0,3})$/.exec(t);
  if (minor) return { kind: 'minor', major: 3, minor: Number(minor[1]) };
  if (/^3\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,4})$/.test(t)) return { kind: 'exact', version: t };
  throw new UsageError(
    `${origin} ${JSON.stringify(text)}: not a PMM 3 release; give latest, 3, 3.MINOR or 3.MINOR.PATCH (e.g. ${PMM_PINNED_TAG})`,
  );
}

/** The stable 3.x.y releases among GitHub release entries (drafts and pre-releases excluded), newest first. */
export function stablePmm3(
  releases: { tag_name: string; draft?: boolean; prerelease?: boolean; published_at?: string | null; html_url?: string }[],
): PmmRelease[] {
  const out: (PmmRelease & { t: Triple })[] = [];
  for (const r of releases) {
    const t = r.draft || r.prerelease ? undefined : triple(r.tag_name);
    if (!t) continue;
    out.push({ t, version: t.join('.'), tagName: r.tag_name, ...(r.published_at ? { publishedAt: r.published_at } : {}), ...(r.html_url ? { url: r.html_url } : {}) });
  }
  out.sort((a, b) => newer(b.t, a.t));
  return out.filter((r, i) => i === 0 || r.version !== out[i - 1]?.version).map(({ t: _t, ...r }) => r);
}

/** The highest stable 3.x.y among release tag names. */
export function newestPmm3(releases: { tag_name: string; draft?: boolean; prerelease?: boolean }[]): string | undefined {
  return stablePmm3(releases)[0]?.version;
}

/** The release a spec names, from a list newest first (undefined: no such release). */
export function pickRelease(spec: PmmTagSpec, releases: PmmRelease[]): PmmRelease | undefined {
  if (spec.kind === 'latest') return releases[0];
  if (spec.kind === 'minor') return releases.find((r) => r.version.startsWith(`3.${spec.minor}.`));
  return releases.find((r) => r.version === spec.version);
}

const MAX_PAGES = 10;

/** Every stable PMM 3 release of percona/pmm, newest first, paging through GitHub's releases API with octokit. */
export async function listPmmReleases(options: ReleaseSource = {}): Promise<PmmRelease[]> {
  const { Octokit } = await import('@octokit/rest');
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const octokit = new Octokit({
    baseUrl: (options.baseUrl ?? process.env[GITHUB_API_ENV] ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: 'cnvm',
    ...(options.token ? { auth: options.token } : {}),
    request: { signal, retries: 0 },
    // octokit logs deprecations and warnings through console by default: they would reach the user's terminal.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const entries: Parameters<typeof stablePmm3>[0] = [];
  try {
    let pages = 0;
    for await (const page of octokit.paginate.iterator(octokit.rest.repos.listReleases, { owner: 'percona', repo: 'pmm', per_page: 100 })) {
      entries.push(...page.data);
      if (++pages >= MAX_PAGES) break;
    }
  } catch (err) {
    throw new PmmReleaseError(`cannot list PMM releases from GitHub (${describe(err)})`, { cause: err });
  }
  return stablePmm3(entries);
}

/** The newest stable PMM 3 release, or the pinned tag when allowed and GitHub cannot be reached. */
export async function resolvePmmTag(options: ResolveOptions = {}): Promise<ResolvedTag> {
  try {
    const newest = (await listPmmReleases(options))[0];
    if (!newest) throw new PmmReleaseError('percona/pmm has no stable 3.x release on GitHub');
    return { tag: newest.version, source: 'github' };
  } catch (err) {
    const detail = err instanceof PmmReleaseError ? err.message : describe(err);
    if (options.allowPinnedFallback) return { tag: PMM_PINNED_TAG, source: 'pinned', reason: detail };
    throw new PmmReleaseError(
      `cannot resolve the latest PMM 3 release (${detail}); pass an explicit tag (--pmm-tag ${PMM_PINNED_TAG}) or allow the pinned fallback`,
      { cause: err },
    );
  }
}

export interface ConcreteTag {
  /** What the user wrote. */
  requested: string;
  /** The image tag to run and record. */
  tag: string;
  /** github: resolved or checked against percona/pmm's releases; unchecked: exact tag taken as given, offline. */
  source: 'github' | 'unchecked';
  /** Said to the user when the tag could not be checked. */
  warning?: string;
}

/**
 * A --pmm-tag value made concrete (see the top of this file). Usage errors (exit 2) for a malformed tag or one
 * GitHub does not list; a provider error (exit 4) for a loose tag while GitHub cannot be reached.
 */
export async function concretePmmTag(requested: string, options: ReleaseSource = {}, origin = '--pmm-tag'): Promise<ConcreteTag> {
  const spec = parsePmmTagSpec(requested, origin);
  const what = tagSubject(origin, requested);
  let releases: PmmRelease[];
  try {
    releases = await listPmmReleases(options);
  } catch (err) {
    const why = (err as Error).message;
    if (spec.kind === 'exact') return { requested, tag: spec.version, source: 'unchecked', warning: `warning: ${what} was not checked against PMM's releases: ${why}` };
    throw new PmmReleaseError(`${what}: ${why}; give an exact release (e.g. --pmm-tag ${PMM_PINNED_TAG}) to proceed without GitHub`, { cause: err });
  }
  const hit = pickRelease(spec, releases);
  if (!hit) {
    const newest = releases[0]?.version;
    throw new UsageError(`${what}: percona/pmm has no such stable release${newest ? ` (newest: ${newest}; see cnvm pmm releases)` : ''}`);
  }
  return { requested, tag: hit.version, source: 'github' };
}

/** `--pmm-tag 3` for a flag; `providers/x.yaml:11:8: pmm.tag "3"` for a value read from a file. */
function tagSubject(origin: string, value: string): string {
  return origin.startsWith('--') ? `${origin} ${value}` : `${origin}: pmm.tag ${JSON.stringify(value)}`;
}

function describe(err: unknown): string {
  type E = { status?: number; message?: string; name?: string; response?: unknown; cause?: E & { code?: string } };
  const e = err as E;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.cause?.name === 'TimeoutError' || e.cause?.name === 'AbortError') return 'timed out';
  // octokit reports a failed connection as status 500 with no response; the socket error is in the cause chain.
  const code = e.cause?.code ?? e.cause?.cause?.code;
  if (!e.response && code) return `GitHub unreachable: ${code}`;
  if (e.response && typeof e.status === 'number') {
    if (e.status === 403 || e.status === 429) return `rate limited (HTTP ${e.status}); set GITHUB_TOKEN`;
    return `HTTP ${e.status}`;
  }
  return e.message ?? String(err);
}
