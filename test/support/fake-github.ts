// A loopback stand-in for the part of GitHub's REST API cnvm uses: GET /repos/{owner}/{repo}/releases, paged with
// per_page/page and an RFC 8288 Link header as api.github.com pages, answering 403 with rate-limit headers when told.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRelease {
  tag_name: string;
  draft?: boolean;
  prerelease?: boolean;
  published_at?: string;
}

export interface FakeGitHub {
  baseUrl: string;
  /** Every request as `METHOD path?query auth=…`. */
  seen: string[];
  releases: FakeRelease[];
  mode: 'ok' | 'ratelimit' | 'error';
  close(): Promise<void>;
}

export async function startFakeGitHub(releases: FakeRelease[] = []): Promise<FakeGitHub> {
  const state = { seen: [] as string[], releases, mode: 'ok' as FakeGitHub['mode'] };
  let baseUrl = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    state.seen.push(`${req.method} ${url.pathname}${url.search} auth=${req.headers.authorization ?? '-'}`);
    if (state.mode === 'ratelimit') {
      res.writeHead(403, { 'content-type': 'application/json', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600) });
      res.end(JSON.stringify({ message: 'API rate limit exceeded', documentation_url: 'https://docs.github.com/rest/rate-limit' }));
      return;
    }
    if (state.mode === 'error') {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Server Error' }));
      return;
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)\/releases$/.exec(url.pathname);
    if (req.method !== 'GET' || !m || m[1] !== 'percona' || m[2] !== 'pmm') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(state.releases.length / perPage));
    const link = (p: number, rel: string): string => `<${baseUrl}${url.pathname}?per_page=${perPage}&page=${p}>; rel="${rel}"`;
    const links = [...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])];
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...(links.length ? { link: links.join(', ') } : {}) });
    res.end(JSON.stringify(state.releases.slice((page - 1) * perPage, page * perPage).map((r, i) => ({ id: page * 1000 + i, html_url: `https://github.com/percona/pmm/releases/tag/${r.tag_name}`, draft: false, prerelease: false, ...r }))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    get seen() { return state.seen; },
    get releases() { return state.releases; },
    set releases(r) { state.releases = r; },
    get mode() { return state.mode; },
    set mode(m) { state.mode = m; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
