/**
 * What a connection's recorded state says about whether it works, in one place: the CLI's `connection list`
 * and the overview's "needs attention" read it alike. Kept free of heavy imports: the CLI loads it at start-up.
 */

/** Error codes that mean the destination refused the stored credentials: someone must sign in or re-enter them. */
export const SIGN_IN_CODES: ReadonlySet<string> = new Set(['token_expired', 'auth_failed']);

export type ConnectionNeed =
  /** A run met a refusal of its credentials: sign in again (Microsoft) or enter new ones. */
  | { need: 'sign-in'; code: string }
  /** A run met another problem with the account (recorded as the connection's `attention`). */
  | { need: 'attention'; code: string }
  /** Its last verification failed. */
  | { need: 'verify'; code: string }
  /** It was never verified. */
  | { need: 'unverified' }
  | null;

/** The one thing a connection needs most, from its state (`attention` outranks an older verification). */
export function connectionNeed(state: { attention?: unknown; lastVerification?: unknown }): ConnectionNeed {
  const attention = state.attention as { code?: string } | null | undefined;
  if (attention) return attention.code && SIGN_IN_CODES.has(attention.code) ? { need: 'sign-in', code: attention.code } : { need: 'attention', code: attention.code ?? 'unknown' };
  const last = state.lastVerification as { ok?: boolean; code?: string } | null | undefined;
  if (!last) return { need: 'unverified' };
  return last.ok ? null : { need: 'verify', code: last.code ?? 'unknown' };
}
