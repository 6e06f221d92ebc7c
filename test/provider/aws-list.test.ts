// EC2 list(): one read of the instances, the volumes and the Elastic IPs for the whole region, however many VMs
// (it used to read each VM's volumes and addresses again, 2–3 calls per VM), and the same answer findVm gives
// each VM one by one. Against the project's stateful EC2 fake, whose log counts the calls.
import { afterAll, describe, expect, it } from 'vitest';
import { awsAgainstFake } from '../support/aws-harness.js';
import { provisionVm, tempStore } from '../support/lifecycle.js';

const stores: ReturnType<typeof tempStore>[] = [];
afterAll(() => stores.forEach((s) => s.cleanup()));

async function listCalls(vmCount: number): Promise<{ calls: string[]; sameAsFindVm: boolean; vms: number; attached: number }> {
  const { fake, provider } = await awsAgainstFake();
  const store = tempStore();
  stores.push(store);
  try {
    for (let i = 0; i < vmCount; i++) await provisionVm(provider, store, `lst-${i}`, { id: 'ami-0aaaaaaaaaaaaaaaa' });
    const before = fake.log.length;
    const { vms, volumes } = await provider.list();
    const calls = fake.log.slice(before);
    const one = await Promise.all(vms.map((vm) => provider.findVm(vm.name)));
    return { calls, sameAsFindVm: JSON.stringify(one) === JSON.stringify(vms), vms: vms.length, attached: volumes.filter((v) => v.attachedTo).length };
  } finally {
    await fake.close();
  }
}

describe('EC2 list()', () => {
  it('reads the region in a fixed number of calls, with the answers findVm gives', async () => {
    const one = await listCalls(1);
    const four = await listCalls(4);
    expect([one.vms, four.vms]).toEqual([1, 4]);
    expect([one.attached, four.attached]).toEqual([1, 4]);
    expect(one.sameAsFindVm && four.sameAsFindVm).toBe(true);
    expect(four.calls).toEqual(one.calls);
    expect(four.calls.every((a) => a.startsWith('Describe'))).toBe(true);
    expect(four.calls.length).toBeLessThanOrEqual(3);
  }, 120_000);
});
