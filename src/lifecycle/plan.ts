// The printable plan shape every lifecycle command shares (--dry-run prints it; --json emits it).
import type { PlannedAction } from '../provider/types.js';

export interface PlanStep {
  step: string;
  actions: PlannedAction[];
}
