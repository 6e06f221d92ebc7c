// Connects the lifecycle's events and the provider's calls to the progress display. The lifecycle reports its
// steps (ProvisionEvent, UpgradeEvent); what a step waits on (the address the health gate polls, the VM being
// removed) is seen here by wrapping the provider, so the lifecycle and the adapters need no display hooks.
import { endpointOf } from '../lifecycle/health.js';
import type { Provider, VmInfo } from '../provider/types.js';
import { PMM_HEALTH_PATH } from '../workload/pmm-server.js';
import type { Progress, ProgressEvent } from './progress.js';

export interface StepWatch {
  /** Pass lifecycle events through this: it keeps track of the running step. */
  onEvent(e: ProgressEvent): void;
  provider: Provider;
}

/** The URL the health gate asks, from the address the provider reports (`host` or a forwarded `host:port`). */
export function readyzUrl(address: string): string {
  const { host, port } = endpointOf(address);
  return `https://${host}${port === 443 ? '' : `:${port}`}${PMM_HEALTH_PATH}`;
}

/**
 * While a `health` step runs, every look-up of the VM is one poll of its readiness endpoint (the gate re-reads
 * the VM before each poll, as its address may appear late): the live line shows what is polled and how often.
 * With --skip-health-check the gate is not run, so no `health: done` is shown: the step reads `skip`.
 */
export function watchSteps(provider: Provider, progress: Progress, options: { skipHealthCheck?: boolean; healthTimeoutSec?: number } = {}): StepWatch {
  let running: string | undefined;
  let polls = 0;
  const onEvent = (e: ProgressEvent): void => {
    if (e.step === 'health' && options.skipHealthCheck) {
      if (e.status === 'start') return;
      if (e.status === 'done') e = { step: 'health', status: 'skip', detail: 'not checked: --skip-health-check' };
    }
    if (e.status === 'start') {
      running = e.step;
      polls = 0;
      if (e.step === 'health' && !e.detail) e = { ...e, detail: `waiting for PMM's ${PMM_HEALTH_PATH} to answer 200, up to ${options.healthTimeoutSec ?? 900} s` };
    } else if (running === e.step) running = undefined;
    progress.event(e);
  };
  const findVm = async (name: string): Promise<VmInfo | undefined> => {
    const vm = await provider.findVm(name);
    if (running === 'health') {
      polls++;
      const address = vm?.addresses[0];
      progress.update(address ? `polling ${readyzUrl(address)} (attempt ${polls})` : `waiting for ${name} to report an address (attempt ${polls})`, { quiet: true });
    }
    return vm;
  };
  return { onEvent, provider: { ...provider, findVm } };
}

/**
 * destroy reports no steps of its own: each removal the provider performs is one (a cloud VM's termination can take
 * a minute). Only removals are shown; look-ups are quick.
 */
export function watchRemovals(provider: Provider, progress: Progress): Provider {
  const step = async <T>(name: string, detail: string, run: () => Promise<T>): Promise<T> => {
    progress.event({ step: name, status: 'start', detail });
    try {
      const result = await run();
      progress.event({ step: name, status: 'done', detail });
      return result;
    } catch (err) {
      progress.event({ step: name, status: 'failed', detail: (err as Error).message.split('\n')[0] as string });
      throw err;
    }
  };
  return {
    ...provider,
    destroyVm: (name, options) => step('remove-vm', name, () => provider.destroyVm(name, options)),
    deleteVolume: (id) => step('delete-volume', id, () => provider.deleteVolume(id)),
  };
}
