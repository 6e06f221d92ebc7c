// The health gate: PMM answers GET /v1/server/readyz with 200 once it can serve. Its certificate is self-signed
// until the operator installs one, so the check does not verify it (it only asks "is PMM up").
import { request } from 'node:https';
import type { Provider, VmInfo } from '../provider/types.js';
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
  for (let last = false; ; ) {
    // Always check at least once, however short the timeout.
    const vm = await describe();
    if (vm && (await check(vm, AbortSignal.timeout(10_000)))) return true;
    // The timeout is honoured exactly: one shorter than the interval gets its last check at the deadline. Which check
    // is the last is decided when the sleep is cut to the deadline, not by reading the clock after it: a timer may
    // wake a millisecond early, and a second look at the clock would then buy one check more.
    const left = deadline - Date.now();
    if (last || left <= 0) return false;
    last = left <= intervalMs;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, left)));
  }
}

/**
 * The console lines that explain a failed first boot, as CoreOS's own test harness looks for them: Ignition's
 * failures and the PMM units' state; the last lines if none match.
 */
export function consoleHints(text: string | undefined, max = 15): string[] {
  if (!text) return [];
  // eslint-disable-next-line no-control-regex -- terminal colour codes are what is removed
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/).map((l) => l.trimEnd()).filter(Boolean);
  const telling = lines.filter((l) => /ignition.*(fail|error|not of the correct type|wipe was not requested)|Ignition failed|emergency|pmm-[a-z-]+\.service|Dependency failed|Failed to start/i.test(l));
  return (telling.length ? telling : lines).slice(-max);
}

/** The failure message of a gate that timed out, with the console's telling lines when the provider keeps them. */
export async function gateFailure(provider: Provider, vmName: string, timeoutSec: number): Promise<string> {
  const lines = consoleHints(await provider.consoleOutput?.(vmName).catch(() => undefined));
  return `PMM on ${vmName} did not become ready within ${timeoutSec} s${lines.length ? `; its console says:\n${lines.map((l) => `  | ${l}`).join('\n')}` : ''}`;
}
