// What `npm pack` ships and what a translator-only install needs: the packed file list (every local link of the
// shipped docs resolves inside the package), cloud SDKs only as optional peers, rendering loading no SDK, and the
// built CLI without the SDKs saying what to install (exit 4) instead of a stack trace.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliSync } from '../support/run-cli.js';
import { REPO_ROOT } from '../support/conformance.js';

const SDKS = ['@aws-sdk/client-ec2', '@aws-sdk/client-secrets-manager', '@google-cloud/compute', 'google-auth-library'];
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
const tmp = mkdtempSync(join(tmpdir(), 'cnvm-package-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function packedFiles(): string[] {
  // --ignore-scripts: the list, not a rebuild (the test run's globalSetup already built dist/).
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const [packed] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  return (packed?.files ?? []).map((f) => f.path);
}

/** Relative link targets of a Markdown file, resolved to package paths (anchors and URLs left out). */
function localLinks(file: string): string[] {
  // Code (fenced blocks, inline spans) is not prose: `[a-z]([-a-z0-9]*)` there is a pattern, not a link.
  const text = readFileSync(join(REPO_ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
  return targets
    .filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith('#'))
    .map((t) => normalize(join(dirname(file), t.replace(/#.*$/, ''))).replace(/\/$/, '')); // a folder link may end in /
}

describe('the npm package', () => {
  it('ships the CLI, LICENSE, docs and providers, and every file the shipped docs link to; no sources or tests', () => {
    const files = packedFiles();
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/cli/bin.js', 'dist/index.js', 'providers/README.md', 'docs/json-output.md', 'docs/operator-guide.md']) {
      expect(files, f).toContain(f);
    }
    const docs = files.filter((f) => f.endsWith('.md'));
    expect(docs.length).toBeGreaterThan(5);
    let checked = 0;
    for (const doc of docs) {
      for (const target of localLinks(doc)) {
        checked += 1;
        const shipped = files.includes(target) || files.some((f) => f.startsWith(`${target}/`));
        expect(shipped, `${doc} links to ${target}, which the package does not ship`).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(files.filter((f) => f.startsWith('src/') || (f.startsWith('test/') && f !== 'test/guest/README.md'))).toEqual([]);
    expect(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    expect(pkg.license).toBe('Apache-2.0');
  });

  it('lists cloud SDKs as optional peer dependencies only, and builds on install from git (prepare)', () => {
    for (const sdk of SDKS) {
      expect(pkg.dependencies?.[sdk], sdk).toBeUndefined();
      expect(pkg.peerDependencies?.[sdk], sdk).toBeTruthy();
      expect(pkg.peerDependenciesMeta?.[sdk], sdk).toEqual({ optional: true });
      expect(pkg.devDependencies?.[sdk], sdk).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(pkg.scripts?.prepare).toBe('npm run build');
  });

  it('renders the PMM config without resolving any cloud SDK module', () => {
    const trace = join(tmp, 'modules.txt');
    const r = runCliSync(['generate', '--strict', 'butane/pmm-server.bu'], { nodeArgs: ['--import', join(REPO_ROOT, 'bench/trace-modules.mjs')], env: { CNVM_TRACE_MODULES: trace } });
    expect(r.code, r.stderr).toBe(0);
    const loaded = readFileSync(trace, 'utf8').trim().split('\n');
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.filter((u) => /@aws-sdk|@smithy|@google-cloud|google-gax|google-auth-library|googleapis/.test(u))).toEqual([]);
  });

  it('without the SDKs, a cloud provider says which package to install (exit 4, no stack trace)', () => {
    // A copy of the built package whose node_modules has every dependency except the cloud SDKs, as
    // `npm install --omit=peer` leaves it.
    const root = join(tmp, 'no-sdk');
    mkdirSync(join(root, 'node_modules'), { recursive: true });
    cpSync(join(REPO_ROOT, 'dist'), join(root, 'dist'), { recursive: true });
    cpSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    const modules = join(REPO_ROOT, 'node_modules');
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) {
        for (const sub of readdirSync(join(modules, entry))) {
          if (SDKS.includes(`${entry}/${sub}`)) continue;
          mkdirSync(join(root, 'node_modules', entry), { recursive: true });
          symlinkSync(join(modules, entry, sub), join(root, 'node_modules', entry, sub));
        }
      } else if (!SDKS.includes(entry)) {
        symlinkSync(join(modules, entry), join(root, 'node_modules', entry));
      }
    }
    expect(existsSync(join(root, 'node_modules/@aws-sdk/client-ec2'))).toBe(false);
    const bin = join(root, 'dist/cli/bin.js');
    const run = (args: string[]) => {
      const r = runCliSync([...args, '--state-dir', join(tmp, 'state'), '--config-dir', join(tmp, 'providers'), '--dry-run'], { bin, cwd: root, env: { CNVM_EC2_ENDPOINT: '', CNVM_GCE_ENDPOINT: '' } });
      return { ...r, status: r.code };
    };
    mkdirSync(join(tmp, 'providers'), { recursive: true });
    const aws = run(['provision', '--provider', 'aws', '--region', 'eu-west-1', '--name', 'pmm1', '--image', 'ami-0abc1234def567890']);
    expect(aws.stderr).toMatch(/install @aws-sdk\/client-ec2 to use --provider aws/);
    expect(aws.stderr).not.toMatch(/\n\s+at /);
    expect(aws.status).toBe(4);
    const gcp = run(['provision', '--provider', 'gcp', '--project', 'p1', '--zone', 'europe-west1-b', '--name', 'pmm1', '--image', 'projects/fedora-coreos-cloud/global/images/fedora-coreos-42-x86-64']);
    expect(gcp.stderr).toMatch(/install @google-cloud\/compute to use --provider gcp/);
    expect(gcp.stderr).not.toMatch(/\n\s+at /);
    expect(gcp.status).toBe(4);
    // The translator itself needs none of them.
    const gen = runCliSync(['generate', join(REPO_ROOT, 'butane/pmm-server.bu')], { bin });
    expect(gen.code, gen.stderr).toBe(0);
    expect(JSON.parse(gen.stdout)).toHaveProperty('ignition.version');
  });
});
