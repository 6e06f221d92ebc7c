// What an upgrade reports about its own run, read from its journal so that a resumed run tells the truth about the
// part an interrupted run did: the steps completed before the interruption and in this run, the downtime from the
// journal's timestamps (a window opened by the interrupted run is measured from its stop), and the stops the
// provider had to force.
import type { StopNotice } from '../provider/types.js';
import type { ForcedStop, Journal, UpgradeJournal } from './journal.js';
import type { UpgradeStep, UpgradeStepKind } from './upgrade-steps.js';

export interface StepsCompleted {
  /** Done by an earlier, interrupted run (journaled `done` when this run began), in step-list order. */
  before: UpgradeStepKind[];
  /** Done by this run, in step-list order. */
  now: UpgradeStepKind[];
}

/** The step kinds the journal marks done. */
export function doneKinds(j: UpgradeJournal | undefined): Set<UpgradeStepKind> {
  return new Set(Object.entries(j?.steps ?? {}).flatMap(([kind, mark]) => (mark?.status === 'done' ? [kind as UpgradeStepKind] : [])));
}

/** Which steps were done before this run and which by it, in the order of the step list. */
export function completedSteps(steps: readonly UpgradeStep[], doneAtStart: Set<UpgradeStepKind>, j: UpgradeJournal): StepsCompleted {
  const doneNow = doneKinds(j);
  const order = steps.map((s) => s.kind);
  return { before: order.filter((k) => doneAtStart.has(k)), now: order.filter((k) => doneNow.has(k) && !doneAtStart.has(k)) };
}

/**
 * The downtime window: measured around this run's provider calls where it ran them, else from the journal's marks
 * (the opening step's start, the closing step's end) written by the run that did.
 */
export function downtimeMs(steps: readonly UpgradeStep[], j: UpgradeJournal, measured: { start?: number; end?: number }): number {
  const opens = steps.find((s) => s.downtime === 'opens');
  const closes = steps.find((s) => s.downtime === 'closes');
  const openMark = opens ? j.steps[opens.kind] : undefined;
  const closeMark = closes ? j.steps[closes.kind] : undefined;
  const start = measured.start ?? (openMark ? Date.parse(openMark.startedAt ?? openMark.at) : undefined);
  const end = measured.end ?? (closeMark?.status === 'done' ? Date.parse(closeMark.at) : undefined);
  return start !== undefined && end !== undefined && end >= start ? end - start : 0;
}

/** A notice that journals a forced stop of `vm` by `step`; the report lists it. */
export function forcedStopNotice(journal: Journal, state: UpgradeJournal, step: UpgradeStepKind, vm: string): StopNotice {
  return {
    onForced(detail) {
      const entry: ForcedStop = { step, vm, detail, at: new Date().toISOString() };
      state.forcedStops = [...(state.forcedStops ?? []), entry];
      journal.write(state);
    },
  };
}
