import { ConflictError } from './errors.ts';
import type { RunStatus } from './model.ts';

/** The only moves a run may make. A failed run is never restarted in place: resuming creates a new run. */
const transitions: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return transitions[from].includes(to);
}

export function assertTransition(runId: string, from: RunStatus, to: RunStatus): void {
  if (!canTransition(from, to)) {
    throw new ConflictError(`Run ${runId} is ${from} and cannot become ${to}.`);
  }
}

