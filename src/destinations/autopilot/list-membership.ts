import { z } from 'zod';
import { UpstreamError } from '../../domain/errors.ts';
import type { DestinationContext, ExportRecord, Rejection } from '../kit/define.ts';
import { defineRecordExport } from '../kit/define.ts';
import { autopilotRate, createAutopilotClient, type AutopilotClient, type AutopilotConnection, type AutopilotContact } from './client.ts';

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
    email: { title: 'Email', type: 'email', required: true, description: 'Autopilot de-duplicates contacts on Email.' },
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
      'Any other target is sent as an Autopilot text custom field: "Favourite Colour" becomes custom."string--Favourite--Colour" ' +
      'with the value as text. Create the field in Autopilot first for it to be usable there.',
  },
  // https://autopilot.docs.apiary.io/ (bulk contacts: 100 per call; 5 requests per second per account)
  limits: { batchSize: BULK_MAX, concurrency: 1 },
  supportsRemove: true,
  rate: autopilotRate,
  connectionLimits: (conn) => ({ maxProfiles: conn.maxProfiles, warnProfiles: Math.min(conn.warnProfiles, conn.maxProfiles) }),
  targets: ({ segments }) => segments.map((segment) => `list "${segment}"`),

  async open(conn, ctx) {
    const client = createAutopilotClient(conn, ctx);
    const lists = new Map<string, AutopilotTarget>();
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
        const rejected =
          batch.action === 'remove'
            ? await removeAll(client, batch.target.listId, batch.records)
            : await upsertIsolating(client, batch.records.map((record, index) => ({ index, contact: toContact(record, batch.target.listId) })));
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

export function toContact(record: ExportRecord, listId: string): AutopilotContact {
  const contact: AutopilotContact = { Email: record.fields.email! };
  const firstName = text(record.fields.firstName);
  const lastName = text(record.fields.lastName);
  if (firstName !== undefined) contact.FirstName = firstName;
  if (lastName !== undefined) contact.LastName = lastName;
  const custom: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.extra)) {
    const valueText = text(value);
    if (valueText !== undefined) custom[customFieldKey(name)] = valueText;
  }
  if (Object.keys(custom).length > 0) contact.custom = custom;
  // Documented for POST /v1/contact; that the bulk endpoint honours it too is our inference (n8n and other
  // integrations rely on it). It saves one membership call per contact.
  contact._autopilot_list = listId;
  return contact;
}

/** `Favourite Colour` → `string--Favourite--Colour`: the type prefix plus the name with spaces as `--`. */
export function customFieldKey(name: string): string {
  return `string--${name.trim().replace(/\s+/g, '--')}`;
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

/**
 * The bulk call answers 400 for the whole request when one contact is bad and names none, so on a 400 we
 * split the request in halves until each bad contact stands alone, then upsert it on its own to get the
 * vendor's reason. One bad contact in 100 costs about 15 requests instead of 100.
 */
async function upsertIsolating(client: AutopilotClient, items: Indexed[]): Promise<Rejection[]> {
  if (items.length === 0) return [];
  if (items.length === 1) {
    const [item] = items as [Indexed];
    const result = await client.upsertContact(item.contact);
    return result.ok ? [] : [{ index: item.index, code: 'upstream_rejected', message: `Autopilot refused this contact: ${result.message}` }];
  }
  const result = await client.upsertContacts(items.map((item) => item.contact));
  if (result.ok) return [];
  const middle = Math.ceil(items.length / 2);
  return [...(await upsertIsolating(client, items.slice(0, middle))), ...(await upsertIsolating(client, items.slice(middle)))];
}

/** Autopilot has no bulk removal: one DELETE per contact, paced by the connection's limiter. */
async function removeAll(client: AutopilotClient, listId: string, records: ExportRecord[]): Promise<Rejection[]> {
  const rejected: Rejection[] = [];
  for (const [index, record] of records.entries()) {
    const result = await client.removeFromList(listId, record.fields.email!);
    if (!result.ok) rejected.push({ index, code: 'upstream_rejected', message: `Autopilot refused to remove this contact from the list: ${result.message}` });
  }
  return rejected;
}
