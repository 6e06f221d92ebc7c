// The upgrade journal: one small JSON file per VM in the user's state directory, written atomically before and
// after every step, so a crash at any point can be resumed (or rolled back) by re-running the command.
import { mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ImageRef } from '../provider/types.js';
import type { DesiredState } from './record.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { CnvmError } from '../errors.js';
import { LIMITS, readLimitedIfExists } from '../util/read-limited.js';
import { pathUnder } from '../util/safe-path.js';

// The address steps are no-ops where the provider keeps addresses implicitly (libvirt's MAC); the scrub steps are
// no-ops unless the old VM's stored config still holds the admin password (a provider that can replace it only
// while the VM is stopped). A journal written before a step existed simply runs it on resume: every step is
// idempotent.
export const FORWARD_STEPS = ['reserve-address', 'create-new', 'stop-old', 'detach-old', 'attach-new', 'move-address', 'start-new', 'health', 'scrub-kept-old', 'destroy-old'] as const;
export const ROLLBACK_STEPS = ['stop-new', 'detach-new', 'attach-old', 'address-back', 'scrub-old', 'start-old', 'destroy-new'] as const;
export type StepName = (typeof FORWARD_STEPS)[number] | (typeof ROLLBACK_STEPS)[number];

export interface UpgradeJournal {
  version: 1;
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
  steps: Partial<Record<StepName, { status: 'started' | 'done'; at: string }>>;
  startedAt: string;
  error?: string;
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
    try {
      return JSON.parse(text) as UpgradeJournal;
    } catch (err) {
      throw new CnvmError('io', `cannot read the upgrade journal ${this.path}: ${(err as Error).message}; move it away only if no upgrade of this VM is half-done`);
    }
  }

  write(j: UpgradeJournal): void {
    mkdirSync(join(this.path, '..'), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.path, `${JSON.stringify(j, null, 2)}\n`, 0o600);
  }

  mark(j: UpgradeJournal, step: StepName, status: 'started' | 'done'): void {
    j.steps[step] = { status, at: new Date().toISOString() };
    this.write(j);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
