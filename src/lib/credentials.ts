import { createHash, createHmac, randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt cost for new password hashes. OWASP's password storage cheat sheet lists N=2^15, r=8, p=3 as
 * equivalent in CPU cost to N=2^17, r=8, p=1 while needing 32 MiB per hash instead of 128 MiB, which matters
 * for a server verifying several logins at once. The parameters are written into each hash, so raising them
 * later keeps old hashes verifiable.
 */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 3 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

function scryptAsync(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function scryptOptions(params: { N: number; r: number; p: number }): ScryptOptions {
  // Node refuses anything above 32 MiB by default; scrypt needs 128·N·r bytes plus a little.
  return { ...params, maxmem: 128 * params.N * params.r * 2 };
}

/** `scrypt$N$r$p$<salt base64url>$<key base64url>` with a fresh random salt. */
export async function hashPassword(password: string, params: { N: number; r: number; p: number } = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, KEY_BYTES, scryptOptions(params));
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Whether `password` matches `hash` (made by `hashPassword`); a malformed hash never matches. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length === 0) return false;
  const actual = await scryptAsync(password, salt, expected.length, scryptOptions({ N, r, p }));
  return timingSafeEqual(actual, expected);
}

let dummyHash: Promise<string> | undefined;

/**
 * A well-formed hash of nothing anyone knows, made on first use (not at import: every CLI command imports
 * this). Logins for unknown users verify against it, so the answer takes as long as for a wrong password.
 */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

// No 0/O, 1/l/I: the password is read off a terminal and typed once.
const READABLE = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A one-time password such as `k7Qm2-xPz9a-Rt4nW-b8cYe` (20 random characters, about 116 bits). */
export function generatePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let group = '';
    for (let i = 0; i < 5; i++) group += READABLE[randomInt(READABLE.length)];
    groups.push(group);
  }
  return groups.join('-');
}

export const TOKEN_PREFIX = 'of_';
/** How much of a token listings show: `of_` and 6 characters, enough to tell tokens apart, useless to guess. */
export const TOKEN_DISPLAY_LENGTH = 9;

/** An API token: `of_` and 32 random bytes in base64url. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** A random opaque value (session ids, CSRF tokens): 32 bytes in base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The CSRF token of a session, derived from its id: a page of the app (same origin, so it may read the
 * answer) can ask for it again after opening in a new tab, while a cross-site page, which can make the
 * browser send the cookie but never see the cookie or the answer, cannot compute it.
 */
export function csrfTokenFor(sessionId: string): string {
  return createHmac('sha256', sessionId).update('outflow-csrf-v1').digest('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Constant-time equality of two strings' SHA-256 digests (lengths never leak). */
export function sameSecret(given: string, expectedSha256: string): boolean {
  const a = Buffer.from(sha256(given), 'hex');
  const b = Buffer.from(expectedSha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
