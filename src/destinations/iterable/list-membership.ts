import { z } from 'zod';
import { ConfigError } from '../../domain/errors.ts';
import { defineRecordExport, type ExportRecord, type Rejection } from '../kit/define.ts';
import { createIterableClient, type BulkListResponse, type FailedUpdates, type IterableList, type Subscriber } from './client.ts';
import { rateOf, type IterableConnection } from './connection.ts';

/**
 * Iterable caps request bodies at about 4 MB (stated for the bulk user endpoint; no record count is
 * documented for list subscribe). send() cuts a batch into several requests of at most this many bytes, so
 * a batch of 1,000 users with large dataFields still goes through; the engine needs no byte limit from us.
 */
export const MAX_REQUEST_BYTES = 3_500_000;

export const BATCH_SIZE = 1000;

export const settingsSchema = z.object({
  updateExistingUsersOnly: z
    .boolean()
    .default(false)
    .describe('Skip members Iterable does not know instead of creating them (honoured by userId-based and hybrid projects only).'),
});

export type IterableSettings = z.infer<typeof settingsSchema>;

/** The static list a segment's members go into. */
export interface ListTarget {
  listId: number;
  listName: string;
}

const IDENTITY_FIELDS = new Set(['email', 'userId']);

/** One line per UserBulkUpdateListResponse array; the first array naming an identifier gives the reason. */
const REASONS: Array<{ array: keyof FailedUpdates | 'invalidEmails' | 'invalidUserIds'; failed: boolean; by: 'email' | 'userId'; code: string; message: string }> = [
  { array: 'forgottenEmails', failed: true, by: 'email', code: 'user_forgotten', message: 'Iterable has forgotten this user (privacy request); it cannot be added again until it is unforgotten in Iterable.' },
  { array: 'forgottenUserIds', failed: true, by: 'userId', code: 'user_forgotten', message: 'Iterable has forgotten this user (privacy request); it cannot be added again until it is unforgotten in Iterable.' },
  { array: 'conflictEmails', failed: true, by: 'email', code: 'identity_conflict', message: "The record's e-mail and userId belong to different Iterable users. Fix the userId mapping or merge the users in Iterable." },
  { array: 'conflictUserIds', failed: true, by: 'userId', code: 'identity_conflict', message: "The record's e-mail and userId belong to different Iterable users. Fix the userId mapping or merge the users in Iterable." },
  { array: 'invalidDataEmails', failed: true, by: 'email', code: 'invalid_data_field', message: "A data field's value does not have the type Iterable fixed for that field in this project. Change the mapping or the column's type." },
  { array: 'invalidDataUserIds', failed: true, by: 'userId', code: 'invalid_data_field', message: "A data field's value does not have the type Iterable fixed for that field in this project. Change the mapping or the column's type." },
  { array: 'notFoundEmails', failed: true, by: 'email', code: 'user_not_found', message: 'Iterable has no such user and updateExistingUsersOnly is on, so it was not created.' },
  { array: 'notFoundUserIds', failed: true, by: 'userId', code: 'user_not_found', message: 'Iterable has no such user and updateExistingUsersOnly is on, so it was not created.' },
  { array: 'invalidEmails', failed: true, by: 'email', code: 'invalid_email', message: 'Iterable refused the e-mail address as invalid.' },
  { array: 'invalidUserIds', failed: true, by: 'userId', code: 'invalid_user_id', message: 'Iterable refused the userId as invalid.' },
  { array: 'invalidEmails', failed: false, by: 'email', code: 'invalid_email', message: 'Iterable refused the e-mail address as invalid.' },
  { array: 'invalidUserIds', failed: false, by: 'userId', code: 'invalid_user_id', message: 'Iterable refused the userId as invalid.' },
];

export const listMembership = defineRecordExport<IterableConnection, typeof settingsSchema, ListTarget>({
  kind: 'records',
  title: 'Static list named after the segment',
  settings: settingsSchema,
  fields: {
    email: { title: 'E-mail', type: 'email', required: true, description: 'Identifies the Iterable user.' },
    userId: { title: 'User ID', type: 'string', description: 'Sent with the e-mail; for userId-based and hybrid projects.' },
  },
  extraFields: {
    description:
      "Every other mapped target is written to the user's dataFields under the target's name. Iterable fixes a field's type project-wide on first use.",
  },
  // Three in flight: a 1,000-member subscribe can take longer than the gap the pacing leaves between
  // requests, and the limiter, not the latency, should set the pace. Re-sending a subscribe is harmless.
  limits: { batchSize: BATCH_SIZE, concurrency: 3 },
  supportsRemove: true,
  rate: rateOf,
  connectionLimits: (conn) => (conn.maxProfiles === undefined ? {} : { maxProfiles: conn.maxProfiles }),
  targets: ({ segments }) => segments.map((segment) => `list "${segment}"`),

  async open(conn, ctx) {
    const client = createIterableClient(conn, ctx);
    const targets = new Map<string, ListTarget>();

    return {
      async prepare({ segment }) {
        const known = targets.get(segment);
        if (known) return known;
        const target = await findOrCreateList(segment);
        targets.set(segment, target);
        return target;
      },

      async send(batch) {
        const rejected: Rejection[] = [];
        const entries: Entry[] = [];
        batch.records.forEach((record, index) => {
          const subscriber = batch.action === 'add' ? toSubscriber(record) : toUnsubscriber(record);
          if (subscriber.email === undefined) {
            rejected.push({ index, code: 'missing_email', message: 'The record has no e-mail address.' });
          } else {
            entries.push({ index, subscriber });
          }
        });

        const { listId } = batch.target;
        const envelope =
          batch.action === 'add'
            ? { listId, subscribers: [], updateExistingUsersOnly: batch.settings.updateExistingUsersOnly }
            : { listId, subscribers: [], channelUnsubscribe: false as const };
        const { chunks, oversized } = splitByBytes(entries, Buffer.byteLength(JSON.stringify(envelope)));
        for (const entry of oversized) {
          rejected.push({
            index: entry.index,
            code: 'record_too_large',
            message: `The record's data fields alone exceed the ${MAX_REQUEST_BYTES}-byte request size Outflow keeps under Iterable's 4 MB limit.`,
          });
        }

        // Chunks go one after another; if a later one throws, the engine retries the whole batch, which is
        // safe because subscribing or unsubscribing a user twice has the same effect as once.
        for (const chunk of chunks) {
          const subscribers = chunk.map((entry) => entry.subscriber);
          const response =
            batch.action === 'add'
              ? await client.subscribe({ listId, subscribers, updateExistingUsersOnly: batch.settings.updateExistingUsersOnly })
              : await client.unsubscribe({ listId, subscribers, channelUnsubscribe: false });
          const { rejections, ignored } = rejectionsFrom(response, chunk, batch.action);
          rejected.push(...rejections);
          if (response.failCount > rejections.length + ignored) {
            ctx.log.warn(
              { listId, action: batch.action, failCount: response.failCount, identified: rejections.length + ignored },
              'Iterable counted failures it did not name; those records are reported as accepted',
            );
          }
        }
        return { rejected: rejected.sort((a, b) => a.index - b.index) };
      },
    };

    async function findOrCreateList(segment: string): Promise<ListTarget> {
      const named = (await client.getLists()).filter((list) => list.name === segment);
      const usable = named.filter(isStatic).sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.id - b.id);
      const [oldest] = usable;
      if (oldest) {
        if (usable.length > 1) {
          ctx.log.warn({ segment, lists: usable.length, listId: oldest.id }, 'several Iterable lists carry the segment name; using the oldest');
        }
        return { listId: oldest.id, listName: oldest.name };
      }
      const [other] = named;
      if (other) {
        throw new ConfigError(
          'invalid_settings',
          `Iterable already has a ${other.listType ?? 'non-static'} list named "${segment}" (id ${other.id}) in the project of ` +
            `connection \`${ctx.connectionName}\`; Outflow can only fill static lists. Rename or delete that list in Iterable, or rename the segment.`,
        );
      }
      const listId = await client.createList(segment, `Members of the Outflow segment "${segment}". Managed by Outflow: edits are overwritten.`);
      ctx.log.info({ segment, listId }, 'created Iterable list');
      return { listId, listName: segment };
    }
  },
});

interface Entry {
  index: number;
  subscriber: Subscriber;
}

function isStatic(list: IterableList): boolean {
  return list.listType === undefined || list.listType === 'Standard';
}

function toSubscriber(record: ExportRecord): Subscriber {
  const { email, userId } = record.fields;
  const dataFields: Record<string, unknown> = {};
  for (const source of [record.fields, record.extra]) {
    for (const [key, value] of Object.entries(source)) {
      // A missing value must not wipe what other sources wrote to the profile.
      if (!IDENTITY_FIELDS.has(key) && value !== null && value !== undefined) dataFields[key] = value;
    }
  }
  const subscriber: Subscriber = { email: typeof email === 'string' && email !== '' ? email : undefined };
  // Sending both identifiers lets hybrid and userId-based projects match by userId; a pair that points at two
  // profiles comes back in conflictEmails and becomes a per-record rejection.
  if (userId !== undefined && userId !== null && userId !== '') subscriber.userId = String(userId);
  if (Object.keys(dataFields).length > 0) subscriber.dataFields = dataFields;
  return subscriber;
}

function toUnsubscriber(record: ExportRecord): Subscriber {
  const { email } = record.fields;
  return { email: typeof email === 'string' && email !== '' ? email : undefined };
}

/** Greedy cut into request bodies of at most MAX_REQUEST_BYTES, measured exactly as JSON.stringify writes them. */
function splitByBytes(entries: Entry[], envelopeBytes: number): { chunks: Entry[][]; oversized: Entry[] } {
  const chunks: Entry[][] = [];
  const oversized: Entry[] = [];
  let current: Entry[] = [];
  let bytes = envelopeBytes;
  for (const entry of entries) {
    const size = Buffer.byteLength(JSON.stringify(entry.subscriber));
    if (envelopeBytes + size > MAX_REQUEST_BYTES) {
      oversized.push(entry);
      continue;
    }
    const added = size + (current.length > 0 ? 1 : 0);
    if (bytes + added > MAX_REQUEST_BYTES) {
      chunks.push(current);
      current = [];
      bytes = envelopeBytes;
    }
    bytes += size + (current.length > 0 ? 1 : 0);
    current.push(entry);
  }
  if (current.length > 0) chunks.push(current);
  return { chunks, oversized };
}

/**
 * The response has no per-position status: each array names identifiers, and everything not named
 * succeeded. An identifier can appear twice in a batch, so each maps to every position that carried it.
 */
function rejectionsFrom(
  response: BulkListResponse,
  chunk: Entry[],
  action: 'add' | 'remove',
): { rejections: Rejection[]; ignored: number } {
  const byEmail = new Map<string, number[]>();
  const byUserId = new Map<string, number[]>();
  for (const { index, subscriber } of chunk) {
    if (subscriber.email !== undefined) push(byEmail, subscriber.email.toLowerCase(), index);
    if (subscriber.userId !== undefined) push(byUserId, subscriber.userId, index);
  }
  const found = new Map<number, Rejection>();
  const ignored = new Set<number>();
  for (const reason of REASONS) {
    const source = reason.failed ? response.failedUpdates : response;
    const named = (source as Record<string, unknown> | undefined)?.[reason.array];
    if (!Array.isArray(named)) continue;
    for (const identifier of named) {
      if (typeof identifier !== 'string') continue;
      const positions = reason.by === 'email' ? byEmail.get(identifier.toLowerCase()) : byUserId.get(identifier);
      for (const index of positions ?? []) {
        // Removing a user who is not on the list (or not in Iterable at all) leaves it where mirror sync wants it.
        if (action === 'remove' && reason.code === 'user_not_found') ignored.add(index);
        else if (!found.has(index)) found.set(index, { index, code: reason.code, message: reason.message });
      }
    }
  }
  return { rejections: [...found.values()], ignored: [...ignored].filter((index) => !found.has(index)).length };
}

function push(map: Map<string, number[]>, key: string, index: number): void {
  const positions = map.get(key);
  if (positions) positions.push(index);
  else map.set(key, [index]);
}
