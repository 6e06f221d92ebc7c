// Runs a command's step list (see ./step.ts): each step by the executor of its kind, reported as it goes, and,
// for a journaled command, marked started before and done after it runs, so that a re-run skips what was done and
// repeats what was interrupted.
import type { Step } from './step.js';

export interface StepEvent {
  step: string;
  status: 'start' | 'done' | 'skip' | 'failed';
  detail?: string;
}

/** What an executor may say about its step: a `skip` when it found nothing to do, and a detail for the report. */
export interface StepOutcome {
  status?: 'done' | 'skip';
  detail?: string;
}

/** One executor per step kind of the union `S`; a kind without one does not compile. */
export type Executors<S extends Step> = { [K in S['kind']]: (step: Extract<S, { kind: K }>) => Promise<StepOutcome | void> };

/** Where a journaled command keeps its steps' marks. */
export interface StepJournal {
  isDone(kind: string): boolean;
  mark(kind: string, status: 'started' | 'done'): void;
}

export interface RunOptions<S extends Step> {
  emit(e: StepEvent): void;
  journal?: StepJournal;
  /** The detail of a step's `start` event. */
  startDetail?(step: S): string | undefined;
  /**
   * Called right before a step's executor runs and right after it returns (before the journal's done mark): the
   * moments a command measures, such as the upgrade's downtime window.
   */
  onRun?(step: S, moment: 'before' | 'after'): void;
}

export async function runSteps<S extends Step>(steps: readonly S[], executors: Executors<S>, options: RunOptions<S>): Promise<void> {
  const { emit, journal } = options;
  for (const step of steps) {
    if (journal?.isDone(step.kind)) {
      emit({ step: step.kind, status: 'skip', detail: 'done before' });
      continue;
    }
    if (step.skip !== undefined) {
      emit({ step: step.kind, status: 'skip', detail: step.skip });
      continue;
    }
    const detail = options.startDetail?.(step);
    emit({ step: step.kind, status: 'start', ...(detail ? { detail } : {}) });
    journal?.mark(step.kind, 'started');
    options.onRun?.(step, 'before');
    const run = executors[step.kind as S['kind']] as (s: S) => Promise<StepOutcome | void>;
    const outcome = (await run(step)) ?? {};
    options.onRun?.(step, 'after');
    journal?.mark(step.kind, 'done');
    emit({ step: step.kind, status: outcome.status ?? 'done', ...(outcome.detail ? { detail: outcome.detail } : {}) });
  }
}
