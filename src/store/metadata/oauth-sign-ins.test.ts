import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataBackends } from '../../../test/support/postgres.ts';
import { createSecretBox } from '../secret-box.ts';
import type { MetadataStore } from './db.ts';
import { createPendingSignIn, prunePendingSignIns, takePendingSignIn } from './oauth-sign-ins.ts';

const backends = await metadataBackends('outflow_oauth_test');
const box = createSecretBox(randomBytes(32));

describe.each(backends)('pending sign-ins on %s', (_name, open, available) => {
  let store: MetadataStore;
  beforeAll(async () => {
    if (available) store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });
  const test = available ? it : it.skip;
  const signIn = (expiresAt: string) => ({
    connectionId: 'conn_1',
    userName: 'ada',
    verifier: 'verifier-0123456789-abcdefghijklmnopqrstuvw',
    redirectUri: 'https://outflow.example.com/api/oauth/microsoft/callback',
    createdAt: '2026-11-29T09:00:00.000Z',
    expiresAt,
  });

  test('gives a sign-in to exactly one of two racing takers, with the verifier sealed at rest', async () => {
    await createPendingSignIn(store.db, box, 'hash-a', signIn('2026-11-29T09:10:00.000Z'));
    const row = await store.db.selectFrom('oauth_sign_ins').selectAll().where('state_hash', '=', 'hash-a').executeTakeFirstOrThrow();
    expect(row.verifier_sealed).not.toContain('verifier-0123456789');
    const taken = await Promise.all([takePendingSignIn(store.db, box, 'hash-a'), takePendingSignIn(store.db, box, 'hash-a')]);
    expect(taken.filter(Boolean)).toEqual([signIn('2026-11-29T09:10:00.000Z')]);
    expect(await takePendingSignIn(store.db, box, 'hash-a')).toBeUndefined();
  });

  test('prunes only the expired ones', async () => {
    await createPendingSignIn(store.db, box, 'old', signIn('2026-11-29T09:10:00.000Z'));
    await createPendingSignIn(store.db, box, 'new', signIn('2026-11-29T09:30:00.000Z'));
    expect(await prunePendingSignIns(store.db, '2026-11-29T09:20:00.000Z')).toBe(1);
    expect(await takePendingSignIn(store.db, box, 'old')).toBeUndefined();
    expect(await takePendingSignIn(store.db, box, 'new')).toMatchObject({ userName: 'ada' });
  });
});
