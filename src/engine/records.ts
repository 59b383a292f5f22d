import type { DestinationContext, ExportRecord, RecordExportDefinition, RecordSession } from '../destinations/kit/define.ts';
import { normalizeEmail } from '../destinations/kit/fields.ts';
import type { RunCheckpoint, RunRejection, SourceResult, SyncMode } from '../domain/model.ts';
import type { ProfileStore, Row, Source } from '../store/profile/profile-store.ts';
import type { SleepFn } from '../lib/rate-limit.ts';
import { withRetry, type Recovery, type RetryHooks, type RetryPolicy } from './retry.ts';

export interface SegmentInput {
  name: string;
  source: Source & { kind: 'segment' };
  members: number;
  /** Names the delivered set of this export and segment (mirror sync). */
  stateId: string;
}

export interface RecordProgress {
  checkpoint: RunCheckpoint;
  sent: number;
  rejected: number;
  removed: number;
}

export interface RecordExportInput {
  kind: RecordExportDefinition<any, any, any>;
  connection: Record<string, unknown>;
  ctx: DestinationContext;
  profiles: ProfileStore;
  segments: SegmentInput[];
  mapping: Record<string, string>;
  settings: Record<string, unknown>;
  syncMode: SyncMode;
  /** Where a resumed run picks up. */
  checkpoint: RunCheckpoint | null;
  retry: RetryPolicy;
  /** Called after every completed batch, in order; persists rejections, counts and the checkpoint. */
  onBatch: (progress: RecordProgress, rejections: RunRejection[]) => Promise<void>;
  onRetry?: (message: string, delayMs: number) => void;
  /** A request went through after retries: the run says it waited, and for how long. */
  onRecovered?: (recovery: Recovery) => void;
  /** What retries wait on; unset: real time. */
  clock?: { now: () => number; sleep: SleepFn };
}

interface PendingBatch {
  action: 'add' | 'remove';
  records: ExportRecord[];
  /** Rows refused before sending (no or malformed e-mail), reported when the batch completes. */
  refused: RunRejection[];
  /** The last key this batch covers, refused rows included: the checkpoint once it completes. */
  lastKey: string | null;
}

/** Maps a profile row onto the destination's fields; `null` with a rejection when the row cannot be sent. */
export function toExportRecord(
  row: Row,
  kind: RecordExportDefinition<any, any, any>,
  mapping: Record<string, string>,
  segment: string,
): { record: ExportRecord } | { rejection: RunRejection } {
  const key = String(row.__key);
  const fields: ExportRecord['fields'] = {};
  const extra: Record<string, unknown> = {};
  for (const [target, column] of Object.entries(mapping)) {
    const value = row[column] ?? null;
    const spec = kind.fields[target];
    if (!spec) {
      if (value !== null) extra[target] = value;
      continue;
    }
    if (spec.type === 'email') {
      const email = normalizeEmail(value, { acceptsSha256: spec.acceptsSha256 });
      if (!email.ok) return { rejection: { source: segment, key, code: email.code, reason: email.message } };
      fields[target] = email.email;
    } else if (value !== null) {
      fields[target] = value;
    }
  }
  return { record: { key, fields, extra } };
}

/**
 * What the delivered set keeps of a member for a later removal: the e-mail alone (the format every delivered
 * set had before identity fields existed), or a JSON object when the destination's other identity fields
 * have values. An e-mail address never starts with `{"`.
 */
export function encodeIdentity(record: ExportRecord, identityFields: string[] = []): string {
  const identity: Record<string, string> = {};
  for (const field of identityFields) {
    const value = record.fields[field];
    if (value !== undefined && value !== null && value !== '') identity[field] = String(value);
  }
  if (Object.keys(identity).length === 0) return String(record.fields.email);
  return JSON.stringify({ email: record.fields.email, ...identity });
}

/** The fields of a removal record, from what {@link encodeIdentity} stored. */
export function decodeIdentity(identity: string): ExportRecord['fields'] {
  if (identity.startsWith('{"')) {
    try {
      const parsed: unknown = JSON.parse(identity);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as ExportRecord['fields'];
    } catch {
      // not ours: an e-mail that happens to start with {" (not a valid address anyway)
    }
  }
  return { email: identity };
}

function approximateBytes(record: ExportRecord): number {
  return JSON.stringify(record.fields).length + JSON.stringify(record.extra).length + 16;
}

/**
 * Streams each segment's members in key order, maps and validates them, cuts batches at the destination's
 * limits and sends them with `concurrency` in flight. The checkpoint only moves past a batch once it and
 * every batch before it have completed, so a resumed run re-sends at most the batches that were in flight.
 */
export async function runRecordExport(input: RecordExportInput): Promise<SourceResult[]> {
  const { kind, profiles } = input;
  const session: RecordSession<unknown, Record<string, unknown>> = await kind.open(input.connection, input.ctx);
  const results: SourceResult[] = input.segments.map((s) => ({ name: s.name, rows: s.members, sent: 0, rejected: 0, removed: 0 }));
  const start = input.checkpoint ?? { sourceIndex: 0, phase: 'remove' as const, afterKey: null };
  let sent = 0;
  let rejected = 0;
  let removed = 0;

  try {
    for (let index = start.sourceIndex; index < input.segments.length; index++) {
      const segment = input.segments[index]!;
      const result = results[index]!;
      const resuming = index === start.sourceIndex ? start : null;
      const target = await withRetry(() => session.prepare({ segment: segment.name, settings: input.settings, members: segment.members }), input.retry, retryHooks(input));

      const mirror = input.syncMode === 'mirror' && kind.supportsRemove;
      const delivered = mirror ? await profiles.beginDelivered(segment.stateId, { fresh: !(resuming && (resuming.phase === 'add' && resuming.afterKey !== null)) }) : null;

      const dispatcher = createDispatcher({
        concurrency: Math.max(1, kind.limits.concurrency ?? 1),
        send: async (batch) => {
          const outcome = await withRetry(
            () => session.send({ action: batch.action, records: batch.records, target, segment: segment.name, settings: input.settings }),
            input.retry,
            retryHooks(input),
          );
          return outcome.rejected;
        },
        complete: async (batch, refusedByVendor) => {
          const vendorRejections: RunRejection[] = refusedByVendor.map((r) => ({
            source: segment.name,
            key: batch.records[r.index]?.key ?? `#${r.index}`,
            code: r.code,
            reason: r.message,
          }));
          const accepted = batch.records.length - new Set(refusedByVendor.map((r) => r.index)).size;
          if (batch.action === 'add') {
            sent += accepted;
            result.sent! += accepted;
            if (delivered) {
              const refusedIndexes = new Set(refusedByVendor.map((r) => r.index));
              await delivered.add(
                batch.records.filter((_, i) => !refusedIndexes.has(i)).map((r) => ({ key: r.key, identity: encodeIdentity(r, kind.identityFields) })),
              );
            }
          } else {
            removed += accepted;
            result.removed! += accepted;
          }
          const rejections = [...batch.refused, ...vendorRejections];
          rejected += rejections.length;
          result.rejected! += rejections.length;
          await input.onBatch(
            { checkpoint: { sourceIndex: index, phase: batch.action, afterKey: batch.lastKey }, sent, rejected, removed },
            rejections,
          );
        },
      });

      if (mirror && !(resuming?.phase === 'add')) {
        const skipThrough = resuming?.phase === 'remove' ? resuming.afterKey : null;
        let batch: PendingBatch = { action: 'remove', records: [], refused: [], lastKey: null };
        for await (const chunk of profiles.readDeparted(segment.stateId, segment.source)) {
          for (const departed of chunk) {
            if (skipThrough !== null && departed.key <= skipThrough) continue;
            batch.records.push({ key: departed.key, fields: decodeIdentity(departed.identity), extra: {} });
            batch.lastKey = departed.key;
            if (batch.records.length >= kind.limits.batchSize) {
              await dispatcher.push(batch);
              batch = { action: 'remove', records: [], refused: [], lastKey: null };
            }
          }
        }
        if (batch.records.length > 0) await dispatcher.push(batch);
        await dispatcher.drain();
      }

      const columns = [...new Set(Object.values(input.mapping))];
      const afterKey = resuming?.phase === 'add' ? resuming.afterKey : null;
      let batch: PendingBatch = { action: 'add', records: [], refused: [], lastKey: afterKey };
      let batchBytes = 0;
      for await (const rows of profiles.readMembers(segment.source, columns, afterKey)) {
        for (const row of rows) {
          const mapped = toExportRecord(row, kind, input.mapping, segment.name);
          if ('rejection' in mapped) {
            batch.refused.push(mapped.rejection);
          } else {
            const bytes = approximateBytes(mapped.record);
            if (kind.limits.maxBatchBytes && batch.records.length > 0 && batchBytes + bytes > kind.limits.maxBatchBytes) {
              await dispatcher.push(batch);
              batch = { action: 'add', records: [], refused: [], lastKey: batch.lastKey };
              batchBytes = 0;
            }
            batch.records.push(mapped.record);
            batchBytes += bytes;
          }
          batch.lastKey = String(row.__key);
          if (batch.records.length >= kind.limits.batchSize) {
            await dispatcher.push(batch);
            batch = { action: 'add', records: [], refused: [], lastKey: batch.lastKey };
            batchBytes = 0;
          }
        }
      }
      if (batch.records.length > 0 || batch.refused.length > 0) await dispatcher.push(batch);
      await dispatcher.drain();
      await delivered?.commit();
    }
  } finally {
    await session.close?.();
  }
  return results;
}

function retryHooks(input: RecordExportInput): RetryHooks {
  return {
    signal: input.ctx.signal,
    ...(input.clock ? { now: input.clock.now, sleep: input.clock.sleep } : {}),
    onRecovered: input.onRecovered,
    onRetry: (error: Error, attempt: number, delayMs: number) => {
      input.ctx.log.warn({ attempt, delayMs, code: (error as { code?: string }).code }, error.message);
      input.onRetry?.(error.message, delayMs);
    },
  };
}

interface Dispatcher {
  /** Queues a batch; waits while `concurrency` batches are in flight. Throws the first failure. */
  push(batch: PendingBatch): Promise<void>;
  /** Waits for every batch in flight; throws the first failure. */
  drain(): Promise<void>;
}

/**
 * Sends batches with bounded concurrency and completes them strictly in order, so progress, rejections
 * and checkpoints are recorded as if batches had been sent one by one.
 */
function createDispatcher(options: {
  concurrency: number;
  send: (batch: PendingBatch) => Promise<Array<{ index: number; code: string; message: string }>>;
  complete: (batch: PendingBatch, rejected: Array<{ index: number; code: string; message: string }>) => Promise<void>;
}): Dispatcher {
  const inFlight: Array<{ batch: PendingBatch; outcome: Promise<Array<{ index: number; code: string; message: string }>> }> = [];
  let failure: unknown = null;

  async function completeOldest(): Promise<void> {
    const oldest = inFlight.shift()!;
    try {
      const rejected = oldest.batch.records.length > 0 ? await oldest.outcome : [];
      if (failure === null) await options.complete(oldest.batch, rejected);
    } catch (error) {
      failure ??= error;
    }
  }

  async function settleAll(): Promise<void> {
    while (inFlight.length > 0) await completeOldest();
    if (failure !== null) throw failure;
  }

  return {
    async push(batch) {
      if (failure !== null) throw failure;
      const outcome = batch.records.length > 0 ? options.send(batch) : Promise.resolve([]);
      outcome.catch(() => {}); // observed in completeOldest; avoid an unhandled rejection meanwhile
      inFlight.push({ batch, outcome });
      while (inFlight.length >= options.concurrency) {
        await completeOldest();
        if (failure !== null) {
          await settleAll().catch(() => {});
          throw failure;
        }
      }
    },
    drain: settleAll,
  };
}
