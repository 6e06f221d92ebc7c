// The upgrade journal: one small JSON file per VM in the user's state directory, written atomically before and
// after every step, so a crash at any point can be resumed (or rolled back) by re-running the command.
import { mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AccessRule, ImageRef } from '../provider/types.js';
import { CnvmError } from '../errors.js';
import type { DesiredState } from './record.js';
import type { UpgradeStep, UpgradeStepKind } from './upgrade-steps.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { LIMITS, readLimitedIfExists } from '../util/read-limited.js';
import { pathUnder } from '../util/safe-path.js';

/** The journal's schema version; `read` also takes version 1 (written before the journal stored its step list). */
export const JOURNAL_VERSION = 2;

/** A step as the journal stores it: the step list's entry without its provider requests. */
export type JournaledStep = Omit<UpgradeStep, 'actions'>;

export interface UpgradeJournal {
  version: typeof JOURNAL_VERSION | 1;
  provider: string;
  name: string;
  volumeId: string;
  oldVm: string;
  newVm: string;
  newGeneration: number;
  image: ImageRef;
  /** The desired state of the new generation (the record's, with this upgrade's changes). */
  desired: DesiredState;
  /** The old generation's desired state: its stored config is rendered from it (without the password) when scrubbed. */
  previousDesired?: DesiredState;
  /** The stable address moved inside the downtime window (providers that reserve one); set by reserve-address. */
  addressId?: string;
  keepOld: boolean;
  skipHealthCheck: boolean;
  phase: 'forward' | 'rollback' | 'done' | 'rolled-back';
  /**
   * The upgrade's step list (upgrade-steps.ts), as planned when it began: a resumed run continues this list.
   * Absent in version 1 journals: their list is computed again from the fields above.
   */
  plan?: JournaledStep[];
  /** Each step kind's mark: `started` before it runs, `done` after (keeping when it started: the downtime's ends). */
  steps: Partial<Record<UpgradeStepKind, { status: 'started' | 'done'; at: string; startedAt?: string }>>;
  /** Who could reach the VM before this upgrade changed anything (a rollback puts it back); absent: no cnvm rules. */
  accessBefore?: AccessRule[];
  /** The stops the provider forced (a guest that ignored the graceful stop, or a generation never booted with its disk). */
  forcedStops?: ForcedStop[];
  startedAt: string;
  error?: string;
}

export interface ForcedStop {
  step: UpgradeStepKind;
  vm: string;
  /** What the provider did and why. */
  detail: string;
  at: string;
}

export function defaultStateDir(): string {
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'cnvm');
}

export class Journal {
  constructor(readonly path: string) {}

  static for(stateDir: string, provider: string, name: string): Journal {
    return new Journal(pathUnder(stateDir, 'upgrades', `${provider}-${name}.json`));
  }

  read(): UpgradeJournal | undefined {
    const text = readLimitedIfExists(this.path, { limit: LIMITS.state, what: 'the upgrade journal' });
    if (text === undefined) return undefined;
    let j: UpgradeJournal;
    try {
      j = JSON.parse(text) as UpgradeJournal;
    } catch (err) {
      throw new CnvmError('io', `${this.path}: the upgrade journal is not valid JSON (${(err as Error).message}); check what the interrupted upgrade left, then move the file away`);
    }
    if (j.version !== JOURNAL_VERSION && j.version !== 1) {
      // Written by another cnvm: its steps may not be ours, so resuming could run the wrong ones.
      throw new CnvmError('usage', `${this.path}: upgrade journal schema version ${String(j.version)}, this cnvm reads versions 1 and ${JOURNAL_VERSION}; finish the upgrade with the cnvm that started it`);
    }
    return j;
  }

  write(j: UpgradeJournal): void {
    mkdirSync(join(this.path, '..'), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.path, `${JSON.stringify(j, null, 2)}\n`, 0o600);
  }

  mark(j: UpgradeJournal, step: UpgradeStepKind, status: 'started' | 'done'): void {
    const previous = j.steps[step];
    const at = new Date().toISOString();
    j.steps[step] = { status, at, ...(status === 'done' && previous?.status === 'started' ? { startedAt: previous.at } : {}) };
    this.write(j);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
