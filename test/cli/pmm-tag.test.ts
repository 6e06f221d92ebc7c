// --pmm-tag through the built CLI: a loose tag made concrete through @octokit/rest against a loopback stand-in of
// GitHub's releases API (CNVM_GITHUB_API_URL), an unknown release refused online, a malformed one refused before any
// request, and the concrete tag shown in the plan. The VM side is the project's fake EC2 (no side effects: dry runs).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/conformance.js';
import { runCli, type CliRun } from '../support/run-cli.js';
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';
import { usePublicIpEcho } from '../support/aws-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-pmmtag-'));
mkdirSync(join(dir, 'providers'));
let gh: FakeGitHub;
let ec2: FakeEc2;
let echo = '';

function cnvm(args: string[]): Promise<CliRun> {
  return runCli(args, { env: { CNVM_GITHUB_API_URL: gh.baseUrl, CNVM_EC2_ENDPOINT: ec2.endpoint, CNVM_PUBLIC_IP_URL: echo, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret' } });
}

beforeAll(async () => {
  gh = await startFakeGitHub([{ tag_name: 'v3.6.0-rc1', prerelease: true }, { tag_name: 'v3.5.0' }, { tag_name: 'v3.4.9' }, { tag_name: 'v3.4.1' }]);
  ec2 = await startFakeEc2('eu-west-1');
  echo = await usePublicIpEcho();
});
afterAll(async () => {
  await gh.close();
  await ec2.close();
  rmSync(dir, { recursive: true, force: true });
});

const common = (): string[] => ['--provider', 'aws', '--region', 'eu-west-1', '--name', 'pmm1', '--config-dir', join(dir, 'providers'), '--state-dir', join(dir, 'state'), '--image', [...ec2.images.keys()][0] as string, '--skip-health-check', '--dry-run'];

describe('--pmm-tag', () => {
  it('latest and 3.4 become concrete releases, named in the plan', async () => {
    const latest = await cnvm(['provision', ...common(), '--pmm-tag', 'latest']);
    expect(latest.stderr).toMatch(/--pmm-tag latest is PMM 3\.5\.0/);
    expect(latest.code).toBe(0);
    const minor = await cnvm(['provision', ...common(), '--pmm-tag', '3.4', '--json']);
    expect(minor.code).toBe(0);
    expect(minor.stdout).not.toMatch(/"3\.4"/);
    expect(gh.seen.some((l) => l.startsWith('GET /repos/percona/pmm/releases'))).toBe(true);
  });

  it('an unknown release is refused online (exit 2); a malformed one before any request', async () => {
    const unknown = await cnvm(['provision', ...common(), '--pmm-tag', '3.99.0']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--pmm-tag 3\.99\.0: percona\/pmm has no such stable release \(newest: 3\.5\.0/);
    gh.seen.length = 0;
    const malformed = await cnvm(['provision', ...common(), '--pmm-tag', 'v3']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--pmm-tag "v3": not a PMM 3 release/);
    expect(malformed.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(gh.seen).toEqual([]);
  });

  it('cnvm pmm releases lists them, newest first, as text and JSON', async () => {
    const text = await cnvm(['pmm', 'releases']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(['3.5.0', '3.4.9', '3.4.1']);
    const json = await cnvm(['pmm', 'releases', '--json']);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { ok: boolean; releases: { version: string }[] };
    expect(body.ok).toBe(true);
    expect(body.releases.map((r) => r.version)).toEqual(['3.5.0', '3.4.9', '3.4.1']);
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
    const schemas = join(REPO_ROOT, 'schema/cli');
    for (const f of readdirSync(schemas)) ajv.addSchema(JSON.parse(readFileSync(join(schemas, f), 'utf8')) as object);
    const validate = ajv.getSchema('https://cnvm.dev/schema/cli/pmm-releases.schema.json');
    expect(validate?.(body) ? [] : validate?.errors).toEqual([]);
  });
});
