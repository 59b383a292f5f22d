import { ConflictError } from './errors.ts';

// Here rather than in model.ts (which needs zod, ~65 ms to load) so that the CLI's help can list them.
export const runStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof runStatuses)[number];

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

