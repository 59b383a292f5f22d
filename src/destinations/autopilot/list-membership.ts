import { z } from 'zod';
import { UpstreamError } from '../../domain/errors.ts';
import type { DestinationContext, ExportRecord, Rejection } from '../kit/define.ts';
import { defineRecordExport } from '../kit/define.ts';
import {
  autopilotRate,
  createAutopilotClient,
  listNotFound,
  type AutopilotClient,
  type AutopilotConnection,
  type AutopilotContact,
  type AutopilotCustomField,
} from './client.ts';

export interface AutopilotConnectionConfig extends AutopilotConnection {
  maxProfiles: number;
  warnProfiles: number;
}

/** What `prepare` found or created for a segment. */
export interface AutopilotTarget {
  listId: string;
}

/** Autopilot's bulk upsert takes at most 100 contacts; more is a 400 for the whole request. */
const BULK_MAX = 100;

/** Nothing to set: the list is named after the segment. */
const settings = z.object({});

export const listMembership = defineRecordExport<AutopilotConnectionConfig, typeof settings, AutopilotTarget>({
  kind: 'records',
  title: 'Add and remove contacts on a list named after the segment',
  settings,
  fields: {
    email: { title: 'E-mail', type: 'email', required: true, description: 'Autopilot de-duplicates contacts on Email.' },
    firstName: {
      title: 'First name',
      type: 'string',
      description: 'Sent as FirstName. Autopilot may keep an existing first name instead of overwriting it.',
    },
    lastName: {
      title: 'Last name',
      type: 'string',
      description: 'Sent as LastName. Autopilot may keep an existing last name instead of overwriting it.',
    },
  },
  extraFields: {
    description:
      'Any other target is an Autopilot custom field. Outflow reads the account\'s custom fields once per run and sends ' +
      'each value under the key of the field\'s type ("Age" defined as integer becomes custom."integer--Age": 42; ' +
      '"Favourite Colour" not defined becomes custom."string--Favourite--Colour" as text). A value that does not fit ' +
      'the field\'s type rejects the record with a reason. Create fields in Autopilot first for them to be usable there.',
  },
  // https://autopilot.docs.apiary.io/ (bulk contacts: 100 per call; 5 requests per second per account)
  limits: { batchSize: BULK_MAX, concurrency: 1 },
  supportsRemove: true,
  targetId: (target) => target.listId,
  rate: autopilotRate,
  connectionLimits: (conn) => ({ maxProfiles: conn.maxProfiles, warnProfiles: Math.min(conn.warnProfiles, conn.maxProfiles) }),
  targets: ({ segments }) => segments.map((segment) => `list "${segment}"`),

  async open(conn, ctx) {
    const client = createAutopilotClient(conn, ctx);
    const lists = new Map<string, AutopilotTarget>();
    const membership = createMembershipGuard(client, ctx);
    let customFields: Promise<CustomFieldTypes> | undefined;
    // Read once per run, and only when a batch carries custom values; a failed read is tried again by the
    // engine's retry of the batch.
    const fieldTypes = (): Promise<CustomFieldTypes> => {
      customFields ??= client.getCustomFields().then(indexCustomFields, (error: unknown) => {
        customFields = undefined;
        throw error;
      });
      return customFields;
    };
    return {
      async prepare({ segment }) {
        let target = lists.get(segment);
        if (!target) {
          target = { listId: await findOrCreateList(client, segment, ctx) };
          lists.set(segment, target);
        }
        return target;
      },
      async send(batch) {
        if (batch.action === 'remove') return { rejected: await removeAll(client, batch.target.listId, batch.records, ctx) };
        const types = batch.records.some((record) => Object.values(record.extra).some((v) => v !== null && v !== undefined))
          ? await fieldTypes()
          : new Map<string, AutopilotCustomField>();
        const rejected: Rejection[] = [];
        const items: Indexed[] = [];
        for (const [index, record] of batch.records.entries()) {
          const built = toContact(record, batch.target.listId, types);
          if ('contact' in built) items.push({ index, contact: built.contact });
          else rejected.push({ index, ...built.rejection });
        }
        rejected.push(...(await membership.upsert(batch.target.listId, items)));
        return { rejected: rejected.sort((a, b) => a.index - b.index) };
      },
    };
  },
});

/**
 * Autopilot does not refuse a duplicate list name any more (a later client notes it creates a second list),
 * so we look the title up first and reuse the first exact match. The early docs' 409 is handled as "someone
 * created it meanwhile": read the lists again.
 */
async function findOrCreateList(client: AutopilotClient, title: string, ctx: DestinationContext): Promise<string> {
  const existing = (await client.getLists()).find((list) => list.title === title);
  if (existing) return existing.list_id;
  const created = await client.createList(title);
  if ('listId' in created) {
    ctx.log.info({ listId: created.listId }, 'created Autopilot list for segment');
    return created.listId;
  }
  const raced = (await client.getLists()).find((list) => list.title === title);
  if (raced) return raced.list_id;
  throw new UpstreamError(
    'upstream_rejected',
    `Autopilot refused to create the list for segment "${title}" (HTTP 409, name taken) but lists no list with that exact title ` +
      `for connection \`${ctx.connectionName}\`. Check the account's lists in Autopilot and run the export again.`,
    { status: 409 },
  );
}

/** Account custom fields by normalized name (lower case, single spaces). */
export type CustomFieldTypes = Map<string, AutopilotCustomField>;

const fieldKey = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * Indexes the account's custom fields by name. When one name exists under several types, the typed field wins
 * over the text one: the text twin is most likely what earlier Outflow versions created by sending every value
 * as `string--`.
 */
export function indexCustomFields(fields: AutopilotCustomField[]): CustomFieldTypes {
  const byName: CustomFieldTypes = new Map();
  for (const field of fields) {
    const key = fieldKey(field.name);
    const seen = byName.get(key);
    if (!seen || (seen.fieldType === 'string' && field.fieldType !== 'string')) byName.set(key, field);
  }
  return byName;
}

/**
 * Builds the contact for one record, or the reason it cannot be sent: a custom value that does not fit the
 * type of the account's field of that name is a rejection (sending it as text would land in a second field).
 */
export function toContact(
  record: ExportRecord,
  listId: string,
  types: CustomFieldTypes = new Map(),
): { contact: AutopilotContact } | { rejection: { code: string; message: string } } {
  const contact: AutopilotContact = { Email: record.fields.email! };
  const firstName = text(record.fields.firstName);
  const lastName = text(record.fields.lastName);
  if (firstName !== undefined) contact.FirstName = firstName;
  if (lastName !== undefined) contact.LastName = lastName;
  const custom: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(record.extra)) {
    if (value === null || value === undefined) continue;
    const field = types.get(fieldKey(name));
    const fieldType = field?.fieldType ?? 'string';
    const converted = convertCustomValue(value, fieldType);
    if (!converted.ok) {
      return {
        rejection: {
          code: 'invalid_value',
          message:
            `Custom field "${field!.name}" is a${/^[aeiou]/.test(fieldType) ? 'n' : ''} ${fieldType} field in Autopilot and this record's value ${converted.reason}; ` +
            'fix the value in the data or map another column onto the field.',
        },
      };
    }
    custom[customFieldKey(field?.name ?? name, fieldType)] = converted.value;
  }
  if (Object.keys(custom).length > 0) contact.custom = custom;
  // Documented for POST /v1/contact; whether the bulk endpoint honours it is unconfirmed, so the membership
  // guard checks the list afterwards and adds contacts one by one when it did not.
  contact._autopilot_list = listId;
  return { contact };
}

/** `Favourite Colour` → `string--Favourite--Colour`: the type prefix plus the name with spaces as `--`. */
export function customFieldKey(name: string, fieldType = 'string'): string {
  return `${fieldType}--${name.trim().replace(/\s+/g, '--')}`;
}

type Converted = { ok: true; value: string | number | boolean } | { ok: false; reason: string };

/**
 * Values arrive as the profile store gives them: numbers, booleans, text (dates, decimals and large integers are
 * text). Each is turned into the JSON type of the account's field; text fields and types we do not know get text.
 */
export function convertCustomValue(value: unknown, fieldType: string): Converted {
  switch (fieldType) {
    case 'integer': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[+-]?\d+(\.0*)?\s*$/.test(value) ? Number(value) : NaN;
      return Number.isSafeInteger(n) ? { ok: true, value: n } : { ok: false, reason: 'is not a whole number (or is too large)' };
    }
    case 'float': {
      const n =
        typeof value === 'number' ? value : typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : NaN;
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, reason: 'is not a number' };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      const word = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toLowerCase() : '';
      if (['true', 'yes', '1'].includes(word)) return { ok: true, value: true };
      if (['false', 'no', '0'].includes(word)) return { ok: true, value: false };
      return { ok: false, reason: 'is not true or false' };
    }
    case 'date': {
      const iso = value instanceof Date ? (Number.isNaN(value.getTime()) ? undefined : value.toISOString()) : typeof value === 'string' ? isoDate(value) : undefined;
      return iso === undefined ? { ok: false, reason: 'is not a date (expected e.g. 2025-12-31 or 2025-12-31T10:00:00Z)' } : { ok: true, value: iso };
    }
    default:
      return { ok: true, value: text(value)! };
  }
}

/**
 * `2025-12-31`, `2025-12-31 10:00:00[.123]`, `…T…Z` or with an offset (`+00`, `+02:00`) → ISO 8601 in UTC, as
 * Autopilot's date fields take it. A date or time without a zone is read as UTC. Impossible dates (Feb 30) are
 * refused, not rolled over.
 */
function isoDate(input: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(input.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCFullYear() !== Number(y) || day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3).replace(':', '').padEnd(2, '0')}`;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${sec}.${frac.padEnd(3, '0').slice(0, 3)}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function text(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

interface Indexed {
  index: number;
  contact: AutopilotContact;
}

/** A contact Autopilot accepted: where it was in the batch, and its id when the answer gave one. */
interface Landed {
  index: number;
  email: string;
  contactId: string | undefined;
}

/** What this connection's bulk upload does with `_autopilot_list`, as recorded on the connection. */
type BulkListKey = 'honoured' | 'ignored';
const BULK_LIST_KEY_STATE = 'bulkListKey';

const FALLBACK_WARNING =
  "Autopilot's bulk upload did not put contacts on the segment's list (it ignored the _autopilot_list key), so Outflow " +
  'adds each contact to the list with a request of its own. Every contact now costs one more request: at 5 requests ' +
  'per second a run takes about 100 times as long as the bulk upload alone.';

/**
 * Upserts contacts in bulk and makes sure they end up on the list.
 *
 * Whether bulk `POST /v1/contacts` honours `_autopilot_list` is undocumented (the vendor documents the key on the
 * single-contact endpoint), and when it does not, every call still answers 200. So the guard checks: until this
 * run has a conclusive finding, it picks the batch's first contact, asks before the upload whether it is on the
 * list and, if it was not, asks again after (a contact that was already a member proves nothing). On the list:
 * the key is honoured, and each later batch still checks one contact afterwards. Not on the list: the key was
 * ignored; the run warns once and from then on adds every contact with `POST /v1/list/{list_id}/contact/{id}`
 * without probing again. The finding is recorded on the connection, so a later run whose probe is inconclusive
 * (everyone already on the list) keeps adding explicitly when the key was known to be ignored.
 *
 * Every extra request goes through the same client, so the connection's pacing applies; a 429 or 5xx throws
 * and the engine retries the whole batch (upserts and list additions are idempotent).
 */
function createMembershipGuard(client: AutopilotClient, ctx: DestinationContext) {
  const recorded = ctx.state[BULK_LIST_KEY_STATE];
  let finding: BulkListKey | undefined = recorded === 'honoured' || recorded === 'ignored' ? recorded : undefined;
  let settledThisRun = false;
  let warned = false;

  async function settle(next: BulkListKey): Promise<void> {
    settledThisRun = true;
    if (next === finding) return;
    finding = next;
    ctx.log.info({ bulkListKey: next }, 'Autopilot bulk upload and _autopilot_list');
    await ctx.saveState({ [BULK_LIST_KEY_STATE]: next }).catch((error: unknown) => {
      ctx.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not record what Autopilot does with _autopilot_list');
    });
  }

  return {
    async upsert(listId: string, items: Indexed[]): Promise<Rejection[]> {
      if (items.length === 0) return [];
      let fresh: Indexed | undefined;
      if (!settledThisRun) {
        const candidate = items[0]!;
        if ((await client.membership(listId, candidate.contact.Email)) === 'not_member') fresh = candidate;
      }

      const rejected: Rejection[] = [];
      const landed: Landed[] = [];
      await upsertIsolating(client, items, rejected, landed);
      landed.sort((a, b) => a.index - b.index);
      if (landed.length === 0) return rejected;

      if (finding !== 'ignored' || !settledThisRun) {
        const probe = fresh ? landed.find((l) => l.index === fresh.index) : settledThisRun ? landed.at(-1) : undefined;
        if (probe) {
          const state = await client.membership(listId, probe.contactId ?? probe.email);
          if (state === 'member') {
            await settle('honoured');
          } else if (state === 'not_member') {
            // A 404 also comes back when the list itself was deleted meanwhile: that is not a finding.
            if (!(await client.listExists(listId))) throw listGone(ctx, 'GET', listId);
            await settle('ignored');
          }
        }
      }

      if (finding === 'ignored') {
        if (!warned) {
          warned = true;
          ctx.warn(FALLBACK_WARNING);
        }
        rejected.push(...(await addEach(client, listId, landed, ctx)));
      }
      return rejected;
    },
  };
}

function listGone(ctx: DestinationContext, method: string, listId: string): Error {
  return listNotFound({ method, route: `/v1/list/${listId}/contact/{contact}`, connection: ctx.connectionName });
}

/** The fallback: one `POST /v1/list/{list_id}/contact/{contact_id}` per accepted contact. */
async function addEach(client: AutopilotClient, listId: string, landed: Landed[], ctx: DestinationContext): Promise<Rejection[]> {
  const rejected: Rejection[] = [];
  let listChecked = false;
  for (const contact of landed) {
    const result = await client.addToList(listId, contact.contactId ?? contact.email);
    if (!result.ok) {
      rejected.push({ index: contact.index, code: 'upstream_rejected', message: `Autopilot refused to add this contact to the list: ${result.message}` });
    } else if (result.outcome === 'not_found') {
      if (!listChecked) {
        if (!(await client.listExists(listId))) throw listGone(ctx, 'POST', listId);
        listChecked = true;
      }
      rejected.push({
        index: contact.index,
        code: 'upstream_rejected',
        message: 'Autopilot accepted this contact but then did not find it when adding it to the list (HTTP 404); it is not on the list.',
      });
    }
  }
  return rejected;
}

/**
 * The bulk call answers 400 for the whole request when one contact is bad and names none, so on a 400 we
 * split the request in halves until each bad contact stands alone, then upsert it on its own to get the
 * vendor's reason. One bad contact in 100 costs about 15 requests instead of 100.
 */
async function upsertIsolating(client: AutopilotClient, items: Indexed[], rejected: Rejection[], landed: Landed[]): Promise<void> {
  if (items.length === 0) return;
  const result = items.length === 1 ? await client.upsertContact(items[0]!.contact) : await client.upsertContacts(items.map((item) => item.contact));
  if (result.ok) {
    for (const item of items) {
      const email = item.contact.Email;
      landed.push({ index: item.index, email, contactId: result.contactIds.get(email.toLowerCase()) });
    }
    return;
  }
  if (items.length === 1) {
    rejected.push({ index: items[0]!.index, code: 'upstream_rejected', message: `Autopilot refused this contact: ${result.message}` });
    return;
  }
  const middle = Math.ceil(items.length / 2);
  await upsertIsolating(client, items.slice(0, middle), rejected, landed);
  await upsertIsolating(client, items.slice(middle), rejected, landed);
}

/**
 * Autopilot has no bulk removal: one DELETE per contact, paced by the connection's limiter. Autopilot answers
 * 404 both for a contact it does not know (already gone: fine) and for a list that was deleted; the second is
 * not "not a member", so the first 404 of a batch asks whether the list still exists.
 */
async function removeAll(client: AutopilotClient, listId: string, records: ExportRecord[], ctx: DestinationContext): Promise<Rejection[]> {
  const rejected: Rejection[] = [];
  let listChecked = false;
  for (const [index, record] of records.entries()) {
    const result = await client.removeFromList(listId, record.fields.email!);
    if (!result.ok) {
      rejected.push({ index, code: 'upstream_rejected', message: `Autopilot refused to remove this contact from the list: ${result.message}` });
    } else if (result.outcome === 'not_found' && !listChecked) {
      if (!(await client.listExists(listId))) throw listGone(ctx, 'DELETE', listId);
      listChecked = true;
    }
  }
  return rejected;
}
