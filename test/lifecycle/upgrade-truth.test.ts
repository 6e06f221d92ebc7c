// Small truths of an upgrade the issue found misreported: a health timeout shorter than the poll interval is
// honoured (its last check is at the deadline, not skipped); `--dry-run` names the VM's own group as apply does
// (`NAME-pmm`, not `NAME-gN-pmm`); `upgrade --resume` with nothing to resume exits 5 at once, before any call (the
// EC2 fake sees none, and the stream metadata is never asked for).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { waitHealthy } from '../../src/lifecycle/health.js';
import { upgradeSteps } from '../../src/lifecycle/upgrade-steps.js';
import type { VmInfo } from '../../src/provider/types.js';
import { awsAgainstFake, REGION } from '../support/aws-harness.js';
import { TEST_CREDENTIALS } from '../support/moto.js';
import { runCli } from '../support/run-cli.js';

const vm: VmInfo = { name: 'pmm-g2', id: 'i-1', state: 'running', image: 'ami-1', volumes: [], addresses: ['127.0.0.1'] };

it('a health timeout shorter than the poll interval still gets its last check at the deadline', async () => {
  let checks = 0;
  expect(await waitHealthy(async () => (checks++, false), async () => vm, 0.2, 60_000)).toBe(false);
  expect(checks).toBe(2);
  checks = 0;
  // PMM ready by the deadline's check: the gate passes, although the interval is longer than the timeout.
  expect(await waitHealthy(async () => ++checks === 2, async () => vm, 0.2, 60_000)).toBe(true);
});

it('a timer that wakes just before the deadline does not buy one check more', async () => {
  // The clock reads a millisecond short of the deadline after the sleep cut to it (timers may fire early).
  let now = 1_000_000;
  const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
  try {
    let checks = 0;
    const result = await waitHealthy(async () => {
      checks++;
      if (checks === 2) now = 1_000_000 + 199;
      return false;
    }, async () => vm, 0.2, 60_000);
    expect(result).toBe(false);
    expect(checks).toBe(2);
  } finally {
    clock.mockRestore();
  }
});

it("--dry-run's create step names the VM's own group as apply does", async () => {
  const { fake, provider } = await awsAgainstFake();
  try {
    const steps = upgradeSteps(provider, { name: 'pmm', oldVm: 'pmm', newVm: 'pmm-g2', newGeneration: 2, image: { id: 'ami-0bbbbbbbbbbbbbbbb' }, volumeId: 'vol-1', volumeName: 'pmm-data', keepOld: false, skipHealthCheck: false, oldHoldsPassword: false });
    const create = steps.find((s) => s.kind === 'create-new');
    const group = create?.actions.find((a) => a.action === 'ec2:CreateSecurityGroup');
    expect(group?.detail).toEqual({ GroupName: 'pmm-pmm' });
    expect(fake.log, 'a plan makes no call').toEqual([]);
  } finally {
    await fake.close();
  }
});

it('upgrade --resume with no interrupted upgrade: exit 5 at once, no provider call, no stream metadata', async () => {
  const { fake } = await awsAgainstFake();
  const dir = mkdtempSync(join(tmpdir(), 'cnvm-resume-'));
  try {
    const r = await runCli(['upgrade', '--provider', 'aws', '--region', REGION, '--name', 'pmm', '--resume', '--yes', '--state-dir', dir, '--json'], {
      // Fetching the stream metadata (no internet here) or asking EC2 would end otherwise than in exit 5.
      env: { CNVM_EC2_ENDPOINT: fake.endpoint, AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(r.code, r.stderr).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { exitCode: 5 } });
    expect(r.stdout).toContain('no interrupted upgrade of pmm to resume');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fake.log).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await fake.close();
  }
}, 60_000);
