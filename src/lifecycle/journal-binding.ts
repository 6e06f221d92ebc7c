// An upgrade journal belongs to one VM: the one whose data volume it moves. A journal left by an upgrade of a VM
// that was since destroyed with its data (from another state dir, or by hand) and made again under the same name
// must never be resumed: it would stop the new VM for an upgrade of the dead one and ignore this run's --image.
import { renameSync } from 'node:fs';
import type { Provider } from '../provider/types.js';
import { Journal, type UpgradeJournal } from './journal.js';
import { dataVolumeName } from './names.js';
import type { StateStore } from './store.js';

export interface PendingUpgrade {
  /** The interrupted upgrade of this VM, to resume. */
  journal?: UpgradeJournal;
  /** Where a journal about another VM of this name was moved (kept for the user to read, never resumed). */
  retired?: string;
}

const unfinished = (j: UpgradeJournal | undefined): j is UpgradeJournal => !!j && (j.phase === 'forward' || j.phase === 'rollback');

/** The VM's data volume as it is now: the record's, else the provider's volume of that name. */
async function currentVolumeId(provider: Provider, store: StateStore, name: string): Promise<string | undefined> {
  const recorded = store.readRecord(provider.name, name)?.volume?.id;
  if (recorded) return recorded;
  return (await provider.findVolume(dataVolumeName(name)))?.id;
}

export async function pendingUpgrade(provider: Provider, store: StateStore, name: string, options: { dryRun?: boolean } = {}): Promise<PendingUpgrade> {
  const journal = Journal.for(store.dir, provider.name, name);
  const j = journal.read();
  if (!unfinished(j)) return {};
  const volumeId = await currentVolumeId(provider, store, name);
  if (volumeId === j.volumeId) return { journal: j };
  const retired = `${journal.path}.stale-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  if (!options.dryRun) renameSync(journal.path, retired);
  return { retired };
}

/** What the user is told when a journal was set aside. */
export const retiredNote = (name: string, retired: string, dryRun = false): string =>
  `an interrupted upgrade journal of ${name} is about another data volume (the VM was destroyed with its data and made again): ${dryRun ? 'the upgrade would set it aside' : 'set aside'} as ${retired}, not resumed`;
