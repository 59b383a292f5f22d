import type { DestinationContext, ExportRecord, RecordExportDefinition, RecordSession } from '../destinations/kit/define.ts';
import { normalizeEmail } from '../destinations/kit/fields.ts';
import type { RunCheckpoint, RunRejection, SourceResult, SyncMode } from '../domain/model.ts';
import { createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../domain/errors.ts';
import type { JournalEntry, ProfileStore, Row, SnapshotSpec, Source } from '../store/profile/profile-store.ts';
import type { SleepFn } from '../lib/rate-limit.ts';
import { withRetry, type Recovery, type RetryHooks, type RetryPolicy } from './retry.ts';

export interface SegmentInput {
  name: string;
  source: Source & { kind: 'segment' };
  members: number;
  /**
   * Names the delivered state of this export and segment (`_delivered_<stateId>`); the state of one target
   * (list, audience) adds the target's id to it.
   */
  stateId: string;
}

export interface RecordProgress {
  checkpoint: RunCheckpoint;
  sent: number;
  rejected: number;
  removed: number;
  /** Members skipped because the destination already holds their values (mirror and upsert). */
  unchanged: number;
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
  /**
   * Names the run's snapshot and journal tables. A resumed run passes the key of the run it continues (with
   * `resume`), so it reads the same membership. Default: a key of its own, dropped when the run ends.
   */
  runKey?: string;
  /** Continue the snapshot of `runKey` instead of taking a new one. */
  resume?: boolean;
  /** Tables of this prefix (older snapshots and journals of the export) are dropped when the run succeeds. */
  cleanupPrefix?: string;
  /** Send every member, whatever the delivered state says, and rebuild the state. */
  fullResync?: boolean;
  /**
   * Plan only: nothing is sent (the destination is not even opened) and no state changes; results count what a
   * run would add, update, remove and reject, against the state of the last target a run used.
   */
  dryRun?: boolean;
  /** Called once the snapshots are taken, with the members of each segment as the run sees them. */
  onPlanned?: (members: number[]) => void | Promise<void>;
  /** Called after every completed batch, in order; persists rejections, counts and the checkpoint. */
  onBatch: (progress: RecordProgress, rejections: RunRejection[]) => Promise<void>;
  onRetry?: (message: string, delayMs: number) => void;
  /** A request went through after retries: the run says it waited, and for how long. */
  onRecovered?: (recovery: Recovery) => void;
  /** What retries wait on; unset: real time. */
  clock?: { now: () => number; sleep: SleepFn };
}

/** What the run knows about each record of a batch beyond the record itself. */
interface RecordMeta {
  hash: string | null;
  idhash: string | null;
  joined: boolean;
}

interface PendingBatch {
  action: 'add' | 'remove';
  records: ExportRecord[];
  meta: RecordMeta[];
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

/** The hashes that tell changed members apart: every mapped column, and the columns that identify the member. */
export function snapshotSpec(kind: RecordExportDefinition<any, any, any>, mapping: Record<string, string>): SnapshotSpec {
  const entries = Object.entries(mapping).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const identityTargets = ['email', ...(kind.identityFields ?? [])];
  return {
    columns: [...new Set(Object.values(mapping))],
    // A changed mapping changes what the destination should hold, so it changes every hash.
    salt: JSON.stringify(entries),
    hashColumns: entries.map(([, column]) => column),
    identityColumns: identityTargets.map((target) => mapping[target]).filter((c): c is string => c !== undefined),
  };
}

/** The delivered state of one export, segment and target. */
export function stateTable(stateId: string, targetId: string): string {
  return `_delivered_${stateId}_t_${createHash('sha256').update(targetId).digest('hex').slice(0, 16)}`;
}

/**
 * Streams each segment's members in key order, maps and validates them, cuts batches at the destination's
 * limits and sends them with `concurrency` in flight. The checkpoint only moves past a batch once it and
 * every batch before it have completed, so a resumed run re-sends at most the batches that were in flight.
 *
 * The run works on a snapshot of each segment taken when it starts (a resumed run continues it). In
 * `mirror` and `upsert` modes it sends only members who joined or whose mapped values changed since the
 * delivered state (per export, segment and target), and mirror first removes members who left and the old
 * identity of members whose e-mail (or userId) changed. What completed batches did is journaled and applied
 * to the delivered state only when every segment is done.
 */
export async function runRecordExport(input: RecordExportInput): Promise<SourceResult[]> {
  const { kind, profiles } = input;
  const sync = profiles.sync;
  const dry = input.dryRun === true;
  const runKey = input.runKey ?? `${dry ? 'dry' : 'run'}${randomBytes(6).toString('hex')}`;
  const snapshotOf = (index: number) => (dry ? `_dryrun_${runKey}_${index}` : `_snap_${runKey}_${index}`);
  const journalOf = (index: number) => `_journal_${runKey}_${index}`;
  const spec = snapshotSpec(kind, input.mapping);
  const syncing = input.syncMode !== 'full';
  const mirror = input.syncMode === 'mirror' && kind.supportsRemove;
  const start = input.checkpoint ?? { sourceIndex: 0, phase: 'remove' as const, afterKey: null };
  const results: SourceResult[] = input.segments.map((s) => ({ name: s.name, rows: s.members, sent: 0, rejected: 0, removed: 0 }));

  // The membership this run works on, fixed now: a refresh or a load while it runs (or before it resumes)
  // changes nothing about what it sends.
  const counts: number[] = [];
  for (const [index, segment] of input.segments.entries()) {
    if (input.resume && !dry) {
      if (!(await sync.hasTable(snapshotOf(index)))) {
        throw new ConfigError(
          'invalid_settings',
          `The membership snapshot this run continues is gone (a later run of the export succeeded, or the profile store was replaced). Run the export again instead of resuming.`,
        );
      }
      counts.push(await sync.countRows(snapshotOf(index)));
    } else {
      // The snapshot keeps values only for members the state of the last target does not hold as they are
      // now: the state a run most likely diffs against. Everyone's values are kept when every member is sent.
      let base: string | null = null;
      if (syncing && input.fullResync !== true) {
        const lastTarget = await sync.lastTarget(`_delivered_${segment.stateId}`);
        if (lastTarget !== null) base = stateTable(segment.stateId, lastTarget);
      }
      counts.push(await sync.createSnapshot(snapshotOf(index), segment.source, spec, base));
    }
  }
  counts.forEach((n, i) => (results[i]!.rows = n));
  await input.onPlanned?.(counts);

  const session: RecordSession<unknown, Record<string, unknown>> | null = dry ? null : await kind.open(input.connection, input.ctx);
  let sent = 0;
  let rejected = 0;
  let removed = 0;
  let unchanged = 0;
  const commits: Array<{ journal: string; state: string; statePrefix: string; target: string }> = [];

  try {
    for (let index = 0; index < input.segments.length; index++) {
      const segment = input.segments[index]!;
      const result = results[index]!;
      const statePrefix = `_delivered_${segment.stateId}`;
      const target = session ? await withRetry(() => session.prepare({ segment: segment.name, settings: input.settings, members: counts[index]! }), input.retry, retryHooks(input)) : null;
      const targetId = session ? (kind.targetId?.(target) ?? 'default') : await sync.lastTarget(statePrefix);
      const state = targetId === null ? null : stateTable(segment.stateId, targetId);
      if (syncing && state !== null && targetId !== null && !dry) commits.push({ journal: journalOf(index), state, statePrefix, target: targetId });
      // Segments a resumed run had finished only need their journal committed at the end.
      if (index < start.sourceIndex) continue;

      const resuming = index === start.sourceIndex ? start : null;
      const hasState = syncing && state !== null && (await sync.adoptState(state, statePrefix));
      if (syncing) {
        result.added = 0;
        result.updated = 0;
        // A run that reads every change from the start counts the unchanged members as it goes (below);
        // a resume counts them here.
        const counted = hasState && !input.fullResync && resuming?.phase === 'add' && resuming.afterKey !== null;
        result.unchanged = counted ? await sync.countUnchanged(snapshotOf(index), state!) : 0;
        unchanged += result.unchanged;
      }
      const journal = async (entries: JournalEntry[]) => {
        if (syncing && !dry) await sync.appendJournal(journalOf(index), entries);
      };

      const dispatcher = createDispatcher({
        concurrency: Math.max(1, kind.limits.concurrency ?? 1),
        send: async (batch) => {
          if (!session) return [];
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
          const refusedIndexes = new Set(refusedByVendor.map((r) => r.index));
          const acceptedAt = batch.records.map((_, i) => i).filter((i) => !refusedIndexes.has(i));
          if (batch.action === 'add') {
            sent += acceptedAt.length;
            result.sent! += acceptedAt.length;
            for (const i of acceptedAt) {
              if (batch.meta[i]!.joined) result.added = (result.added ?? 0) + 1;
              else result.updated = (result.updated ?? 0) + 1;
            }
            await journal(
              acceptedAt.map((i) => {
                const record = batch.records[i]!;
                return { key: record.key, op: 'delivered', identity: encodeIdentity(record, kind.identityFields), hash: batch.meta[i]!.hash, idhash: batch.meta[i]!.idhash };
              }),
            );
          } else {
            removed += acceptedAt.length;
            result.removed! += acceptedAt.length;
            await journal(acceptedAt.map((i) => ({ key: batch.records[i]!.key, op: 'removed', identity: null, hash: null, idhash: null })));
          }
          const rejections = [...batch.refused, ...vendorRejections];
          rejected += rejections.length;
          result.rejected! += rejections.length;
          await input.onBatch(
            { checkpoint: { sourceIndex: index, phase: batch.action, afterKey: batch.lastKey }, sent, rejected, removed, unchanged },
            rejections,
          );
        },
      });
      const newBatch = (action: PendingBatch['action'], lastKey: string | null): PendingBatch => ({ action, records: [], meta: [], refused: [], lastKey });

      if (mirror && hasState && !(resuming?.phase === 'add')) {
        const afterKey = resuming?.phase === 'remove' ? resuming.afterKey : null;
        let batch = newBatch('remove', null);
        for await (const chunk of sync.readRemovals(snapshotOf(index), state!, spec, afterKey)) {
          for (const candidate of chunk) {
            if (candidate.row !== null) {
              // Still a member, but the columns that identify it changed: the destination holds the old
              // identity (an old address), which must go unless the member maps to that same identity.
              const mapped = toExportRecord(candidate.row, kind, input.mapping, segment.name);
              if ('record' in mapped && encodeIdentity(mapped.record, kind.identityFields) === candidate.identity) continue;
            }
            batch.records.push({ key: candidate.key, fields: decodeIdentity(candidate.identity), extra: {} });
            batch.meta.push({ hash: null, idhash: null, joined: false });
            batch.lastKey = candidate.key;
            if (batch.records.length >= kind.limits.batchSize) {
              await dispatcher.push(batch);
              batch = newBatch('remove', null);
            }
          }
        }
        if (batch.records.length > 0) await dispatcher.push(batch);
        await dispatcher.drain();
      }

      const keyType = (await profiles.getEntity(segment.source.entity)).keyType;
      const afterKey = resuming?.phase === 'add' ? resuming.afterKey : null;
      const all = !syncing || input.fullResync === true || !hasState;
      let batch = newBatch('add', afterKey);
      let batchBytes = 0;
      let changedRows = 0;
      for await (const rows of sync.readChanges(snapshotOf(index), hasState ? state : null, spec, { afterKey, all, keyType })) {
        changedRows += rows.length;
        for (const row of rows) {
          const mapped = toExportRecord(row, kind, input.mapping, segment.name);
          if ('rejection' in mapped) {
            batch.refused.push(mapped.rejection);
          } else {
            const bytes = approximateBytes(mapped.record);
            if (kind.limits.maxBatchBytes && batch.records.length > 0 && batchBytes + bytes > kind.limits.maxBatchBytes) {
              await dispatcher.push(batch);
              batch = newBatch('add', batch.lastKey);
              batchBytes = 0;
            }
            batch.records.push(mapped.record);
            batch.meta.push({ hash: row.__hash, idhash: row.__idhash, joined: row.__joined === true });
            batchBytes += bytes;
          }
          batch.lastKey = row.__key;
          if (batch.records.length >= kind.limits.batchSize) {
            await dispatcher.push(batch);
            batch = newBatch('add', batch.lastKey);
            batchBytes = 0;
          }
        }
      }
      if (batch.records.length > 0 || batch.refused.length > 0) await dispatcher.push(batch);
      await dispatcher.drain();
      if (syncing && hasState && !input.fullResync && !(resuming?.phase === 'add' && resuming.afterKey !== null)) {
        result.unchanged = counts[index]! - changedRows;
        unchanged += result.unchanged;
      }
    }
    if (!dry) {
      // Every segment is done: only now does the delivered state learn what this run (and the runs it
      // continues) delivered and removed, in one transaction.
      if (commits.length > 0) await sync.commit(commits);
      await sync.dropTables(`_snap_${input.cleanupPrefix ?? runKey}`);
      await sync.dropTables(`_journal_${input.cleanupPrefix ?? runKey}`);
    }
  } finally {
    if (dry) await sync.dropTables(`_dryrun_${runKey}_`);
    await session?.close?.();
  }
  return results;
}

function retryHooks(input: RecordExportInput): RetryHooks {
  return {
    signal: input.ctx.signal,
    ...(input.clock ? { now: input.clock.now, sleep: input.clock.sleep } : {}),
    onRecovered: input.onRecovered,
    // A 429 holds the whole account, in every worker sharing the limiter. A limiter that cannot share it (Redis
    // down) must not fail the batch: this request still waits its own delay.
    onThrottled: (waitMs) =>
      input.ctx.limiter.pause(input.ctx.limiterKey, waitMs).catch((error: unknown) => {
        input.ctx.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not share a throttle with the other workers');
      }),
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
