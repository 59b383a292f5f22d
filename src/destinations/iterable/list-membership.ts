import { z } from 'zod';
import { ConfigError, ValidationError } from '../../domain/errors.ts';
import { defineRecordExport, type ExportRecord, type Rejection } from '../kit/define.ts';
import { createIterableClient, type BulkListResponse, type FailedUpdates, type IterableList, type Subscriber } from './client.ts';
import { rateOf, type IterableConnection, type ProjectType } from './connection.ts';

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
    email: {
      title: 'E-mail',
      type: 'email',
      required: true,
      description: 'Identifies the user in e-mail-based projects, and in hybrid projects for members without a userId; otherwise written to the profile.',
    },
    userId: {
      title: 'User ID',
      type: 'string',
      description: 'Identifies the user in userId-based projects (required there) and in hybrid projects; in e-mail-based projects it is written to the profile.',
    },
  },
  // A removal must name the user by the identifier it was added with (userId in userId-based and hybrid projects).
  identityFields: ['userId'],
  extraFields: {
    description:
      "Every other mapped target is written to the user's dataFields under the target's name. Iterable fixes a field's type project-wide on first use.",
  },
  // Three in flight: a 1,000-member subscribe can take longer than the gap the pacing leaves between
  // requests, and the limiter, not the latency, should set the pace. Re-sending a subscribe is harmless.
  limits: { batchSize: BATCH_SIZE, concurrency: 3 },
  supportsRemove: true,
  targetId: (target) => String(target.listId),
  rate: rateOf,

  async validate({ connection, mapping }) {
    if (connection.projectType === 'userId' && mapping !== undefined && !mapping.userId) {
      throw new ValidationError(
        'The Iterable project of this connection identifies users by userId (projectType "userId"), so the export must map it: ' +
          'add "userId": "<column>" to "mapping". If the project identifies users by e-mail, set the connection\'s projectType to "email" or "hybrid".',
        [{ path: 'mapping.userId', message: 'required when the connection\'s projectType is "userId"' }],
      );
    }
  },

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
          const identified = toSubscriber(record, conn.projectType, batch.action);
          if (identified.ok) entries.push({ index, subscriber: identified.subscriber });
          else rejected.push({ index, code: identified.code, message: identified.message });
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
          const rejections = rejectionsFrom(response, chunk, batch.action);
          rejected.push(...rejections);
          if (response.failCount > rejections.length) {
            ctx.log.warn(
              { listId, action: batch.action, failCount: response.failCount, identified: rejections.length },
              batch.action === 'add'
                ? 'Iterable counted failures it did not name; those records are reported as accepted'
                : 'Iterable counted failed removals it did not name; the other removals of the request are reported as unconfirmed',
            );
            // A removal Iterable may not have applied must not count as done: mirror sync would never retry it.
            if (batch.action === 'remove') rejected.push(...unconfirmedRemovals(chunk, rejections));
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

type Identified = { ok: true; subscriber: Subscriber } | { ok: false; code: string; message: string };

/**
 * Builds the subscriber with exactly one identifier, as Iterable's OptionalApiUser asks ("email or userId,
 * depending on how the project identifies users"): e-mail-based projects by e-mail, userId-based projects by
 * userId, hybrid projects by userId when the member has one (it survives an address change) and by e-mail
 * otherwise. The other identifier, when mapped, is written to the profile through dataFields: Iterable
 * documents `dataFields.userId` for setting a userId in an e-mail-based project (support article "Updating a
 * User's Email Address or User ID", for users/update, whose user object subscribe shares); `dataFields.email`
 * in the other project types is our reading by symmetry. Sending both at the top level instead makes an
 * e-mail-based project match by e-mail and overwrite the userId ("Creating and Identifying Users with Iterable
 * APIs"). A removal names the user by the identifier it was added with, and nothing else.
 */
function toSubscriber(record: ExportRecord, projectType: ProjectType, action: 'add' | 'remove'): Identified {
  const email = typeof record.fields.email === 'string' && record.fields.email !== '' ? record.fields.email : undefined;
  const rawUserId = record.fields.userId;
  const userId = rawUserId === undefined || rawUserId === null || String(rawUserId).trim() === '' ? undefined : String(rawUserId);
  const by = projectType === 'email' ? 'email' : projectType === 'userId' || userId !== undefined ? 'userId' : 'email';

  if (by === 'userId' && userId === undefined) {
    return {
      ok: false,
      code: 'missing_user_id',
      message:
        action === 'add'
          ? 'The Iterable project identifies users by userId (projectType "userId") and the record has none, so it was not sent.'
          : 'The Iterable project identifies users by userId, but Outflow has no userId for this former member (it was added without one, or before ' +
            'Outflow kept userIds), so Iterable cannot be told whom to remove. Remove the user from the list in Iterable.',
    };
  }
  if (by === 'email' && email === undefined) return { ok: false, code: 'missing_email', message: 'The record has no e-mail address.' };
  if (action === 'remove') return { ok: true, subscriber: by === 'email' ? { email } : { userId } };

  const dataFields: Record<string, unknown> = {};
  for (const source of [record.fields, record.extra]) {
    for (const [key, value] of Object.entries(source)) {
      // A missing value must not wipe what other sources wrote to the profile.
      if (!IDENTITY_FIELDS.has(key) && value !== null && value !== undefined) dataFields[key] = value;
    }
  }
  if (by === 'email' && userId !== undefined) dataFields.userId = userId;
  if (by === 'userId' && email !== undefined) dataFields.email = email;
  const subscriber: Subscriber = by === 'email' ? { email } : { userId };
  if (Object.keys(dataFields).length > 0) subscriber.dataFields = dataFields;
  return { ok: true, subscriber };
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

/** Why a removal Iterable answered with notFound* was not applied, by the identifier it was named by. */
const REMOVAL_NOT_FOUND: Record<'email' | 'userId', string> = {
  email:
    'Iterable found no user with this e-mail address, so it was not removed from the list. If the project identifies users by userId, ' +
    'set the connection\'s projectType to "userId" or "hybrid" and map userId; otherwise remove the user from the list in Iterable.',
  userId: 'Iterable found no user with this userId, so it was not removed from the list. Check the user in Iterable and remove it from the list there.',
};

/**
 * The response has no per-position status: each array names identifiers, and everything not named
 * succeeded. An identifier can appear twice in a batch, so each maps to every position that carried it.
 * A removal Iterable names in any array was not applied, "not found" included: it becomes a rejection.
 */
function rejectionsFrom(response: BulkListResponse, chunk: Entry[], action: 'add' | 'remove'): Rejection[] {
  const byEmail = new Map<string, number[]>();
  const byUserId = new Map<string, number[]>();
  for (const { index, subscriber } of chunk) {
    if (subscriber.email !== undefined) push(byEmail, subscriber.email.toLowerCase(), index);
    if (subscriber.userId !== undefined) push(byUserId, subscriber.userId, index);
  }
  const found = new Map<number, Rejection>();
  for (const reason of REASONS) {
    const source = reason.failed ? response.failedUpdates : response;
    const named = (source as Record<string, unknown> | undefined)?.[reason.array];
    if (!Array.isArray(named)) continue;
    for (const identifier of named) {
      if (typeof identifier !== 'string') continue;
      const positions = reason.by === 'email' ? byEmail.get(identifier.toLowerCase()) : byUserId.get(identifier);
      for (const index of positions ?? []) {
        if (found.has(index)) continue;
        const message = action === 'remove' && reason.code === 'user_not_found' ? REMOVAL_NOT_FOUND[reason.by] : reason.message;
        found.set(index, { index, code: reason.code, message });
      }
    }
  }
  return [...found.values()];
}

/** Iterable counted more failed removals than it named: none of the unnamed ones can be taken as applied. */
function unconfirmedRemovals(chunk: Entry[], named: Rejection[]): Rejection[] {
  const rejected = new Set(named.map((r) => r.index));
  return chunk
    .filter((entry) => !rejected.has(entry.index))
    .map((entry) => ({
      index: entry.index,
      code: 'removal_unconfirmed',
      message: 'Iterable reported failed removals without naming the users, so this member may still be on the list. Check the list in Iterable.',
    }));
}

function push(map: Map<string, number[]>, key: string, index: number): void {
  const positions = map.get(key);
  if (positions) positions.push(index);
  else map.set(key, [index]);
}
