// Which PMM 3 image tag to run: resolve "the newest 3.x release" from percona/pmm's GitHub releases (Octokit), or
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
  const { Octokit } = await import('@octokit/rest');
  const octokit = new Octokit({
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.token ? { auth: options.token } : {}),
    userAgent: 'cnvm',
    // Octokit logs failed requests to the console; the error returned below says it once, in cnvm's words.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    request: { signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) },
  });
  try {
    const releases = await octokit.paginate(octokit.rest.repos.listReleases, { owner: 'percona', repo: 'pmm', per_page: 100 }, (response, done) => {
      // Releases come newest first: one page with a 3.x release is enough.
      if (response.data.some((r) => SEMVER.test(r.tag_name) && !r.draft && !r.prerelease)) done();
      return response.data;
    });
    const tag = newestPmm3(releases);
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

function describe(err: unknown): string {
  const e = err as { status?: number; message?: string; name?: string; response?: unknown };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  if (e.status === 403 || e.status === 429) return `rate limited (HTTP ${e.status}); set GITHUB_TOKEN`;
  // Octokit reports a connection failure as status 500 without a response.
  if (typeof e.status === 'number' && e.status > 0 && e.response !== undefined) return `HTTP ${e.status}`;
  return e.message ?? String(err);
}
