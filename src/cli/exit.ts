/** Exit codes: a short table scripts can rely on. */
export const exitCodes = {
  ok: 0,
  runFailed: 1,
  invalid: 2,
  notFound: 3,
  conflict: 4,
  denied: 5,
  busy: 6,
  internal: 70,
} as const;

/** Thrown by a command that has printed its own output and only needs to set the exit code. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
