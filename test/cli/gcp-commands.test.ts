// `cnvm provision | status | upgrade | destroy --provider gcp` end to end: the built CLI with the real GCE client,
// pointed at the stateful fake Compute API through CNVM_GCE_ENDPOINT. Needs `npm run build`.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/conformance.js';
import { startFakeGce, type FakeGce } from '../support/fake-gce.js';

const BIN = join(REPO_ROOT, 'dist/cli/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'cnvm-gcpcli-'));
const configDir = join(dir, 'providers');
mkdirSync(configDir);
let fake: FakeGce;
const common = ['--provider', 'gcp', '--project', 'cnvm-test', '--zone', 'europe-west1-b', '--name', 'pmm1', '--config-dir', configDir, '--state-dir', join(dir, 'state')];

function cnvm(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Asynchronous: the fake API runs in this process and must keep answering.
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, CNVM_GCE_ENDPOINT: `http://127.0.0.1:${fake.port}`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  fake = await startFakeGce('cnvm-test', 'europe-west1-b');
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cnvm with --provider gcp', () => {
  it('--dry-run --json prints the requests it would send, and sends none', async () => {
    const r = await cnvm(['provision', ...common, '--image', 'projects/fedora-coreos-cloud/global/images/family/fedora-coreos-stable', '--dry-run', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { steps: { actions: { action: string; detail: Record<string, unknown> }[] }[] };
    const actions = plan.steps.flatMap((s) => s.actions);
    expect(actions.map((a) => a.action)).toEqual(['compute.disks.insert', 'compute.instances.insert', 'compute.instances.stop', 'compute.instances.start']);
    expect(actions[0]?.detail).toMatchObject({ project: 'cnvm-test', zone: 'europe-west1-b', diskResource: { name: 'pmm1-data', sizeGb: '20' } });
    // A dry run reads what exists (the record, the volume); it changes nothing.
    expect(fake.log.filter((a) => !a.startsWith('GET '))).toEqual([]);
  });

  it('provisions, upgrades and destroys, keeping the data disk', async () => {
    const p = await cnvm(['provision', '--skip-health-check', ...common, '--image', 'projects/x/global/images/fcos-a', '--data-size', '50G', '--json']);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const out = JSON.parse(p.stdout) as { vm: { state: string; addresses: string[] }; volume: { sizeGiB: number; deviceName: string }; adminPassword: string };
    expect(out.vm.state).toBe('running');
    expect(out.vm.addresses.length).toBeGreaterThan(0);
    expect(out.volume).toMatchObject({ sizeGiB: 50, deviceName: 'pmm-data' });
    const inst = fake.instances.get('pmm1');
    const userData = inst?.metadata.items.find((i) => i.key === 'user-data')?.value ?? '';
    expect(userData).toContain('/dev/disk/by-id/google-pmm-data');
    expect(inst?.disks.find((d) => !d.boot)).toMatchObject({ deviceName: 'pmm-data', mode: 'READ_WRITE', autoDelete: false });

    const u = await cnvm(['upgrade', ...common, '--image', 'projects/x/global/images/fcos-b', '--skip-health-check', '--yes', '--json']);
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    expect(JSON.parse(u.stdout)).toMatchObject({ outcome: 'upgraded', newVm: 'pmm1-g2', vm: { image: 'projects/x/global/images/fcos-b', volumes: [{ volumeId: 'pmm1-data', deviceName: 'pmm-data' }] } });
    expect(fake.instances.has('pmm1')).toBe(false);

    const d = await cnvm(['destroy', ...common, '--json']);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ vmRemoved: true, volumeDeleted: false, volumeKept: 'pmm1-data' });
    expect(fake.disks.has('pmm1-data')).toBe(true);
    expect(fake.instances.size).toBe(0);
  });

  it('asks for project and zone', async () => {
    const r = await cnvm(['status', '--provider', 'gcp', '--name', 'x', '--config-dir', configDir]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/needs a project and a zone/);
  });
});
