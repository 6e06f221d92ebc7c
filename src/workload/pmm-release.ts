// Which PMM 3 image tag to run: resolve "the newest 3.x release" from percona/pmm's GitHub releases (REST API), or
// fall back to a pinned tag the caller chose to accept. Offline or rate-limited, the error says so and how to
// proceed (--pmm-tag); nothing here runs during a plain render.
import { CnvmError } from '../errors.js';

export const PMM_PINNED_TAG = '3.4.1';

export class PmmReleaseError extends CnvmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('provider', message, options);
  }
}

export interface ResolveOptions {
  /** GitHub API base URL (tests point it at a local server). */
  baseUrl?: string;
  /** Token for a higher rate limit; read from GITHUB_TOKEN by the CLI, never logged. */
  token?: string;
  /** Use PMM_PINNED_TAG instead of failing when GitHub cannot be reached. */
  allowPinnedFallback?: boolean;
  /** Abort after this many milliseconds (default 10 s). */
  timeoutMs?: number;
}

export interface ResolvedTag {
  tag: string;
  source: 'github' | 'pinned';
  /** Why the pinned tag was used, when it was. */
  reason?: string;
}

const SEMVER = /^v?(3)\.(\d+)\.(\d+)$/;

/** The highest stable 3.x.y among release tag names (drafts and pre-releases excluded). */
export function newestPmm3(releases: { tag_name: string; draft?: boolean; prerelease?: boolean }[]): string | undefined {
  let best: [number, number, number] | undefined;
  for (const r of releases) {
    if (r.draft || r.prerelease) continue;
    const m = SEMVER.exec(r.tag_name);
    if (!m) continue;
    const v: [number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!best || v[0] > best[0] || (v[0] === best[0] && (v[1] > best[1] || (v[1] === best[1] && v[2] > best[2])))) best = v;
  }
  return best ? best.join('.') : undefined;
}

export async function resolvePmmTag(options: ResolveOptions = {}): Promise<ResolvedTag> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  try {
    const tag = newestPmm3(await listReleasesUntilStable3(options, signal));
    if (!tag) throw new PmmReleaseError('percona/pmm has no stable 3.x release on GitHub');
    return { tag, source: 'github' };
  } catch (err) {
    const detail = describe(err);
    if (options.allowPinnedFallback) return { tag: PMM_PINNED_TAG, source: 'pinned', reason: detail };
    throw new PmmReleaseError(
      `cannot resolve the latest PMM 3 release from GitHub (${detail}); pass an explicit tag (--pmm-tag ${PMM_PINNED_TAG}) or allow the pinned fallback`,
      { cause: err },
    );
  }
}

type Release = { tag_name: string; draft?: boolean; prerelease?: boolean };

/** A GitHub API answer other than 2xx, with its status kept for the message. */
class GitHubHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

// One endpoint, one header set and Link-header paging are all this needs from GitHub's REST API, so a plain fetch
// replaces Octokit (whose dependency tree asked for node >= 22).
const MAX_PAGES = 10;

/** GET /repos/percona/pmm/releases page by page (newest first), stopping at the first page with a stable 3.x. */
async function listReleasesUntilStable3(options: ResolveOptions, signal: AbortSignal): Promise<Release[]> {
  const base = (options.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  let url: string | undefined = `${base}/repos/percona/pmm/releases?per_page=100`;
  const releases: Release[] = [];
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const response = await fetch(url, {
      signal,
      headers: {
        accept: 'application/vnd.github+json',
        'user-agent': 'cnvm',
        'x-github-api-version': '2022-11-28',
        ...(options.token ? { authorization: `token ${options.token}` } : {}),
      },
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new GitHubHttpError(response.status, `HTTP ${response.status}`);
    }
    const data = (await response.json()) as unknown;
    if (!Array.isArray(data)) throw new Error('unexpected answer from the GitHub releases API (not a list)');
    const pageReleases = data.filter((r): r is Release => typeof (r as Release | null)?.tag_name === 'string');
    releases.push(...pageReleases);
    if (pageReleases.some((r) => SEMVER.test(r.tag_name) && !r.draft && !r.prerelease)) break;
    url = nextLink(response.headers.get('link'));
  }
  return releases;
}

/** The rel="next" target of an RFC 8288 Link header, as GitHub sends for paged lists. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /^\s*<([^>]+)>(.*)$/.exec(part);
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(m?.[2] ?? '');
    if (m && rel?.[1]?.trim().split(/\s+/).includes('next')) return m[1];
  }
  return undefined;
}

function describe(err: unknown): string {
  const e = err as { status?: number; message?: string; name?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  if (err instanceof GitHubHttpError) {
    if (err.status === 403 || err.status === 429) return `rate limited (HTTP ${err.status}); set GITHUB_TOKEN`;
    return `HTTP ${err.status}`;
  }
  // fetch reports a refused or unreachable connection as "fetch failed" with the socket error as its cause.
  if (e.cause?.code) return `${e.message ?? 'fetch failed'}: ${e.cause.code}`;
  return e.message ?? String(err);
}
