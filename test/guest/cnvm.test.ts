// cnvm itself on real first boots: `cnvm provision`, `cnvm upgrade` and a rolled-back upgrade through libvirt
// (qemu:///system, TCG) with the test guest's images, user-mode networking and PMM's port forwarded to 127.0.0.1.
// The health gate is real: it polls the PMM stand-in's readyz through the forwarded port.
//   provision on A   fresh volume: Ignition formats it, the password cnvm printed is the one PMM has
//   upgrade to B     same volume: Ignition reuses it (console), same address, data and password unchanged
//   upgrade to C     PMM never ready: exit 6, the console's lines reach the user, B serves again with the data
// Slow (TCG boots): `npm run test:guest`. Needs `npm run build`, root and libvirt. Nothing asserts on time.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliSync } from '../support/run-cli.js';
import { libvirtSkipReason } from '../support/libvirt-probe.js';
import { passwordHash } from './data-disk.js';
import { buildGuest, freePort, guestUnavailable, httpsGet, sleep, type HttpsAnswer } from './qemu.js';

const unavailable = guestUnavailable() ?? libvirtSkipReason();
const MIN = 60_000;

interface StandinState {
  marker: string;
  passwordRecords: { salt: string; sha256: string }[];
}

describe.skipIf(unavailable !== undefined)(`cnvm on real first boots through libvirt${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let images: string;
  let dir: string;
  let port: number;
  let common: string[];
  const name = `cnvm-guest${process.pid}`;
  let password = '';
  let stateA: StandinState;

  /** Runs the CLI without blocking the test worker (an upgrade waits many minutes; vitest's RPC must go on). */
  const cnvm = (args: string[]) => runCli([...args, ...common, '--shutdown-timeout', '180'], { cwd: dir });
  /** Polls the forwarded port until `accept` holds (the guest may still be booting). */
  async function poll(path: string, accept: (a: HttpsAnswer) => boolean, timeoutMs: number, auth?: string): Promise<HttpsAnswer> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      try {
        const answer = await httpsGet(port, path, auth);
        if (accept(answer)) return answer;
        last = `HTTP ${answer.status}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`${path} on 127.0.0.1:${port}: ${last}`);
      await sleep(3000);
    }
  }
  const consoleOf = (vm: string): string => readFileSync(join(dir, 'store', 'vms', vm, 'console.log'), 'latin1');
  const standin = async (): Promise<StandinState> => JSON.parse((await poll('/v1/standin/state', (a) => a.status === 200, 5 * MIN)).body) as StandinState;

  beforeAll(async () => {
    images = await buildGuest();
    dir = mkdtempSync(join(tmpdir(), 'cnvm-guestcli-'));
    chmodSync(dir, 0o755); // qemu (libvirt-qemu) must reach the store below it
    port = await freePort();
    common = ['--provider', 'libvirt', '--name', name, '--storage-dir', join(dir, 'store'), '--state-dir', join(dir, 'state')];
  }, 30 * MIN);

  afterAll(() => {
    if (!dir) return;
    runCliSync(['destroy', ...common, '--delete-data', '--yes']);
    if (process.env.CNVM_KEEP_GUEST_FILES !== '1') rmSync(dir, { recursive: true, force: true });
  }, 10 * MIN);

  it('provision on A: a fresh volume formatted by Ignition, PMM up on 127.0.0.1, the printed password is PMM\'s', async () => {
    const r = await cnvm(['provision', '--image', join(images, 'a.qcow2'), '--network', 'user', '--forward-port', String(port), '--virt-type', 'qemu', '--memory', '1536', '--cpus', '2', '--data-size', '2G', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { vm: { addresses: string[] }; adminPassword: string };
    expect(out.vm.addresses).toEqual([`127.0.0.1:${port}`]);
    password = out.adminPassword;
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
    await poll('/v1/server/readyz', (a) => a.status === 200, 15 * MIN);
    // The password unit runs once PMM is ready: wait until the stand-in has it.
    await poll('/v1/server/version', (a) => a.status === 200, 5 * MIN, `admin:${password}`);
    expect((await httpsGet(port, '/v1/server/version', 'admin:admin')).status).toBe(401);
    stateA = await standin();
    expect(stateA.passwordRecords).toHaveLength(1);
    const [rec] = stateA.passwordRecords;
    expect(passwordHash(rec?.salt ?? '', password)).toBe(rec?.sha256);
    const text = consoleOf(name);
    expect(text).toMatch(/mkfs\.xfs.*-L.*pmm-data/);
    // The console log is the VM's, beside its other files, readable by root only.
    expect(execFileSync('stat', ['-c', '%a', join(dir, 'store', 'vms', name, 'console.log')], { encoding: 'utf8' }).trim()).toBe('600');
  }, 30 * MIN);

  it('upgrade to B: the real health gate passes, same address, Ignition reuses the volume, data and password unchanged', async () => {
    const r = await cnvm(['upgrade', '--image', join(images, 'b.qcow2'), '--yes', '--health-timeout', '1200', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { newVm: string; downtimeMs: number; vm: { addresses: string[] } };
    expect(out.newVm).toBe(`${name}-g2`);
    expect(out.vm.addresses).toEqual([`127.0.0.1:${port}`]);
    expect(out.downtimeMs).toBeGreaterThan(0);
    process.stdout.write(`cnvm upgrade on the test guest: downtime ${(out.downtimeMs / 1000).toFixed(1)} s (TCG)\n`);
    const text = consoleOf(`${name}-g2`);
    expect(text).toMatch(/partition 1 found with correct specifications/);
    expect(text).toMatch(/Skipping mkfs/);
    const stateB = await standin();
    expect(stateB.marker).toBe(stateA.marker);
    expect(stateB.passwordRecords).toEqual(stateA.passwordRecords);
    expect((await httpsGet(port, '/v1/server/version', `admin:${password}`)).status).toBe(200);
  }, 40 * MIN);

  it('upgrade to C (PMM never ready): exit 6 with the console lines, B serves again with the same data', async () => {
    const r = await cnvm(['upgrade', '--image', join(images, 'c.qcow2'), '--yes', '--health-timeout', '240']);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/did not become ready within 240 s; its console says:\n\s+\|/);
    expect(r.stderr).toMatch(/rolled back: .*-g2 runs with the data volume again/);
    const s = JSON.parse((await cnvm(['status', '--json'])).stdout) as { vm: { name: string; state: string } };
    expect(s.vm).toMatchObject({ name: `${name}-g2`, state: 'running' });
    await poll('/v1/server/readyz', (a) => a.status === 200, 15 * MIN);
    const after = await standin();
    expect(after.marker).toBe(stateA.marker);
    expect(after.passwordRecords).toEqual(stateA.passwordRecords);
  }, 45 * MIN);
});
