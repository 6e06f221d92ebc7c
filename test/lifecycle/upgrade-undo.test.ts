// What a rolled-back upgrade undoes and what an upgrade reports, through the real SDK clients: the --allow-from
// rules an upgrade changed are the old ones again after its rollback (EC2 security group on moto and the EC2 fake,
// GCE firewall rule on the Compute fake); a stop the guest does not finish in time is forced, and so is the first
// stop of a generation that never booted with its data volume (EC2 fake, whose guests can ignore a graceful stop
// as Fedora CoreOS does in Ignition's wait for the volume), each recorded in the journal and the report; a resumed
// upgrade reports the steps done before the interruption and after it, and the downtime from the journal.
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/lifecycle/journal.js';
import { upgrade, UpgradeRolledBackError, type UpgradeResult } from '../../src/lifecycle/upgrade.js';
import { firewallName } from '../../src/provider/gcp/adapter.js';
import type { Provider } from '../../src/provider/types.js';
import { awsAgainstFake, awsProviderFor, EC2_PEERS, REGION, startEc2Peer, useMoto } from '../support/aws-harness.js';
import { gcpAgainstFake } from '../support/gcp-harness.js';
import { TEST_CREDENTIALS } from '../support/moto.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';

useMoto();

const NAME = 'pmm';
const OLD = '203.0.113.0/24';
const NEW = '198.51.100.7/32';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const gate = (healthy: boolean) => ({ healthCheck: async () => healthy, healthTimeoutSec: 0.05, healthIntervalMs: 10 });

/** Upgrades `provider`'s VM with --allow-from NEW and a failing gate: the run must roll back. */
async function rolledBackWithNewRules(provider: Provider, store: ReturnType<typeof tempStore>, image: { id: string; version?: string }): Promise<UpgradeResult> {
  const err = await upgrade(provider, store, { name: NAME, overrides: { image, placement: { allow_from: [NEW] } }, ...gate(false) }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UpgradeRolledBackError);
  return (err as UpgradeRolledBackError).result;
}

describe('a rolled-back upgrade puts the old --allow-from rules back', () => {
  for (const kind of EC2_PEERS) {
    it(`aws on ${kind}: the group's 443/22 rules equal the record's again`, async () => {
      const peer = await startEc2Peer(kind);
      const store = tempStore();
      const ec2 = new EC2Client({ region: REGION, endpoint: peer.endpoint, credentials: TEST_CREDENTIALS });
      cleanups.push(() => peer.close(), () => store.cleanup(), () => ec2.destroy());
      // Read past the adapter: the group's rules as EC2 has them.
      const peerRules = async (): Promise<string[]> => {
        const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [`${NAME}-pmm`] }] }));
        return (out.SecurityGroups?.[0]?.IpPermissions ?? []).flatMap((p) => (p.IpRanges ?? []).map((r) => `${p.FromPort} ${r.CidrIp}`)).sort();
      };
      await provisionVm(awsProviderFor(peer, { allowCidrs: [OLD] }), store, NAME, peer.images[0], { defaults: { placement: { allow_from: [OLD] } } });
      expect(await peerRules()).toEqual([`22 ${OLD}`, `443 ${OLD}`]);

      const result = await rolledBackWithNewRules(awsProviderFor(peer, { allowCidrs: [NEW] }), store, peer.images[1]);
      expect(result.completed.now).toContain('access-back');
      const record = store.readRecord('aws', NAME);
      expect(record?.desired.placement.allow_from).toEqual([OLD]);
      expect(await peerRules()).toEqual([`22 ${OLD}`, `443 ${OLD}`]);
    }, 120_000);
  }

  it('gcp on the Compute fake: the firewall rule admits the record\'s sources again', async () => {
    const first = await gcpAgainstFake({ firewallSourceRanges: [OLD] });
    const store = tempStore();
    cleanups.push(() => first.cleanup(), () => store.cleanup());
    const image = (v: string) => ({ id: `projects/fedora-coreos-cloud/global/images/fedora-coreos-${v}`, version: v });
    const sources = (): unknown => first.fake.firewalls.get(firewallName(NAME))?.sourceRanges;
    await provisionVm(first.provider, store, NAME, image('a'), { defaults: { placement: { allow_from: [OLD] } } });
    expect(sources()).toEqual([OLD]);

    // The same project, the upgrade's provider built with the new --allow-from.
    const { createGcpProvider } = await import('../../src/provider/gcp/adapter.js');
    const { fakeClientOptions, GCP_PROJECT, GCP_ZONE } = await import('../support/gcp-harness.js');
    const second = createGcpProvider({ project: GCP_PROJECT, zone: GCP_ZONE, clientOptions: fakeClientOptions(first.fake), pollIntervalMs: 1, publicIpUrl: first.echo.url, retry: { baseMs: 5, capMs: 40, budgetMs: 400 }, firewallSourceRanges: [NEW] });
    const result = await rolledBackWithNewRules(second, store, image('b'));
    expect(result.completed.now).toContain('access-back');
    expect(sources()).toEqual([OLD]);
    expect(store.readRecord('gcp', NAME)?.desired.placement.allow_from).toEqual([OLD]);
  }, 120_000);
});

describe('stops that are forced (aws on the EC2 fake)', () => {
  it('the first stop of a generation that never booted with its data volume is forced at once, and journaled', async () => {
    // The fake's guests ignore a graceful stop while they boot without a data volume (Ignition's wait).
    const { fake, provider } = await awsAgainstFake({ initramfsIgnoresStop: true });
    const store = tempStore();
    cleanups.push(() => fake.close(), () => store.cleanup());
    await provisionVm(provider, store, NAME, { id: 'ami-0aaaaaaaaaaaaaaaa', version: 'A' });
    const forcedAtProvision = fake.forced.length;
    expect(forcedAtProvision, 'provision: the launched instance is stopped with Force before the volume is attached').toBe(1);

    const result = await upgrade(provider, store, { name: NAME, overrides: { image: { id: 'ami-0bbbbbbbbbbbbbbbb', version: 'B' } }, ...gate(true) });
    expect(result.outcome).toBe('upgraded');
    // The new generation, launched without the volume: forced; the old one (booted with its volume): graceful.
    expect(result.forcedStops.map((f) => [f.step, f.vm])).toEqual([['create-new', `${NAME}-g2`]]);
    expect(result.forcedStops[0]?.detail).toMatch(/StopInstances Force: .*never booted with its data volume/);
    expect(fake.forced.length - forcedAtProvision).toBe(1);
    const journal = Journal.for(store.dir, 'aws', NAME).read();
    expect(journal?.forcedStops?.map((f) => f.step)).toEqual(['create-new']);
  }, 120_000);

  it('a graceful stop the guest does not finish within the grace is forced, and journaled', async () => {
    const { fake, provider } = await awsAgainstFake({}, { stopGraceSec: 0.3 });
    const store = tempStore();
    cleanups.push(() => fake.close(), () => store.cleanup());
    await provisionVm(provider, store, NAME, { id: 'ami-0aaaaaaaaaaaaaaaa', version: 'A' });
    const old = [...fake.instances.values()].find((i) => i.state === 'running');
    expect(old).toBeDefined();
    // The old VM's guest hangs in its shutdown: only Force stops it.
    fake.hangOnStop.add(old?.id ?? '');
    const result = await upgrade(provider, store, { name: NAME, overrides: { image: { id: 'ami-0bbbbbbbbbbbbbbbb', version: 'B' } }, ...gate(true) });
    expect(result.outcome).toBe('upgraded');
    const stopOld = result.forcedStops.filter((f) => f.step === 'stop-old');
    expect(stopOld.map((f) => f.vm)).toEqual([NAME]);
    expect(stopOld[0]?.detail).toMatch(/had not stopped 0.3 s after a graceful StopInstances/);
    expect(fake.forced).toContain(old?.id);
    expect(Journal.for(store.dir, 'aws', NAME).read()?.forcedStops?.some((f) => f.step === 'stop-old')).toBe(true);
  }, 120_000);
});

describe('a resumed upgrade reports the truth (aws on the EC2 fake)', () => {
  it('lists the steps done before the interruption and after it, and measures the downtime from the journal', async () => {
    const { fake, provider } = await awsAgainstFake();
    const store = tempStore();
    cleanups.push(() => fake.close(), () => store.cleanup());
    await provisionVm(provider, store, NAME, { id: 'ami-0aaaaaaaaaaaaaaaa', version: 'A' });
    // The process dies as the new VM is about to start: the old one is already stopped and the volume moved.
    let crash = true;
    const dying = new Proxy(provider, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'startVm' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (crash) {
            crash = false;
            throw Object.assign(new Error('killed'), { name: 'InjectedCrash' });
          }
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
    const image = { id: 'ami-0bbbbbbbbbbbbbbbb', version: 'B' };
    await expect(upgrade(dying, store, { name: NAME, overrides: { image }, ...gate(true) })).rejects.toThrow('killed');
    const result = await upgrade(dying, store, { name: NAME, overrides: { image }, resumeOnly: true, ...gate(true) });
    expect(result.resumed).toBe(true);
    expect(result.completed.before).toEqual(['reserve-address', 'create-new', 'stop-old', 'detach-old', 'attach-new', 'move-address']);
    expect(result.completed.now).toEqual(['start-new', 'health', 'destroy-old']);
    // The window opened in the interrupted run (its stop-old): not 0 although this run stopped nothing.
    const j = Journal.for(store.dir, 'aws', NAME).read();
    const opened = Date.parse(j?.steps['stop-old']?.startedAt ?? '');
    const gateStarted = Date.parse(j?.steps.health?.startedAt ?? '');
    const closed = Date.parse(j?.steps.health?.at ?? '');
    expect(result.downtimeMs).toBeGreaterThanOrEqual(gateStarted - opened);
    expect(result.downtimeMs).toBeLessThanOrEqual(closed - opened);
  }, 120_000);
});
