// PMM release lookup through @octokit/rest against a loopback stand-in of GitHub's releases API that pages like
// api.github.com; loose tags made concrete, exact ones checked, malformed ones refused before any request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concretePmmTag, listPmmReleases, newestPmm3, parsePmmTagSpec, PMM_PINNED_TAG, resolvePmmTag } from '../../src/workload/pmm-release.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';

let gh: FakeGitHub;
// 250 entries: three pages at 100 per page, the 3.x releases spread over all of them.
const many = [
  { tag_name: 'v3.6.0-rc1', prerelease: true },
  { tag_name: 'v3.10.0', draft: true },
  ...Array.from({ length: 120 }, (_, i) => ({ tag_name: `v2.${Math.floor(i / 10)}.${i % 10}` })),
  { tag_name: 'v3.5.0' },
  ...Array.from({ length: 100 }, (_, i) => ({ tag_name: `docs-${i}` })),
  { tag_name: 'v3.4.9' },
  { tag_name: 'v3.4.1' },
  { tag_name: 'v3.3.2' },
];

beforeAll(async () => {
  gh = await startFakeGitHub(many);
});
afterAll(() => gh.close());

describe('--pmm-tag values', () => {
  it('accepts latest, 3, 3.N and 3.N.M and refuses everything else before asking anything', () => {
    expect(parsePmmTagSpec('latest')).toEqual({ kind: 'latest' });
    expect(parsePmmTagSpec('3')).toEqual({ kind: 'latest' });
    expect(parsePmmTagSpec('3.4')).toEqual({ kind: 'minor', major: 3, minor: 4 });
    expect(parsePmmTagSpec('3.4.1')).toEqual({ kind: 'exact', version: '3.4.1' });
    for (const bad of ['v3', '2.44.0', '3.x', '3.4.1-rc', '03.4.1', '', 'latest ', 'sha256:abc']) {
      if (bad.trim() === 'latest') continue;
      expect(() => parsePmmTagSpec(bad), bad).toThrow(/--pmm-tag .*not a PMM 3 release/);
    }
  });
});

describe('PMM releases from GitHub', () => {
  it('lists every stable 3.x over all pages, newest first, with the token as auth', async () => {
    gh.seen.length = 0;
    const list = await listPmmReleases({ baseUrl: gh.baseUrl, token: 'test-token' });
    expect(list.map((r) => r.version)).toEqual(['3.5.0', '3.4.9', '3.4.1', '3.3.2']);
    expect(gh.seen).toHaveLength(3);
    expect(gh.seen[0]).toBe('GET /repos/percona/pmm/releases?per_page=100 auth=token test-token');
    expect(gh.seen[2]).toMatch(/page=3 auth=token test-token$/);
    expect(newestPmm3(many)).toBe('3.5.0');
  });

  it('makes loose tags concrete and checks exact ones', async () => {
    await expect(concretePmmTag('latest', { baseUrl: gh.baseUrl })).resolves.toEqual({ requested: 'latest', tag: '3.5.0', source: 'github' });
    await expect(concretePmmTag('3.4', { baseUrl: gh.baseUrl })).resolves.toMatchObject({ tag: '3.4.9', source: 'github' });
    await expect(concretePmmTag('3.4.1', { baseUrl: gh.baseUrl })).resolves.toMatchObject({ tag: '3.4.1', source: 'github' });
    await expect(concretePmmTag('3.99.0', { baseUrl: gh.baseUrl })).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/--pmm-tag 3\.99\.0: percona\/pmm has no such stable release \(newest: 3\.5\.0/) });
    await expect(concretePmmTag('3.9', { baseUrl: gh.baseUrl })).rejects.toMatchObject({ kind: 'usage' });
  });

  it('offline: an exact tag is accepted with a warning, a loose one is refused naming what to pass', async () => {
    // A loopback port nobody listens on (port 9 would not do: fetch refuses it as a "bad port" without connecting).
    const closed = await startFakeGitHub();
    await closed.close();
    const offline = { baseUrl: closed.baseUrl, timeoutMs: 3000 };
    const exact = await concretePmmTag('3.4.1', offline);
    expect(exact).toMatchObject({ tag: '3.4.1', source: 'unchecked' });
    expect(exact.warning).toMatch(/not checked against PMM's releases: cannot list PMM releases from GitHub \(GitHub unreachable: ECONNREFUSED\)/);
    await expect(concretePmmTag('latest', offline)).rejects.toMatchObject({ kind: 'provider', message: expect.stringMatching(/give an exact release \(e\.g\. --pmm-tag 3\.\d+\.\d+\)/) });
    // A tag read from a profile is named by its file position and key, not glued to the position.
    await expect(concretePmmTag('3', offline, 'providers/libvirt.yaml:11:8')).rejects.toMatchObject({ message: expect.stringMatching(/^providers\/libvirt\.yaml:11:8: pmm\.tag "3": cannot list PMM releases/) });
  });

  it('rate limits and server errors are reported as such', async () => {
    gh.mode = 'ratelimit';
    await expect(listPmmReleases({ baseUrl: gh.baseUrl })).rejects.toThrow(/rate limited \(HTTP 403\); set GITHUB_TOKEN/);
    await expect(resolvePmmTag({ baseUrl: gh.baseUrl })).rejects.toThrow(/rate limited.*--pmm-tag/);
    const pinned = await resolvePmmTag({ baseUrl: gh.baseUrl, allowPinnedFallback: true });
    expect(pinned).toMatchObject({ tag: PMM_PINNED_TAG, source: 'pinned' });
    gh.mode = 'error';
    await expect(listPmmReleases({ baseUrl: gh.baseUrl })).rejects.toThrow(/HTTP 502/);
    gh.mode = 'ok';
  });

  it('says so when there is no 3.x release', async () => {
    const only2 = await startFakeGitHub([{ tag_name: 'v2.44.0' }]);
    try {
      await expect(resolvePmmTag({ baseUrl: only2.baseUrl })).rejects.toThrow(/no stable 3.x release/);
    } finally {
      await only2.close();
    }
  });
});
