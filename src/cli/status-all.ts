// `cnvm status --all`: one line per cnvm VM on every provider asked (src/cli/across.ts): the record's status, the
// current generation's VM and state, the PMM URL and the data volume. Names come from the provider (VMs cnvm owns,
// data volumes left without a VM), so a new state directory sees the same VMs; each VM's status is found the way
// `cnvm status --name` finds it (the local record, else the copy its VM carries).
import type { Provider } from '../provider/types.js';
import type { StateStore } from '../lifecycle/store.js';
import { isCnvmError } from '../errors.js';
import { jsonOut } from './output.js';
import type { Flags } from './provider-context.js';

export interface StatusRow {
  name: string;
  /** The record's status (provisioning, ready, destroyed), or unknown when it could not be read. */
  status: string;
  generation: number | null;
  vm: string | null;
  state: string | null;
  image: string | null;
  url: string | null;
  dataVolume: string | null;
  /** Why this VM's status could not be read (status unknown). */
  error?: string;
}

async function statusRows(provider: Provider, store: StateStore): Promise<StatusRow[]> {
  const [{ fleetNames }, { status }] = await Promise.all([import('../lifecycle/fleet.js'), import('../lifecycle/status.js')]);
  const { volumes } = await provider.list();
  const owned = await fleetNames(provider);
  const kept = volumes.filter((v) => !v.attachedTo && v.name.endsWith('-data')).map((v) => v.name.slice(0, -'-data'.length));
  const names = [...new Set([...owned, ...kept])].sort();
  return Promise.all(
    names.map(async (name): Promise<StatusRow> => {
      try {
        const s = await status(provider, store, name);
        return {
          name,
          status: s.record.status,
          generation: s.generation ?? null,
          vm: s.vm?.name ?? null,
          state: s.vm?.state ?? null,
          image: s.vm?.image ?? null,
          url: s.url ?? null,
          dataVolume: s.volume?.name ?? null,
        };
      } catch (err) {
        if (!isCnvmError(err)) throw err;
        return { name, status: 'unknown', generation: null, vm: null, state: null, image: null, url: null, dataVolume: null, error: err.message.split('\n')[0] ?? err.message };
      }
    }),
  );
}

export async function runStatusAll(flags: Flags): Promise<number> {
  if (flags.name !== undefined) throw new (await import('./errors.js')).UsageError('--all shows every VM: give it without --name');
  const { acrossProviders, reportFailures, table } = await import('./across.js');
  const { answers, rows } = await acrossProviders(flags, statusRows);
  if (flags.json) jsonOut('status', { all: true, providers: answers, vms: rows });
  else if (rows.length === 0) process.stdout.write(`no cnvm VMs on ${answers.map((a) => a.name).join(', ')} here\n`);
  else {
    const cells = rows.map((r) => [r.provider, r.name, r.status, r.generation === null ? '-' : String(r.generation), r.vm ?? '-', r.state ?? '-', r.url ?? '-', r.dataVolume ?? '-']);
    process.stdout.write(`${table(['PROVIDER', 'NAME', 'STATUS', 'GEN', 'VM', 'STATE', 'URL', 'DATA VOLUME'], cells)}\n`);
    for (const r of rows) if (r.error) process.stderr.write(`cnvm: ${r.provider}: ${r.name}: ${r.error}\n`);
  }
  return reportFailures(answers);
}
