// The release resolver (node's fetch) against a local stand-in for api.github.com that pages like GitHub does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestPmm3, nextLink, PMM_PINNED_TAG, resolvePmmTag } from '../../src/workload/pmm-release.js';

let server: Server;
let baseUrl = '';
let mode: 'ok' | 'ratelimit' | 'empty' | 'paged' = 'ok';
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} auth=${req.headers.authorization ?? '-'}`);
    if (mode === 'ratelimit') {
      res.writeHead(403, { 'content-type': 'application/json', 'x-ratelimit-remaining': '0' });
      res.end(JSON.stringify({ message: 'API rate limit exceeded' }));
      return;
    }
    if (mode === 'paged') {
      // Page 1 holds only 2.x and a pre-release; the Link header leads to page 2, as GitHub's does.
      const page = new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? '1';
      const next = `<${baseUrl}/repos/percona/pmm/releases?per_page=100&page=2>; rel="next", <${baseUrl}/repos/percona/pmm/releases?per_page=100&page=2>; rel="last"`;
      res.writeHead(200, { 'content-type': 'application/json', ...(page === '1' ? { link: next } : {}) });
      res.end(JSON.stringify(page === '1' ? [{ tag_name: 'v3.6.0-rc', prerelease: true }, { tag_name: 'v2.44.1' }] : [{ tag_name: 'v3.5.0' }, { tag_name: 'v3.4.9' }]));
      return;
    }
    const releases =
      mode === 'empty'
        ? [{ tag_name: 'v2.44.0', draft: false, prerelease: false }]
        : [
            { tag_name: 'v3.5.0-rc1', draft: false, prerelease: true },
            { tag_name: 'v3.4.1', draft: false, prerelease: false },
            { tag_name: 'v3.10.0', draft: true, prerelease: false },
            { tag_name: 'v3.3.2', draft: false, prerelease: false },
            { tag_name: 'v2.44.1', draft: false, prerelease: false },
          ];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(releases));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('PMM release resolution', () => {
  it('picks the newest stable 3.x, ignoring drafts, pre-releases and 2.x', () => {
    expect(newestPmm3([{ tag_name: 'v3.9.0' }, { tag_name: 'v3.10.0' }, { tag_name: 'v3.10.1', prerelease: true }])).toBe('3.10.0');
  });

  it('asks GitHub\'s releases API with the token', async () => {
    mode = 'ok';
    seen.length = 0;
    await expect(resolvePmmTag({ baseUrl, token: 'test-token' })).resolves.toEqual({ tag: '3.4.1', source: 'github' });
    expect(seen[0]).toMatch(/^GET \/repos\/percona\/pmm\/releases\?per_page=100 auth=token test-token$/);
  });

  it('fails clearly when rate limited or offline, unless the pinned fallback is allowed', async () => {
    mode = 'ratelimit';
    await expect(resolvePmmTag({ baseUrl })).rejects.toThrow(/rate limited \(HTTP 403\); set GITHUB_TOKEN.*--pmm-tag/);
    await expect(resolvePmmTag({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 })).rejects.toThrow(/cannot resolve the latest PMM 3 release/);
    const pinned = await resolvePmmTag({ baseUrl: 'http://127.0.0.1:9', allowPinnedFallback: true, timeoutMs: 2000 });
    expect(pinned.tag).toBe(PMM_PINNED_TAG);
    expect(pinned.source).toBe('pinned');
    expect(pinned.reason).toBeTruthy();
  });

  it('follows the Link header to the next page until a stable 3.x shows up', async () => {
    mode = 'paged';
    seen.length = 0;
    await expect(resolvePmmTag({ baseUrl })).resolves.toEqual({ tag: '3.5.0', source: 'github' });
    expect(seen.map((l) => l.replace(/ auth=.*/, ''))).toEqual(['GET /repos/percona/pmm/releases?per_page=100', 'GET /repos/percona/pmm/releases?per_page=100&page=2']);
    expect(nextLink('<https://a/x?page=3>; rel="next", <https://a/x?page=9>; rel="last"')).toBe('https://a/x?page=3');
    expect(nextLink('<https://a/x?page=1>; rel="prev"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });

  it('says so when there is no 3.x release', async () => {
    mode = 'empty';
    await expect(resolvePmmTag({ baseUrl })).rejects.toThrow(/no stable 3.x release/);
  });
});
