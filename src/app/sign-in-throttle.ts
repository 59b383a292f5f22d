import { RateLimitedError } from '../domain/errors.ts';
import type { Db } from '../store/metadata/db.ts';
import { clearLoginFailures, clearLoginFailuresWhere, forgiveLoginAttempt, getLoginFailures, replaceLoginFailures, type FailureCount } from '../store/metadata/login-failures.ts';

/**
 * How failed sign-ins slow further ones down. There is no lock: after a few free failures, each further
 * attempt under a key waits for a delay that doubles with every failure, up to a short maximum. The keys are
 * the account *together with* the address (someone guessing one account's password slows only themselves:
 * the account's owner signing in from elsewhere is not affected) and the address alone (one address trying
 * many accounts).
 */
export interface LoginLimits {
  /** Failures to one account from one address before the delays begin. */
  freeFailuresPerAccountAddress: number;
  /** Failures from one address, to any accounts, before the delays begin there. */
  freeFailuresPerAddress: number;
  /** The wait after the first failure beyond the free ones; each further failure doubles it… */
  firstDelayMs: number;
  /** …up to this. */
  maxDelayMs: number;
  /** A key's failures are forgotten this long after its last counted attempt. */
  forgetAfterMs: number;
}

export const defaultLoginLimits: LoginLimits = {
  freeFailuresPerAccountAddress: 5,
  freeFailuresPerAddress: 20,
  firstDelayMs: 1000,
  maxDelayMs: 5 * 60 * 1000,
  forgetAfterMs: 24 * 60 * 60 * 1000,
};

interface ThrottleKey {
  key: string;
  free: number;
  /** How a refusal names it. */
  what: string;
}

/** Names are lower-cased so that "Ada" and "ada" share one count: case variants must not buy more guesses. */
function accountPart(name: string): string {
  return String(name ?? '').trim().toLowerCase();
}

/** The keys one attempt is counted under. An attempt whose address is unknown (in-process callers) counts as one address. */
export function throttleKeys(name: string, address: string | null | undefined, limits: LoginLimits): ThrottleKey[] {
  const keys: ThrottleKey[] = [
    { key: `pair:${accountPart(name)}|${address ?? ''}`, free: limits.freeFailuresPerAccountAddress, what: 'for this account from this address' },
  ];
  if (address) keys.push({ key: `address:${address}`, free: limits.freeFailuresPerAddress, what: 'from this address' });
  return keys;
}

/** The wait after `failures` counted failures before the next attempt may be checked (0 within the free ones). */
export function delayAfter(failures: number, free: number, limits: LoginLimits): number {
  if (failures < free) return 0;
  return Math.min(limits.maxDelayMs, limits.firstDelayMs * 2 ** Math.min(failures - free, 40));
}

/**
 * Takes this attempt's turn under one key: refused (nothing counted) while the key's delay runs, else
 * counted as a failure before the password is checked, so a burst of parallel guesses cannot all pass before
 * the first failure is recorded (a success takes it back). Returns the milliseconds left to wait when refused.
 */
async function takeTurn(db: Db, key: ThrottleKey, now: Date, limits: LoginLimits): Promise<number> {
  for (;;) {
    const seen = await getLoginFailures(db, key.key);
    const last = seen ? Date.parse(seen.lastAttemptAt) : Number.NEGATIVE_INFINITY;
    const failures = seen && now.getTime() - last < limits.forgetAfterMs ? seen.failures : 0;
    const wait = last + delayAfter(failures, key.free, limits) - now.getTime();
    if (failures > 0 && wait > 0) return wait;
    const next: FailureCount = { failures: failures + 1, lastAttemptAt: now.toISOString() };
    if (await replaceLoginFailures(db, key.key, seen, next)) return 0;
    // Another attempt took this turn first: read its count and decide again.
  }
}

/**
 * Counts this sign-in attempt under each of its keys, or refuses it with a RateLimitedError (429 with
 * Retry-After on the API) while a delay runs, without checking the password: otherwise the delays would not
 * slow a guesser down. Returns what `succeeded` needs once the password proved right.
 */
export async function throttleAttempt(db: Db, name: string, address: string | null | undefined, now: Date, limits: LoginLimits): Promise<ThrottleKey[]> {
  const keys = throttleKeys(name, address, limits);
  const counted: ThrottleKey[] = [];
  for (const key of keys) {
    const wait = await takeTurn(db, key, now, limits);
    if (wait > 0) {
      // Not attempted after all: the keys that counted it take it back.
      for (const k of counted) await forgiveLoginAttempt(db, k.key);
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      throw new RateLimitedError(`Too many failed sign-ins ${key.what}. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`, seconds);
    }
    counted.push(key);
  }
  return keys;
}

/** The password was right: the account's count from this address starts over, and the address's takes this attempt back. */
export async function attemptSucceeded(db: Db, keys: ThrottleKey[]): Promise<void> {
  const [pair, ...others] = keys;
  await clearLoginFailures(db, pair!.key);
  for (const { key } of others) await forgiveLoginAttempt(db, key);
}

/**
 * Lifts the delays on an account's sign-ins (from every address), on an address's (to every account), or
 * both. Returns how many counts were removed.
 */
export async function clearThrottles(db: Db, target: { user?: string; address?: string }): Promise<number> {
  const account = target.user === undefined ? undefined : accountPart(target.user);
  const address = target.address?.trim();
  const removed = await clearLoginFailuresWhere(db, (key) => {
    if (account !== undefined && key.startsWith(`pair:${account}|`)) return true;
    if (address) return key === `address:${address}` || (key.startsWith('pair:') && key.endsWith(`|${address}`));
    return false;
  });
  return removed.length;
}
