// Progress of the built CLI in its three forms, end to end against the stateful fake EC2 API (real EC2 client):
// plain timestamped lines in a pipe, NDJSON on stderr with --json (stdout keeping one envelope), and a live
// spinner line under a real pseudo-terminal (util-linux `script`). Needs `npm run build`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';
import { usePublicIpEcho } from '../support/aws-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-progress-'));
const configDir = join(dir, 'providers');
mkdirSync(configDir);
let fake: FakeEc2;
const common = ['--provider', 'aws', '--region', 'eu-west-1', '--name', 'prog1', '--config-dir', configDir, '--state-dir', join(dir, 'state')];
const TIMESTAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /;

/** Runs the CLI with stdio piped, or under a pseudo-terminal of 100 columns (stdout and stderr both reach it). */
function cnvm(args: string[], options: { pty?: boolean } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { CNVM_EC2_ENDPOINT: fake.endpoint, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret', TERM: 'xterm-256color', CI: undefined };
  return runCli(args, { env, ...(options.pty ? { pty: { cols: 100, rows: 30 } } : {}) });
}

beforeAll(async () => {
  // No --allow-from: cnvm opens 443 and 22 to what the (loopback) echo service says this machine's address is.
  await usePublicIpEcho();
  fake = await startFakeEc2('eu-west-1');
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('progress of the built CLI', () => {
  it('in a pipe: one timestamped line per step, each start followed by its end with the time it took', async () => {
    const r = await cnvm(['provision', '--skip-health-check', ...common, '--image', 'ami-0aaaaaaaaaaaaaaaa']);
    expect(r.code).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(TIMESTAMPED);
    const bodies = lines.map((l) => l.replace(TIMESTAMPED, ''));
    expect(bodies).toContain('volume: start (prog1-data)');
    expect(bodies).toContainEqual(expect.stringMatching(/^vm: done \(prog1 defined\) \[[\d.]+ s\]$/));
    expect(bodies).toContainEqual(expect.stringMatching(/^start: done \(running\) \[[\d.]+ s\]$/));
    // the result (and the shown-once password) is on stdout, not among the progress lines
    expect(r.stdout).toMatch(/^prog1: running; data volume vol-/);
  });

  it('--json: NDJSON progress on stderr, one envelope on stdout; --skip-health-check shows the gate as skipped', async () => {
    const r = await cnvm(['upgrade', ...common, '--image', 'ami-0bbbbbbbbbbbbbbbb', '--skip-health-check', '--yes', '--json']);
    expect(r.code).toBe(0);
    const envelope = JSON.parse(r.stdout) as { ok: boolean; events: { step: string; status: string }[] };
    expect(envelope.ok).toBe(true);
    const events = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; command: string; step: string; status: string });
    expect(events.every((e) => e.type === 'progress' && e.command === 'upgrade')).toBe(true);
    expect(events.map((e) => `${e.step}:${e.status}`)).toEqual([
      'reserve-address:start', 'reserve-address:done', 'create-new:start', 'create-new:done', 'stop-old:start', 'stop-old:done',
      'detach-old:start', 'detach-old:done', 'attach-new:start', 'attach-new:done', 'move-address:start', 'move-address:done',
      'start-new:start', 'start-new:done', 'health:skip', 'scrub-kept-old:skip', 'destroy-old:start', 'destroy-old:done',
    ]);
    expect(envelope.events.filter((e) => e.step === 'health').map((e) => e.status)).toEqual(['skip']);
  });

  it('on a terminal: a spinner line redrawn in place, ✔ lines for finished steps, no `health: done` when skipped', async () => {
    const r = await cnvm(['upgrade', ...common, '--image', 'ami-0abc1234def567890', '--skip-health-check', '--yes'], { pty: true });
    expect(r.code, r.stdout).toBe(0);
    const out = r.stdout; // the pseudo-terminal carries both streams
    // eslint-disable-next-line no-control-regex -- hiding the cursor and clearing the line are what makes it live
    expect(out).toMatch(/\x1b\[\?25l/);
    // eslint-disable-next-line no-control-regex
    expect(out).toMatch(/\x1b\[1G\x1b\[0K/);
    expect(out).toMatch(/create-new: running/);
    expect(out).toMatch(/✔\S* create-new: done [\d.]+ s/);
    expect(out).toContain('health: skip (not checked: --skip-health-check)');
    expect(out).not.toContain('health: done');
    expect(out).not.toMatch(TIMESTAMPED);
    expect(out).toContain('prog1: upgraded prog1-g2 → prog1-g3');
    // eslint-disable-next-line no-control-regex
    expect(out).toMatch(/\x1b\[\?25h/);
  });
});
