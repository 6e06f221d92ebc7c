// The VM record on the in-memory provider: the password invariant through every failure of provision, upgrade
// keeping what the user set, re-runs with other flags, the lock, ownership, and the record travelling with the VM.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { destroy } from '../../src/lifecycle/destroy.js';
import { planProvision, provision } from '../../src/lifecycle/provision.js';
import { status } from '../../src/lifecycle/status.js';
import { StateStore } from '../../src/lifecycle/store.js';
import { planUpgrade, upgrade } from '../../src/lifecycle/upgrade.js';
import { createFakeProvider, type FakeProvider } from '../support/fake-provider.js';
import { passwordInConfig, provisionInput, provisionVm, tempStore } from '../support/lifecycle.js';

const A = { id: 'image-a', version: 'A' };
const B = { id: 'image-b', version: 'B' };
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKc2Wm0dDx8zxSK8aYd0MbQmSoltpZ0rEkR3zWv1xnEF ops@example';
const KEY2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF2kq0uWv0G3sPj0aQx1O2u8E5Yl3r7hT0m9Wm8bH1cN dev@example';

let p: FakeProvider;
let store: ReturnType<typeof tempStore>;
beforeEach(() => {
  p = createFakeProvider();
  store = tempStore();
});
afterEach(() => store.cleanup());

const mutating = (fake: FakeProvider): string[] => fake.calls.slice();

describe('provision: the password invariant', () => {
  it('a generated password is recorded 0600 before anything exists, is the one the first boot gets, and leaves every store once PMM is up', async () => {
    const secret = store.secretPath('libvirt', 'pmm');
    const modesAtGate: number[] = [];
    const r = await provisionVm(p, store, 'pmm', A, {
      healthCheck: async () => (modesAtGate.push(statSync(secret).mode & 0o777, statSync(store.recordPath('libvirt', 'pmm')).mode & 0o777), true),
    });
    expect(r.generatedAdminPassword).toMatch(/^.{24}$/);
    expect(modesAtGate).toEqual([0o600, 0o600]);
    expect(passwordInConfig(p.spec('pmm')?.firstBootIgnition ?? '')).toBe(r.generatedAdminPassword);
    // PMM answered the gate: the stored config is the same config without the password, and cnvm's copy is gone.
    expect(passwordInConfig(p.spec('pmm')?.ignition ?? '')).toBeUndefined();
    expect(p.spec('pmm')?.ignition).not.toContain(r.generatedAdminPassword);
    expect(JSON.parse(p.spec('pmm')?.ignition ?? '{}').storage).toBeDefined();
    expect(r).toMatchObject({ health: 'passed', storedConfig: 'replaced', secretRemoved: true, url: 'https://192.0.2.10/' });
    expect(existsSync(secret)).toBe(false);
    expect(store.readRecord('libvirt', 'pmm')?.password.inConfigOf).toBeUndefined();
    // The record, which travels with the VM, never holds it.
    expect((await p.findVm('pmm'))?.record).not.toContain(r.generatedAdminPassword);
    // Shown once: a re-run completes nothing new and shows nothing.
    const again = await provisionVm(p, store, 'pmm', A);
    expect(again.generatedAdminPassword).toBeUndefined();
  });

  const points = ['before', 'after'] as const;
  for (const when of points) {
    for (let call = 1; call <= 3; call++) {
      it(`a provision killed ${when} mutating call ${call}, then re-run: PMM gets the password shown, once`, async () => {
        p.crashAt(call, when);
        await expect(provisionVm(p, store, 'pmm', A)).rejects.toThrow(/injected crash/);
        const r = await provisionVm(p, store, 'pmm', A);
        expect(r.generatedAdminPassword, 'the completing run shows the password').toBeDefined();
        expect(passwordInConfig(p.spec('pmm')?.firstBootIgnition ?? '')).toBe(r.generatedAdminPassword);
        expect(p.maxAttachments).toBeLessThanOrEqual(1);
        expect((await p.list()).volumes).toHaveLength(1);
        expect((await p.findVm('pmm'))?.state).toBe('running');
      });
    }
  }

  it('a crash inside createVm (launched, running, not yet stopped) is completed by the re-run', async () => {
    p.crashInsideCreate();
    await expect(provisionVm(p, store, 'pmm', A)).rejects.toThrow(/inside createVm/);
    expect((await p.findVm('pmm'))?.state).toBe('running');
    const r = await provisionVm(p, store, 'pmm', A);
    expect(r.vm.state).toBe('running');
    expect(r.vm.volumes).toHaveLength(1);
    expect(passwordInConfig(p.spec('pmm')?.firstBootIgnition ?? '')).toBe(r.generatedAdminPassword);
  });

  it('a volume cnvm has no record of is not taken as "has a password"', async () => {
    await p.createVolume({ name: 'pmm-data', sizeGiB: 1, deviceName: 'pmm-data' });
    p.calls.length = 0;
    await expect(provisionVm(p, store, 'pmm', A)).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/--admin-password-file FILE.*--keep-password/) });
    expect(mutating(p)).toEqual([]);
    const kept = await provisionVm(p, store, 'pmm', A, { password: { kind: 'keep' } });
    expect(kept.generatedAdminPassword).toBeUndefined();
    expect(passwordInConfig(p.spec('pmm')?.ignition ?? '')).toBeUndefined();
  });

  it('--allow-default-password is said loudly', async () => {
    const r = await provisionVm(p, store, 'pmm', A, { password: { kind: 'default' } });
    expect(r.warnings.join('\n')).toMatch(/admin\/admin/);
    expect(passwordInConfig(p.spec('pmm')?.ignition ?? '')).toBeUndefined();
  });

  it('two provisions of one name at once: one runs, the other says who holds the VM', async () => {
    const slow = createFakeProvider({ latencyMs: { createVolume: 30, createVm: 30 } });
    const results = await Promise.allSettled([provisionVm(slow, store, 'pmm', A), provisionVm(slow, store, 'pmm', A)]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const busy = results.filter((r) => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(busy).toHaveLength(1);
    expect((busy[0] as PromiseRejectedResult).reason).toMatchObject({ kind: 'busy', message: expect.stringMatching(/being changed by pid \d+/) });
    const shown = (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof provisionVm>>>).value.generatedAdminPassword;
    expect(passwordInConfig(slow.spec('pmm')?.firstBootIgnition ?? '')).toBe(shown);
  });

  it('a lock left by a dead process is taken over', async () => {
    const lock = store.lock('libvirt', 'pmm', 'provision');
    lock.release();
    writeFileSync(lock.path, JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), command: 'provision', since: 'earlier' }));
    await expect(provisionVm(p, store, 'pmm', A)).resolves.toMatchObject({ generation: 1 });
    expect(existsSync(lock.path)).toBe(false);
  });
});

describe('provision: checks before the first side effect, and re-runs', () => {
  it('a missing image or a bad PMM setting fails the plan with nothing created', async () => {
    await expect(provisionVm(p, store, 'pmm', { id: 'missing-image' })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(provisionVm(p, store, 'pmm', A, { defaults: { pmm: { env: { PMM_DATA_RETENTION: 'forever' } } } })).rejects.toMatchObject({ kind: 'usage' });
    await expect(provisionVm(p, store, 'pmm', A, { defaults: { sshKeys: ['-----BEGIN OPENSSH PRIVATE KEY-----'] } })).rejects.toMatchObject({ kind: 'usage' });
    expect(mutating(p)).toEqual([]);
    expect(existsSync(store.recordPath('libvirt', 'pmm'))).toBe(false);
  });

  it('names that look like generations, or that no provider accepts, are refused', async () => {
    await expect(provisionVm(p, store, 'pmm-g2', A)).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/reserved/) });
    await expect(provisionVm(p, store, 'Bad_Name', A)).rejects.toMatchObject({ kind: 'usage' });
    expect(mutating(p)).toEqual([]);
  });

  it('re-running with other flags on an existing VM refuses and names the command that applies them', async () => {
    await provisionVm(p, store, 'pmm', A, { defaults: { memoryMiB: 2048 } });
    p.calls.length = 0;
    const err = await provisionVm(p, store, 'pmm', A, { overrides: { memoryMiB: 4096 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'conflict', message: expect.stringMatching(/~ memory MiB 2048 → 4096[\s\S]*cnvm upgrade/) });
    expect(mutating(p)).toEqual([]);
    await expect(provisionVm(p, store, 'pmm', A, { password: { kind: 'file', value: 'another-password' } })).rejects.toMatchObject({ kind: 'conflict' });
  });

  it('a re-run after a failed first run applies the new flags (the VM does not exist yet)', async () => {
    p.crashAt(2, 'before'); // volume created, VM not
    await expect(provisionVm(p, store, 'pmm', A, { defaults: { memoryMiB: 2048 } })).rejects.toThrow(/injected/);
    const plan = await planProvision(p, store, provisionInput('pmm', A, { overrides: { memoryMiB: 3072 } }));
    expect(plan.changes.map((c) => `${c.what} ${c.from} ${c.to}`)).toEqual(['memory MiB 2048 3072']);
    expect(plan.password.action).toBe('set-recorded');
    const r = await provisionVm(p, store, 'pmm', A, { overrides: { memoryMiB: 3072 } });
    expect(p.spec('pmm')?.memoryMiB).toBe(3072);
    expect(passwordInConfig(p.spec('pmm')?.firstBootIgnition ?? '')).toBe(r.generatedAdminPassword);
  });
});

describe('upgrade keeps what the user set', () => {
  it('memory, keys and the PMM tag survive; explicit changes show in the plan and apply', async () => {
    await provisionVm(p, store, 'pmm', A, { defaults: { memoryMiB: 2048, sshKeys: [KEY], pmm: { tag: '3.4.1', publishHttp: true } } });
    const plain = await planUpgrade(p, store, { name: 'pmm', overrides: { image: B } });
    expect(plain.changes.map((c) => c.what)).toEqual(['image']);
    await upgrade(p, store, { name: 'pmm', overrides: { image: B }, skipHealthCheck: true });
    const g2 = JSON.parse(p.spec('pmm-g2')?.ignition ?? '{}') as { passwd?: { users?: { ssh_authorized_keys?: string[]; sshAuthorizedKeys?: string[] }[] } };
    expect(JSON.stringify(g2.passwd)).toContain(KEY.split(' ')[1]);
    expect(p.spec('pmm-g2')?.memoryMiB).toBe(2048);
    expect(p.spec('pmm-g2')?.ignition).toContain('3.4.1');
    expect(passwordInConfig(p.spec('pmm-g2')?.ignition ?? '')).toBeUndefined();

    const plan = await planUpgrade(p, store, { name: 'pmm', overrides: { image: A, memoryMiB: 8192, sshKeys: [KEY, KEY2], pmm: { tag: '3.5.0' } } });
    expect(plan.changes.map((c) => `${c.op} ${c.what}`)).toEqual(['~ image', '~ memory MiB', '~ pmm.tag', '+ ssh key']);
    await upgrade(p, store, { name: 'pmm', overrides: { image: A, memoryMiB: 8192, pmm: { tag: '3.5.0' } }, skipHealthCheck: true });
    expect(p.spec('pmm-g3')?.memoryMiB).toBe(8192);
    expect(p.spec('pmm-g3')?.ignition).toContain('3.5.0');
    const s = await status(p, store, 'pmm');
    expect(s).toMatchObject({ generation: 3, vm: { name: 'pmm-g3' } });
    expect(s.record.desired).toMatchObject({ memoryMiB: 8192, pmm: { tag: '3.5.0', publishHttp: true }, image: A });
  });

  it('a rolled-back upgrade leaves the record as it was', async () => {
    await provisionVm(p, store, 'pmm', A, { defaults: { memoryMiB: 2048 } });
    await expect(upgrade(p, store, { name: 'pmm', overrides: { image: B, memoryMiB: 4096 }, healthCheck: async () => false, healthTimeoutSec: 0.05, healthIntervalMs: 10 })).rejects.toMatchObject({ kind: 'rolled-back' });
    expect((await status(p, store, 'pmm')).record.desired).toMatchObject({ image: A, memoryMiB: 2048 });
  });
});

describe('ownership and the record at the provider', () => {
  it('destroy touches only its own VMs, and keeps the volume and the record', async () => {
    await provisionVm(p, store, 'x', A);
    await provisionVm(p, store, 'x2', A);
    // A VM someone else made by hand with a name that looks like a generation of x.
    await p.createVm({ name: 'x-g2', image: A, ignition: '{}', owner: { name: 'other', generation: 1 } });
    await upgrade(p, store, { name: 'x', overrides: { image: B }, skipHealthCheck: true, keepOld: true });
    const result = await destroy(p, store, { name: 'x', deleteData: false });
    expect(result.removed.sort()).toEqual(['x', 'x-g3']);
    expect(await p.findVm('x2')).toBeDefined();
    expect(await p.findVm('x-g2')).toBeDefined();
    expect(result.volumeKept).toBe('fakevol-x-data');
    // Provisioning again on the kept volume needs no password decision: the record knows it.
    const again = await provisionVm(p, store, 'x', A);
    expect(again.vm.name).toBe('x-g3');
    expect(again.generatedAdminPassword).toBeUndefined();
  });

  it('another machine (no local record) finds the VM from the record it carries', async () => {
    await provisionVm(p, store, 'pmm', A, { defaults: { memoryMiB: 3000 } });
    const elsewhere = tempStore();
    try {
      const s = await status(p, elsewhere, 'pmm');
      expect(s.record.desired.memoryMiB).toBe(3000);
      await upgrade(p, elsewhere, { name: 'pmm', overrides: { image: B }, skipHealthCheck: true });
      expect(p.spec('pmm-g2')?.memoryMiB).toBe(3000);
      await expect(status(p, new StateStore(elsewhere.dir), 'nobody')).rejects.toMatchObject({ kind: 'not-found' });
    } finally {
      elsewhere.cleanup();
    }
  });

  it('destroy --delete-data removes the volume, the record and the secret', async () => {
    await provisionVm(p, store, 'pmm', A);
    await destroy(p, store, { name: 'pmm', deleteData: true });
    expect((await p.list()).volumes).toEqual([]);
    expect(existsSync(store.recordPath('libvirt', 'pmm'))).toBe(false);
    expect(existsSync(store.secretPath('libvirt', 'pmm'))).toBe(false);
    await expect(destroy(p, store, { name: 'pmm', deleteData: false })).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('a health-gated upgrade proves the password applied: cnvm drops its copy', async () => {
    await provision(p, store, provisionInput('pmm', A, { skipHealthCheck: true }));
    expect(existsSync(store.secretPath('libvirt', 'pmm'))).toBe(true);
    await upgrade(p, store, { name: 'pmm', overrides: { image: B }, healthCheck: async () => true });
    expect(existsSync(store.secretPath('libvirt', 'pmm'))).toBe(false);
  });
});

describe('a recorded volume that is gone', () => {
  it('gets a new password on the new, empty volume, never admin/admin', async () => {
    await provision(p, store, provisionInput('pmm', A)); // the gate passes: the secret is dropped
    await upgrade(p, store, { name: 'pmm', overrides: { image: B }, healthCheck: async () => true });
    await destroy(p, store, { name: 'pmm', deleteData: false });
    const volume = await p.findVolume('pmm-data');
    await p.deleteVolume(volume?.id ?? ''); // deleted behind cnvm's back
    const r = await provisionVm(p, store, 'pmm', A);
    expect(r.generatedAdminPassword).toBeDefined();
    expect(passwordInConfig(p.spec(r.vm.name)?.firstBootIgnition ?? '')).toBe(r.generatedAdminPassword);
  });
});
