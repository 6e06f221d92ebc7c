#!/usr/bin/env node
// Fleet upgrade wall time on the in-memory provider with cloud-like latency per call: one VM, 50 VMs with
// --batch 50, and 50 VMs one at a time, as ratios to the one-VM time measured in this same run (goal: the batch of
// 50 within 1.5× one VM; one at a time ≈ 50×). Loads the TypeScript sources through jiti; no network.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const jiti = createJiti(import.meta.url);
const { createFakeProvider } = await jiti.import(join(root, 'test/support/fake-provider.ts'));
const { provisionVm, tempStore } = await jiti.import(join(root, 'test/support/lifecycle.ts'));
const { fleetUpgrade } = await jiti.import(join(root, 'src/lifecycle/fleet.ts'));
const { upgrade } = await jiti.import(join(root, 'src/lifecycle/upgrade.ts'));

// EC2/Compute calls take 100-300 ms and a VM start tens of seconds: 200 ms a call is a floor, not a cloud.
const LATENCY = Number(process.env.BENCH_CALL_MS ?? 200);
const N = Number(process.env.BENCH_FLEET ?? 50);
const SEQ = Number(process.env.BENCH_FLEET_SEQ ?? 10);
const ops = ['createVolume', 'createVm', 'startVm', 'stopVm', 'destroyVm', 'attachVolume', 'detachVolume', 'replaceIgnition'];
const A = { id: 'image-a', version: 'A' };
const B = { id: 'image-b', version: 'B' };

async function fleetOf(n) {
  const p = createFakeProvider({ latencyMs: Object.fromEntries(ops.map((o) => [o, LATENCY])) });
  const store = tempStore();
  const names = Array.from({ length: n }, (_, i) => `pmm${String(i).padStart(3, '0')}`);
  await Promise.all(names.map((name) => provisionVm(p, store, name, A)));
  return { p, store, names };
}

async function timeFleet(n, batch) {
  const { p, store, names } = await fleetOf(n);
  try {
    const one = (name, onEvent) => upgrade(p, store, { name, overrides: { image: B }, healthCheck: async () => true, healthIntervalMs: 10 }, onEvent);
    const t0 = process.hrtime.bigint();
    const r = await fleetUpgrade(p, store, { selector: `bench-${n}-${batch}`, names, batch, maxFailures: 1, image: B }, one).done;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!r.members.every((m) => m.status === 'upgraded')) throw new Error('a fleet member did not upgrade');
    return ms;
  } finally {
    store.cleanup();
  }
}

const single = await timeFleet(1, 1);
const wide = await timeFleet(N, N);
const sequential = await timeFleet(SEQ, 1);
const cpu0 = process.cpuUsage();
const cpuFleet = await timeFleet(N, N).then(() => process.cpuUsage(cpu0));
console.log(`fleet upgrade on the in-memory provider, ${LATENCY} ms per provider call:`);
console.log(`  1 VM                         ${single.toFixed(0)} ms`);
console.log(`  ${N} VMs, --batch ${N}            ${wide.toFixed(0)} ms   ${(wide / single).toFixed(2)}× one VM (goal ≤ 1.5×)`);
console.log(`  ${SEQ} VMs, --batch 1             ${sequential.toFixed(0)} ms   ${(sequential / single).toFixed(1)}× one VM (expected ≈ ${SEQ}×)`);
console.log(`  CPU of a ${N}-VM fleet in cnvm itself: ${((cpuFleet.user + cpuFleet.system) / 1000 / N).toFixed(1)} ms a VM (config rendering, journals)`);
