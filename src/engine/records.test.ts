import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRecordExport, type Batch, type ExportRecord } from '../destinations/kit/define.ts';
import { createTestContext } from '../destinations/kit/testing.ts';
import { RetryableError, UpstreamError } from '../domain/errors.ts';
import type { RunRejection } from '../domain/model.ts';
import { createMemoryRateLimiter, type RateLimiter } from '../lib/rate-limit.ts';
import { openProfileStore, type ProfileStore } from '../store/profile/profile-store.ts';
import { decodeIdentity, encodeIdentity, runRecordExport, type RecordExportInput, type RecordProgress } from './records.ts';

/** A destination defined for the test: records what it was sent and fails on cue. */
function testDestination(options: { batchSize?: number; concurrency?: number; rejectEmails?: string[]; failOnCall?: Map<number, Error> } = {}) {
  const sent: Array<{ action: string; keys: string[]; emails: string[] }> = [];
  let calls = 0;
  const kind = defineRecordExport({
    kind: 'records',
    title: 'Test list',
    settings: z.object({}),
    fields: { email: { title: 'E-mail', type: 'email', required: true }, firstName: { title: 'First name', type: 'string' } },
    extraFields: { description: 'anything else' },
    limits: { batchSize: options.batchSize ?? 1000, concurrency: options.concurrency ?? 1 },
    supportsRemove: true,
    rate: () => ({ requests: 1000, perMs: 1000 }),
    async open() {
      return {
        async prepare({ segment }) {
          return `list:${segment}`;
        },
        async send(batch: Batch<string, Record<string, unknown>>) {
          calls++;
          const failure = options.failOnCall?.get(calls);
          if (failure) throw failure;
          sent.push({ action: batch.action, keys: batch.records.map((r: ExportRecord) => r.key), emails: batch.records.map((r) => String(r.fields.email)) });
          return {
            rejected: batch.records
              .map((r, index) => ({ index, email: String(r.fields.email) }))
              .filter((r) => options.rejectEmails?.includes(r.email))
              .map((r) => ({ index: r.index, code: 'vendor_refused', message: 'The vendor refused this record.' })),
          };
        },
      };
    },
  });
  return { kind, sent, calls: () => calls };
}

let dir: string;
let store: ProfileStore;
const segment = { name: 'everyone', source: { kind: 'segment', segmentId: 'seg_all', segment: 'everyone', entity: 'Customer' } as const, members: 2500, stateId: 'exp_1_seg_all' };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-engine-'));
  store = await openProfileStore(path.join(dir, 'p.duckdb'));
  const lines = ['profile_id,email,first_name'];
  for (let i = 1; i <= 2500; i++) {
    const email = i === 10 ? '' : i === 20 ? 'not-an-email' : `  Person${i}@Example.COM `;
    lines.push(`${i},${email},Name${i}`);
  }
  fs.writeFileSync(path.join(dir, 'c.csv'), lines.join('\n') + '\n');
  await store.loadEntity('Customer', path.join(dir, 'c.csv'), { key: 'profile_id' });
  await store.refreshSegment('seg_all', 'Customer', { sql: 'true', params: [] });
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function input(kind: RecordExportInput['kind'], overrides: Partial<RecordExportInput> = {}) {
  const progress: RecordProgress[] = [];
  const rejections: RunRejection[] = [];
  const value: RecordExportInput = {
    kind,
    connection: {},
    ctx: createTestContext(),
    profiles: store,
    segments: [segment],
    mapping: { email: 'email', firstName: 'first_name' },
    settings: {},
    syncMode: 'full',
    checkpoint: null,
    retry: { budgetMs: 60_000, maxAttempts: 3, baseMs: 1, maxMs: 5, maxRetryAfterMs: 1000 },
    onBatch: async (p, r) => {
      progress.push(p);
      rejections.push(...r);
    },
    ...overrides,
  };
  return { value, progress, rejections };
}

describe('record pipeline', () => {
  it('splits 2,500 members into three batches in key order, normalizing e-mails and rejecting bad ones unsent', async () => {
    const destination = testDestination();
    const { value, progress, rejections } = input(destination.kind);
    const [result] = await runRecordExport(value);
    expect(destination.sent.map((b) => b.keys.length)).toEqual([1000, 1000, 498]);
    const keys = destination.sent.flatMap((b) => b.keys);
    expect(keys).toEqual([...keys].sort((a, b) => Number(a) - Number(b)));
    expect(destination.sent[0]!.emails[0]).toBe('person1@example.com');
    expect(keys).not.toContain('10');
    expect(rejections).toEqual([
      { source: 'everyone', key: '10', code: 'missing_email', reason: 'The e-mail field is empty.' },
      { source: 'everyone', key: '20', code: 'invalid_email', reason: 'The e-mail address is malformed.' },
    ]);
    expect(result).toMatchObject({ name: 'everyone', rows: 2500, sent: 2498, rejected: 2 });
    expect(progress.at(-1)).toMatchObject({ sent: 2498, rejected: 2, checkpoint: { sourceIndex: 0, phase: 'add', afterKey: '2500' } });
  });

  it('maps vendor rejections back to the records that were refused', async () => {
    const destination = testDestination({ rejectEmails: ['person1500@example.com', 'person7@example.com'] });
    const { value, rejections } = input(destination.kind);
    const [result] = await runRecordExport(value);
    expect(rejections.filter((r) => r.code === 'vendor_refused').map((r) => r.key)).toEqual(['7', '1500']);
    expect(result).toMatchObject({ sent: 2496, rejected: 4 });
  });

  it('retries a throttled batch and sends it once', async () => {
    const destination = testDestination({ failOnCall: new Map([[2, new RetryableError('rate_limited', 'slow down', { retryAfterMs: 5 })]]) });
    const { value } = input(destination.kind);
    await runRecordExport(value);
    expect(destination.calls()).toBe(4);
    expect(destination.sent.map((b) => b.keys.length)).toEqual([1000, 1000, 498]);
  });

  it("holds the whole account on a 429: the vendor's Retry-After pauses the connection's limiter key", async () => {
    const limiter = createMemoryRateLimiter();
    const pauses: Array<[string, number]> = [];
    const recording: RateLimiter = { ...limiter, pause: (key, ms) => (pauses.push([key, ms]), limiter.pause(key, ms)) };
    const destination = testDestination({
      failOnCall: new Map<number, Error>([
        [2, new RetryableError('rate_limited', 'slow down', { retryAfterMs: 40 })],
        // An outage is not a throttle: it backs off without holding other requests.
        [3, new RetryableError('upstream_unavailable', 'down')],
      ]),
    });
    const { value } = input(destination.kind, { ctx: createTestContext({ limiter: recording, limiterKey: 'connection:c1' }) });
    await runRecordExport(value);
    expect(pauses).toEqual([['connection:c1', 40]]);
    expect(destination.sent.map((b) => b.keys.length)).toEqual([1000, 1000, 498]);
  });

  it('stops at a failing batch with the checkpoint after the last completed one, and a resume sends only the rest', async () => {
    const destination = testDestination({ batchSize: 500, concurrency: 2, failOnCall: new Map([[3, new UpstreamError('upstream_rejected', 'the vendor said no')]]) });
    const { value, progress } = input(destination.kind);
    await expect(runRecordExport(value)).rejects.toThrow('the vendor said no');
    const checkpoint = progress.at(-1)!.checkpoint;
    // Batches 1 (keys 1-502, two of them refused unsent) and 2 (503-1002) completed; the third failed.
    expect(checkpoint).toEqual({ sourceIndex: 0, phase: 'add', afterKey: '1002' });
    const before = new Set(destination.sent.flatMap((b) => b.keys));

    const again = testDestination({ batchSize: 500 });
    const resumed = input(again.kind, { checkpoint });
    await runRecordExport(resumed.value);
    const resent = again.sent.flatMap((b) => b.keys);
    expect(Number(resent[0])).toBe(1003);
    const union = new Set([...before].filter((k) => Number(k) <= 1002).concat(resent));
    expect(union.size).toBe(2498);
  });

  it('in mirror mode removes members who left since the last successful run', async () => {
    const destination = testDestination();
    await runRecordExport(input(destination.kind, { syncMode: 'mirror' }).value);
    await store.refreshSegment('seg_all', 'Customer', { sql: 'profile_id > $1', params: [2400] });
    const second = testDestination();
    const [result] = await runRecordExport(input(second.kind, { syncMode: 'mirror', segments: [{ ...segment, members: 100 }] }).value);
    const removed = second.sent.filter((b) => b.action === 'remove').flatMap((b) => b.keys);
    expect(removed).toHaveLength(2398);
    expect(removed).not.toContain('10');
    // The 100 who stayed were delivered with these very values: nothing to send for them.
    expect(second.sent.filter((b) => b.action === 'add')).toEqual([]);
    expect(result).toMatchObject({ rows: 100, removed: 2398, sent: 0, unchanged: 100 });
    await store.refreshSegment('seg_all', 'Customer', { sql: 'true', params: [] });
  });
});

describe('delivered identity', () => {
  it('keeps the e-mail alone unless an identity field has a value, and reads both forms back', () => {
    const record = (fields: Record<string, unknown>) => ({ key: '1', fields: { email: 'a@example.com', ...fields }, extra: {} });
    expect(encodeIdentity(record({ userId: 'u-1' }))).toBe('a@example.com');
    expect(encodeIdentity(record({}), ['userId'])).toBe('a@example.com');
    expect(encodeIdentity(record({ userId: '' }), ['userId'])).toBe('a@example.com');
    const both = encodeIdentity(record({ userId: 42, plan: 'pro' }), ['userId']);
    expect(both).toBe('{"email":"a@example.com","userId":"42"}');
    expect(decodeIdentity(both)).toEqual({ email: 'a@example.com', userId: '42' });
    expect(decodeIdentity('a@example.com')).toEqual({ email: 'a@example.com' });
    expect(decodeIdentity('{"broken@example.com')).toEqual({ email: '{"broken@example.com' });
  });
});
