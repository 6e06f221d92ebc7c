// The health gate: PMM answers GET /v1/server/readyz with 200 once it can serve. Its certificate is self-signed
// until the operator installs one, so the check does not verify it (it only asks "is PMM up").
import { request } from 'node:https';
import type { VmInfo } from '../provider/types.js';
import { PMM_HEALTH_PATH } from '../workload/pmm-server.js';

export type HealthCheck = (vm: VmInfo, signal: AbortSignal) => Promise<boolean>;

export function readyzOnce(address: string, signal: AbortSignal, port = 443): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: address, port, path: PMM_HEALTH_PATH, method: 'GET', rejectUnauthorized: false, timeout: 5000, signal }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The endpoint the provider reports: an address (PMM on 443), or `host:port` (a forwarded port). */
export function endpointOf(address: string): { host: string; port: number } {
  const m = /^([^:]+):(\d+)$/.exec(address);
  return m ? { host: m[1] as string, port: Number(m[2]) } : { host: address, port: 443 };
}

export const pmmReadyz: HealthCheck = async (vm, signal) => {
  const address = vm.addresses[0];
  if (!address) return false;
  const { host, port } = endpointOf(address);
  return readyzOnce(host, signal, port);
};

/** Polls until healthy or the timeout; re-reads the VM each time, since its address may appear late. */
export async function waitHealthy(
  check: HealthCheck,
  describe: () => Promise<VmInfo | undefined>,
  timeoutSec: number,
  intervalMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutSec * 1000;
  for (;;) {
    // Always check at least once, however short the timeout.
    const vm = await describe();
    if (vm && (await check(vm, AbortSignal.timeout(10_000)))) return true;
    if (Date.now() + intervalMs > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
