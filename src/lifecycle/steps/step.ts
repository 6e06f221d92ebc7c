// Plan, then apply, with one list of typed steps per lifecycle command.
//
// A command's plan function computes an ordered list of steps from the VM's record and the flags (nothing but
// reads). That one list is what `--dry-run` prints (`planView`), what apply runs (`runSteps`, each step handed to
// the executor of its `kind`) and what a journal records (the step kinds, and each one's started/done mark); no
// second description of the steps exists. A step carries only what the three need: its kind, the line the plan
// prints, the provider requests it makes (`provider.plan.*`), and, when this run lists it without running it, why
// (`skip`). Command-specific facts a step needs (a VM name, a volume id) are fields of that command's step type.
//
// Adding a step type is local to its command: add the kind to the command's step union, one builder that returns
// the step (where the list is assembled, in the order it runs) and one executor for the kind. The type
// `Executors<S>` makes a missing executor a compile error; the runner, the printer and the journal need no change.
// Steps must be idempotent: a resumed run repeats a step that was started and never marked done.
import type { PlannedAction } from '../../provider/types.js';
import type { PlanStep } from '../plan.js';

export interface Step<K extends string = string> {
  /** The step's type: the key of its executor, and its name in progress events and journals. */
  kind: K;
  /** What `--dry-run` prints for it. */
  title: string;
  /** The provider requests it would make. */
  actions: PlannedAction[];
  /**
   * Listed, but not run on this VM: the runner reports it as `skip` with this reason and journals nothing (the
   * health gate under --skip-health-check, a step that does not apply to this provider).
   */
  skip?: string;
  /**
   * Not printed by `--dry-run`: on this VM it changes nothing (it does not apply, or finds its work done). It is
   * still reported while running, so every run of a command shows the same sequence of steps.
   */
  silent?: true;
}

/** A step reported as `skip: not needed` and left out of the printed plan. */
export const NOT_NEEDED = 'not needed';

export function notNeeded<S extends Step>(step: S): S {
  return { ...step, skip: NOT_NEEDED, silent: true };
}

/** What `--dry-run` prints (and emits with --json): the steps that do something on this VM, in order. */
export function planView(steps: readonly Step[]): PlanStep[] {
  return steps.filter((s) => !s.silent).map((s) => ({ step: s.title, actions: s.actions }));
}
