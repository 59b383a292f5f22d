import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataBackends } from '../../../test/support/postgres.ts';
import { createSecretBox } from '../secret-box.ts';
import type { MetadataStore } from './db.ts';
import { claimIdempotencyKey, completeIdempotencyKey, IDEMPOTENCY_KEY_TTL_MS, purgeIdempotencyKeys, releaseIdempotencyKey } from './idempotency.ts';

const box = createSecretBox(randomBytes(32));
const backends = await metadataBackends('outflow_idem_test');
const T0 = new Date('2026-12-01T10:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);

describe.each(backends)('idempotency keys on %s', (_name, open, available) => {
  let store: MetadataStore;
  beforeAll(async () => {
    if (available) store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });
  const test = available ? it : it.skip;
  const id = (key: string) => ({ scope: 'user:ada', operation: 'createUser', key });

  test('a new key is claimed once; while pending the others are told so; done, the answer comes back', async () => {
    const answer = { status: 201, headers: { 'content-type': 'application/json', location: '/api/v1/users/x' }, body: '{"oneTimePassword":"s3cret-otp"}' };
    expect(await claimIdempotencyKey(store.db, box, id('k1'), 'fp-a', T0)).toEqual({ kind: 'claimed' });
    expect(await claimIdempotencyKey(store.db, box, id('k1'), 'fp-a', later(1000))).toEqual({ kind: 'pending', since: T0.toISOString() });
    expect(await claimIdempotencyKey(store.db, box, id('k1'), 'fp-b', later(1000))).toEqual({ kind: 'mismatch' });
    await completeIdempotencyKey(store.db, box, id('k1'), answer, later(2000));
    expect(await claimIdempotencyKey(store.db, box, id('k1'), 'fp-a', later(3000))).toEqual({ kind: 'done', answer });
    expect(await claimIdempotencyKey(store.db, box, id('k1'), 'fp-b', later(3000))).toEqual({ kind: 'mismatch' });
    // The answer may hold a one-time password or a new token, the request a connection's secrets: sealed at rest.
    const raw = await store.db.selectFrom('idempotency_keys').selectAll().where('key', '=', 'k1').executeTakeFirstOrThrow();
    expect(JSON.stringify(raw)).not.toContain('s3cret-otp');
    expect(JSON.stringify(raw)).not.toContain('fp-a');
  });

  test('keys of other callers and other operations are their own', async () => {
    expect(await claimIdempotencyKey(store.db, box, id('k2'), 'fp', T0)).toEqual({ kind: 'claimed' });
    expect(await claimIdempotencyKey(store.db, box, { ...id('k2'), scope: 'user:bob' }, 'fp', T0)).toEqual({ kind: 'claimed' });
    expect(await claimIdempotencyKey(store.db, box, { ...id('k2'), operation: 'createToken' }, 'fp', T0)).toEqual({ kind: 'claimed' });
  });

  test('a released key is free again: the request did nothing', async () => {
    expect(await claimIdempotencyKey(store.db, box, id('k3'), 'fp-a', T0)).toEqual({ kind: 'claimed' });
    await releaseIdempotencyKey(store.db, id('k3'));
    expect(await claimIdempotencyKey(store.db, box, id('k3'), 'fp-b', T0)).toEqual({ kind: 'claimed' });
  });

  test('of requests racing with one key, exactly one claims it', async () => {
    const claims = await Promise.all(Array.from({ length: 8 }, () => claimIdempotencyKey(store.db, box, id('k4'), 'fp', T0)));
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'pending')).toHaveLength(7);
  });

  test('a key expires 24 h after its first use: claimed anew, and purged', async () => {
    const answer = { status: 201, headers: {}, body: '{}' };
    expect(await claimIdempotencyKey(store.db, box, id('k5'), 'fp', T0)).toEqual({ kind: 'claimed' });
    await completeIdempotencyKey(store.db, box, id('k5'), answer, T0);
    expect(await claimIdempotencyKey(store.db, box, id('k5'), 'fp', later(IDEMPOTENCY_KEY_TTL_MS - 1))).toMatchObject({ kind: 'done' });
    // A day later the same key is a new request, even with another body.
    expect(await claimIdempotencyKey(store.db, box, id('k5'), 'other', later(IDEMPOTENCY_KEY_TTL_MS))).toEqual({ kind: 'claimed' });

    expect(await claimIdempotencyKey(store.db, box, id('k6'), 'fp', later(IDEMPOTENCY_KEY_TTL_MS))).toEqual({ kind: 'claimed' });
    const before = await store.db.selectFrom('idempotency_keys').select('key').execute();
    expect(before.map((r) => r.key)).toContain('k1');
    // Everything first used on T0 goes; k5 (claimed again a day later) and k6 stay.
    expect(await purgeIdempotencyKeys(store.db, later(IDEMPOTENCY_KEY_TTL_MS + 1))).toBe(before.length - 2);
    expect((await store.db.selectFrom('idempotency_keys').select('key').orderBy('key').execute()).map((r) => r.key)).toEqual(['k5', 'k6']);
  });
});
