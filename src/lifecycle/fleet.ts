// Fleet upgrade: every PMM server cnvm owns on a provider (or those matching --select), K at a time, each with
// its own upgrade (journal, health gate, rollback). The fleet's own journal records the order and each VM's result,
// so `--resume` continues where a crash, kill or Ctrl-C left it; a VM whose own upgrade was interrupted is
// continued by that upgrade's journal. After a batch in which the failures reach --max-failures nothing new starts:
// the VMs not yet upgraded are left exactly as they were. Ctrl-C (`stop()`) starts nothing new either and lets the
// VMs in flight finish, so no VM is left half-way by the fleet.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CnvmError, isCnvmError } from '../errors.js';
import type { Provider } from '../provider/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { recordFromVm } from './record.js';
import type { StateStore } from './store.js';
import type { UpgradeEvent, UpgradeRequest, UpgradeResult } from './upgrade.js';

export const FLEET_JOURNAL_VERSION = 1;

export type MemberStatus = 'pending' | 'running' | 'upgraded' | 'rolled-back' | 'failed' | 'untouched';

export interface FleetMember {
  name: string;
  status: MemberStatus;
  /** The batch it runs in (1-based). */
  batch: number;
  startedAt?: string;
  endedAt?: string;
  /** The new VM on success; the error's message and exit kind otherwise. */
  newVm?: string;
  downtimeMs?: number;
  error?: { kind: string; message: string };
}

export interface FleetJournal {
  schemaVersion: typeof FLEET_JOURNAL_VERSION;
  provider: string;
  /** What chose the members (`*` for --all), kept so a resume with other flags is refused. */
  selector: string;
  batch: number;
  maxFailures: number;
  /** The image every member moves to (resolved once, before the first VM changes). */
  image: UpgradeRequest['overrides']['image'];
  startedAt: string;
  members: FleetMember[];
}

export interface FleetPlan {
  provider: string;
  selector: string;
  batch: number;
  maxFailures: number;
  /** Members in the order they run, batch by batch. */
  batches: string[][];
  resumed: boolean;
  /** Members already upgraded by an earlier run of this fleet. */
  done: string[];
}

/** A glob over VM names: `*` any run of characters, `?` one; everything else literal. */
export function globMatcher(glob: string): (name: string) => boolean {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return (name) => re.test(name);
}

/**
 * The logical VMs cnvm owns on this provider: every VM with a cnvm owner, once per name, sorted. With a stage, only
 * those whose record (the one that travels with the VM) says it was placed with that stage.
 */
export async function fleetNames(provider: Provider, select?: string, stage?: string): Promise<string[]> {
  const { vms } = await provider.list();
  const match = select ? globMatcher(select) : () => true;
  const inStage = (vm: (typeof vms)[number]): boolean => stage === undefined || recordFromVm(vm.record)?.desired.stage === stage;
  return [...new Set(vms.filter(inStage).map((vm) => vm.owner?.name).filter((n): n is string => typeof n === 'string'))].filter(match).sort();
}

export class FleetJournalFile {
  constructor(readonly path: string) {}

  static for(store: StateStore, provider: string, selector: string): FleetJournalFile {
    const id = createHash('sha256').update(selector).digest('hex').slice(0, 12);
    return new FleetJournalFile(join(store.dir, 'fleets', `${provider}-${id}.json`));
  }

  read(): FleetJournal | undefined {
    if (!existsSync(this.path)) return undefined;
    let j: FleetJournal;
    try {
      j = JSON.parse(readFileSync(this.path, 'utf8')) as FleetJournal;
    } catch (err) {
      throw new CnvmError('io', `cannot read the fleet journal ${this.path}: ${(err as Error).message}`);
    }
    if (j.schemaVersion !== FLEET_JOURNAL_VERSION) throw new CnvmError('io', `the fleet journal ${this.path} has schemaVersion ${String(j.schemaVersion)}; this cnvm reads ${FLEET_JOURNAL_VERSION}`);
    return j;
  }

  write(j: FleetJournal): void {
    mkdirSync(join(this.path, '..'), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.path, `${JSON.stringify(j, null, 2)}\n`, 0o600);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}

export interface FleetRequest {
  selector: string;
  /** Members in order (from fleetNames); ignored when an unfinished fleet journal exists. */
  names: string[];
  batch: number;
  maxFailures: number;
  image: UpgradeRequest['overrides']['image'];
  /** Only continue an unfinished fleet; fail if there is none. */
  resumeOnly?: boolean;
}

/** The fleet's order, from its journal when one is unfinished, else from the names. Changes nothing. */
export function planFleet(provider: Provider, store: StateStore, req: FleetRequest): FleetPlan {
  checkCounts(req);
  const existing = FleetJournalFile.for(store, provider.name, req.selector).read();
  if (req.resumeOnly && !existing) throw new CnvmError('not-found', `no unfinished fleet upgrade of ${req.selector} on ${provider.name} to resume`);
  if (existing) {
    const left = existing.members.filter((m) => m.status !== 'upgraded');
    return { provider: provider.name, selector: req.selector, batch: existing.batch, maxFailures: existing.maxFailures, batches: toBatches(left.map((m) => m.name), existing.batch), resumed: true, done: existing.members.filter((m) => m.status === 'upgraded').map((m) => m.name) };
  }
  if (req.names.length === 0) throw new CnvmError('not-found', `no cnvm VM on ${provider.name} matches ${req.selector}`);
  return { provider: provider.name, selector: req.selector, batch: req.batch, maxFailures: req.maxFailures, batches: toBatches(req.names, req.batch), resumed: false, done: [] };
}

function checkCounts(req: Pick<FleetRequest, 'batch' | 'maxFailures'>): void {
  if (!Number.isInteger(req.batch) || req.batch < 1) throw new CnvmError('usage', `--batch must be a whole number ≥ 1, got ${req.batch}`);
  if (!Number.isInteger(req.maxFailures) || req.maxFailures < 1) throw new CnvmError('usage', `--max-failures must be a whole number ≥ 1, got ${req.maxFailures}`);
}

const toBatches = (names: string[], k: number): string[][] => Array.from({ length: Math.ceil(names.length / k) }, (_, i) => names.slice(i * k, i * k + k));

export interface FleetEvent {
  vm: string;
  batch: number;
  /** `start`/`done`/`failed`/`rolled-back` of one member, or one of its own upgrade's events. */
  kind: 'start' | 'done' | 'failed' | 'rolled-back' | 'step';
  step?: UpgradeEvent;
  detail?: string;
}

export interface FleetResult {
  provider: string;
  selector: string;
  members: FleetMember[];
  /** Why it stopped before the end, if it did: too many failures, or a stop (Ctrl-C). */
  stopped?: 'max-failures' | 'interrupted';
}

export type UpgradeOne = (name: string, onEvent: (e: UpgradeEvent) => void) => Promise<UpgradeResult>;

/**
 * Runs the fleet. `upgradeOne` is the single-VM upgrade (with the command line's settings for that VM); `stop()`
 * on the returned handle lets the batch in flight finish and starts nothing more.
 */
export function fleetUpgrade(provider: Provider, store: StateStore, req: FleetRequest, upgradeOne: UpgradeOne, onEvent: (e: FleetEvent) => void = () => {}): { done: Promise<FleetResult>; stop: () => void } {
  let stopping = false;
  const done = (async (): Promise<FleetResult> => {
    // Start on the next tick, so the caller holds the handle (and its stop) before the first VM starts.
    await Promise.resolve();
    const plan = planFleet(provider, store, req);
    const file = FleetJournalFile.for(store, provider.name, req.selector);
    const journal: FleetJournal = file.read() ?? {
      schemaVersion: FLEET_JOURNAL_VERSION,
      provider: provider.name,
      selector: req.selector,
      batch: plan.batch,
      maxFailures: plan.maxFailures,
      image: req.image,
      startedAt: new Date().toISOString(),
      members: plan.batches.flatMap((names, i) => names.map((name) => ({ name, status: 'pending' as const, batch: i + 1 }))),
    };
    // A resumed fleet keeps its image and counts: the members already upgraded run it, so the rest must too.
    if (plan.resumed) {
      let b = 0;
      for (const names of plan.batches) {
        b++;
        for (const name of names) {
          const m = journal.members.find((x) => x.name === name) as FleetMember;
          Object.assign(m, { status: 'pending', batch: b });
          delete m.error;
        }
      }
    }
    file.write(journal);
    let failures = 0;
    let stopped: FleetResult['stopped'];
    for (let b = 1; b <= plan.batches.length; b++) {
      if (stopping) {
        stopped = 'interrupted';
        break;
      }
      const members = journal.members.filter((m) => m.batch === b && m.status === 'pending');
      for (const m of members) Object.assign(m, { status: 'running', startedAt: new Date().toISOString() });
      file.write(journal);
      await Promise.all(
        members.map(async (m) => {
          onEvent({ vm: m.name, batch: b, kind: 'start' });
          try {
            const r = await upgradeOne(m.name, (step) => onEvent({ vm: m.name, batch: b, kind: 'step', step }));
            Object.assign(m, { status: 'upgraded', newVm: r.newVm, downtimeMs: r.downtimeMs, endedAt: new Date().toISOString() });
            onEvent({ vm: m.name, batch: b, kind: 'done', detail: r.newVm });
          } catch (err) {
            const kind = isCnvmError(err) ? err.kind : 'internal';
            Object.assign(m, { status: kind === 'rolled-back' ? 'rolled-back' : 'failed', error: { kind, message: (err as Error).message }, endedAt: new Date().toISOString() });
            failures++;
            onEvent({ vm: m.name, batch: b, kind: kind === 'rolled-back' ? 'rolled-back' : 'failed', detail: (err as Error).message });
          } finally {
            file.write(journal);
          }
        }),
      );
      if (failures >= plan.maxFailures && b < plan.batches.length) {
        stopped = 'max-failures';
        break;
      }
    }
    for (const m of journal.members) if (m.status === 'pending') m.status = 'untouched';
    const complete = journal.members.every((m) => m.status === 'upgraded');
    if (complete) file.remove();
    else {
      // Keep what is left for --resume: untouched and failed members run again, upgraded ones do not.
      for (const m of journal.members) if (m.status === 'untouched') m.status = 'pending';
      file.write(journal);
      for (const m of journal.members) if (m.status === 'pending') m.status = 'untouched';
    }
    return { provider: provider.name, selector: req.selector, members: journal.members.map((m) => ({ ...m })), ...(stopped ? { stopped } : {}) };
  })();
  return {
    done,
    stop: () => {
      stopping = true;
    },
  };
}
