// Vitest globalSetup: one loopback stand-in of GitHub's releases API for the whole run, so a CLI spawned
// synchronously (spawnSync blocks the test's own event loop, which could not answer) still resolves a profile's
// `pmm.tag: "3"` the way it would online. It runs in vitest's main process; the forked test workers inherit
// CNVM_GITHUB_API_URL. Tests about GitHub itself (paging, rate limits, offline) start their own stand-in.
import { startFakeGitHub, type FakeGitHub } from './fake-github.js';

/** A small, fixed history of percona/pmm releases, newest first as GitHub lists them. */
export const STAND_IN_RELEASES = [
  { tag_name: 'v3.5.0', published_at: '2025-11-20T00:00:00Z' },
  { tag_name: 'v3.4.1', published_at: '2025-09-30T00:00:00Z' },
  { tag_name: 'v3.4.0', published_at: '2025-09-10T00:00:00Z' },
  { tag_name: 'v3.3.1', published_at: '2025-07-24T00:00:00Z' },
  { tag_name: 'v3.3.0', published_at: '2025-07-07T00:00:00Z' },
  { tag_name: 'v2.44.1', published_at: '2025-04-01T00:00:00Z' },
];

let server: FakeGitHub | undefined;

export async function setup(): Promise<void> {
  server = await startFakeGitHub(STAND_IN_RELEASES);
  process.env.CNVM_GITHUB_API_URL = server.baseUrl;
}

export async function teardown(): Promise<void> {
  await server?.close();
}
