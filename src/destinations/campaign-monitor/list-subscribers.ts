import { z } from 'zod';
import { aboutField, ConfigError } from '../../domain/errors.ts';
import { defineRecordExport, type Batch, type BatchOutcome, type DestinationContext, type ExportRecord, type FieldSpec, type Rejection } from '../kit/define.ts';
import {
  campaignMonitorRate,
  createCampaignMonitorClient,
  normalizeCustomFieldKey,
  scrubAddresses,
  type CampaignMonitorClient,
  type CustomField,
  type CustomFieldValue,
  type ImportFailure,
  type ImportSubscriber,
} from './client.ts';
import type { CampaignMonitorConnection } from './connection.ts';

/** CM refuses an import of more than 1,000 subscribers (code 209). */
export const IMPORT_BATCH_SIZE = 1000;

/**
 * CM limits each custom-field value to 250 characters and does not say it refuses longer ones, so we
 * assume it cuts them. A record with a longer value is rejected before sending instead.
 * https://www.campaignmonitor.com/api/v3-3/subscribers/
 */
export const MAX_CUSTOM_FIELD_CHARS = 250;

export const listSubscribersSettings = z.object({
  listId: z.string().trim().min(1).describe("The list's API ID (Campaign Monitor: the list's settings page)."),
  resubscribe: z
    .boolean()
    .default(false)
    .describe('Re-add addresses that unsubscribed, bounced, were deleted or are suppressed. Only with fresh consent.'),
  restartSubscriptionBasedAutoresponders: z
    .boolean()
    .default(false)
    .describe('For resubscribed addresses, restart subscription-based automations instead of resuming them.'),
  queueSubscriptionBasedAutoresponders: z
    .boolean()
    .default(false)
    .describe('Start subscription-based automations for imported subscribers (off: imports trigger none).'),
  consentToTrack: z.enum(['Yes', 'No', 'Unchanged']).default('Unchanged').describe('Consent to track sent with every subscriber.'),
  removal: z
    .enum(['unsubscribe', 'delete'])
    .default('unsubscribe')
    .describe('How mirror sync removes members who left the segment: unsubscribe (keeps history) or delete.'),
});

export type ListSubscribersSettings = z.infer<typeof listSubscribersSettings>;

type Built = { ok: true; subscriber: ImportSubscriber } | { ok: false; code: string; message: string };

/** The targets with a meaning of their own; any other mapped target is a custom field of the list. */
const FIELDS: Record<string, FieldSpec> = {
  email: { title: 'E-mail', type: 'email', required: true },
  name: { title: 'Name', type: 'string', description: "The subscriber's name. CM has a single Name field." },
  firstName: { title: 'First name', type: 'string', description: 'Joined with the last name into Name when Name is not mapped.' },
  lastName: { title: 'Last name', type: 'string', description: 'Joined with the first name into Name when Name is not mapped.' },
};

export const listSubscribers = defineRecordExport<CampaignMonitorConnection, typeof listSubscribersSettings, string>({
  kind: 'records',
  title: 'Add and remove subscribers of a list',
  settings: listSubscribersSettings,
  fields: FIELDS,
  extraFields: {
    description:
      'Any other target is a custom field of the list, named by its key without brackets (`website` for `[website]`). Values are limited to 250 characters.',
  },
  // Three in flight: an import of 1,000 subscribers can take longer than the gap the pacing leaves between
  // requests, and the limiter, not the latency, should set the pace. Imports are upserts, so a repeat is harmless.
  limits: { batchSize: IMPORT_BATCH_SIZE, maxProfilesPerExport: 1_000_000, concurrency: 3 },
  // Removal is one unsubscribe or delete call per address (CM has no bulk form), paced like everything else.
  supportsRemove: true,
  targetId: (listId) => listId,
  rate: campaignMonitorRate,
  targets: ({ settings }) => [`list \`${settings.listId}\``],

  // A mapped custom field the list does not define would be sent on every run and kept nowhere, so saving
  // the export is refused while the list is at hand to say which fields it has.
  async validate({ connection, settings, mapping, ctx }) {
    const client = createCampaignMonitorClient(connection, ctx);
    await client.getList(settings.listId).catch((e: unknown) => {
      throw aboutField(e, 'listId');
    });
    const targets = Object.keys(mapping).filter((target) => !Object.hasOwn(FIELDS, target));
    if (targets.length === 0) return;
    const fields = await client.customFields(settings.listId);
    const known = new Set(fields.map((field) => normalizeCustomFieldKey(field.key)));
    const unknown = targets.filter((target) => !known.has(normalizeCustomFieldKey(target)));
    if (unknown.length === 0) return;
    throw aboutField(new ConfigError(
      'invalid_settings',
      `The mapping sends ${unknown.length === 1 ? 'custom field' : 'custom fields'} ${unknown.map((t) => `\`${t}\``).join(', ')} to list \`${settings.listId}\`, ` +
        `which does not define ${unknown.length === 1 ? 'it' : 'them'}: Campaign Monitor would not keep the values. ${describeKnown(fields)} ` +
        `Create the field on the list in Campaign Monitor (the list's Custom fields page) or map a field it has; the export was not saved.`,
    ), 'mapping');
  },

  async open(conn, ctx) {
    const client = createCampaignMonitorClient(conn, ctx);
    const lists = new Map<string, Promise<CustomField[]>>();
    const warnedKeys = new Set<string>();
    // Addresses a failed removal batch already handled, so the engine's retry does not repeat those calls.
    const removedBeforeFailure = new Set<string>();

    /** Confirms the list exists and learns its custom fields, once per list and session. */
    function confirmList(listId: string): Promise<CustomField[]> {
      let known = lists.get(listId);
      if (!known) {
        known = (async () => {
          const list = await client.getList(listId);
          const fields = await client.customFields(listId);
          ctx.log.info({ listId, title: list.Title, customFields: fields.length }, 'campaign monitor list confirmed');
          return fields;
        })();
        lists.set(listId, known);
        known.catch(() => lists.delete(listId));
      }
      return known;
    }

    async function add(batch: Batch<string, ListSubscribersSettings>): Promise<BatchOutcome> {
      const listId = batch.target;
      const knownFields = await confirmList(listId);
      const rejected: Rejection[] = [];
      const subscribers: ImportSubscriber[] = [];
      const positions = new Map<string, number[]>();
      batch.records.forEach((record, index) => {
        const built = toSubscriber(record, batch.settings.consentToTrack);
        if (!built.ok) {
          rejected.push({ index, code: built.code, message: built.message });
          return;
        }
        subscribers.push(built.subscriber);
        const email = built.subscriber.EmailAddress;
        positions.set(email, [...(positions.get(email) ?? []), index]);
      });
      // Checked on the mapped targets, not on the values sent, so a field is reported even while it is empty.
      for (const record of batch.records) {
        for (const target of Object.keys(record.extra)) warnIfUnknown(ctx, listId, bareKey(target), knownFields, warnedKeys);
      }
      if (subscribers.length === 0) return { rejected };

      const result = await client.importSubscribers(listId, subscribers, {
        resubscribe: batch.settings.resubscribe,
        queueSubscriptionBasedAutoresponders: batch.settings.queueSubscriptionBasedAutoresponders,
        restartSubscriptionBasedAutoresponders: batch.settings.restartSubscriptionBasedAutoresponders,
      });

      // Failures name addresses, not positions; one address can sit at several positions of the batch.
      const done = new Set(rejected.map((r) => r.index));
      let unmatched = 0;
      for (const failure of result.FailureDetails) {
        const indices = positions.get(String(failure.EmailAddress ?? '').trim().toLowerCase());
        if (!indices) unmatched += 1;
        for (const index of indices ?? []) {
          if (done.has(index)) continue;
          done.add(index);
          rejected.push({ index, ...describeImportFailure(failure, listId) });
        }
      }
      rejected.sort((a, b) => a.index - b.index);
      ctx.log.info(
        {
          listId,
          sent: subscribers.length,
          newSubscribers: result.TotalNewSubscribers,
          existingSubscribers: result.TotalExistingSubscribers,
          rejected: rejected.length,
        },
        'campaign monitor import',
      );
      if (unmatched > 0) {
        ctx.log.warn({ listId, unmatched }, 'campaign monitor reported failures for addresses not in the batch; counted as sent');
      }
      return { rejected };
    }

    async function remove(batch: Batch<string, ListSubscribersSettings>): Promise<BatchOutcome> {
      const listId = batch.target;
      const how = batch.settings.removal;
      const rejected: Rejection[] = [];
      const positions = new Map<string, number[]>();
      batch.records.forEach((record, index) => {
        const email = emailOf(record);
        if (!email) rejected.push({ index, ...missingEmail() });
        else positions.set(email, [...(positions.get(email) ?? []), index]);
      });
      let notMembers = 0;
      for (const [email, indices] of positions) {
        const progressKey = `${listId}\n${how}\n${email}`;
        if (removedBeforeFailure.has(progressKey)) continue;
        const outcome = await removeOne(client, listId, email, how);
        if (outcome.ok) {
          removedBeforeFailure.add(progressKey);
          if (!outcome.wasMember) notMembers += 1;
          continue;
        }
        for (const index of indices) rejected.push({ index, code: outcome.code, message: outcome.message });
      }
      for (const email of positions.keys()) removedBeforeFailure.delete(`${listId}\n${how}\n${email}`);
      rejected.sort((a, b) => a.index - b.index);
      ctx.log.info({ listId, removal: how, addresses: positions.size, notMembers, rejected: rejected.length }, 'campaign monitor removal');
      return { rejected };
    }

    return {
      async prepare({ settings }) {
        await confirmList(settings.listId);
        return settings.listId;
      },
      send: (batch) => (batch.action === 'remove' ? remove(batch) : add(batch)),
    };
  },
});

async function removeOne(
  client: CampaignMonitorClient,
  listId: string,
  email: string,
  how: 'unsubscribe' | 'delete',
): Promise<{ ok: true; wasMember: boolean } | { ok: false; code: string; message: string }> {
  const outcome = await client.removeSubscriber(listId, email, how);
  if (outcome.ok) return outcome;
  const known = FAILURES[outcome.code];
  return {
    ok: false,
    code: known?.code ?? 'upstream_rejected',
    message: `Campaign Monitor did not ${how} this subscriber of list \`${listId}\`: ${known?.reason ?? safeReason(outcome.message)} (code ${outcome.code}).`,
  };
}

function toSubscriber(record: ExportRecord, consentToTrack: ListSubscribersSettings['consentToTrack']): Built {
  const email = emailOf(record);
  if (!email) return { ok: false, ...missingEmail() };
  const customFields: CustomFieldValue[] = [];
  for (const [target, value] of Object.entries(record.extra)) {
    const key = bareKey(target);
    for (const text of customFieldTexts(value)) {
      if (text.length > MAX_CUSTOM_FIELD_CHARS) {
        return {
          ok: false,
          code: 'value_too_long',
          message: `Custom field \`${key}\` holds ${text.length} characters; Campaign Monitor keeps at most ${MAX_CUSTOM_FIELD_CHARS}. The record was not sent. Shorten the value at the source or map a shorter column.`,
        };
      }
      customFields.push({ Key: key, Value: text });
    }
  }
  const subscriber: ImportSubscriber = { EmailAddress: email, CustomFields: customFields, ConsentToTrack: consentToTrack };
  const name = displayName(record.fields);
  if (name !== undefined) subscriber.Name = name;
  return { ok: true, subscriber };
}

function emailOf(record: ExportRecord): string {
  return typeof record.fields.email === 'string' ? record.fields.email.trim().toLowerCase() : '';
}

function missingEmail(): { code: string; message: string } {
  return { code: 'missing_email', message: 'The record has no e-mail address; Campaign Monitor identifies subscribers by e-mail.' };
}

/** CM has one Name; `name` wins, else first and last name joined. Undefined leaves the stored name alone. */
function displayName(fields: Record<string, unknown>): string | undefined {
  const name = plainText(fields.name);
  if (name) return name;
  const joined = [plainText(fields.firstName), plainText(fields.lastName)].filter((part) => part.length > 0).join(' ');
  return joined.length > 0 ? joined : undefined;
}

function plainText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value).trim();
}

/** Mapping targets may be written as CM shows keys (`[website]`); imports take the bare key. */
function bareKey(target: string): string {
  const trimmed = target.trim();
  return trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1).trim() : trimmed;
}

/**
 * The texts one mapped value becomes. Empty values are left out, so CM keeps what it has (clearing needs
 * an explicit `Clear`, which we never send). Arrays become one entry per option (multi-select fields), dates
 * CM's yyyy/mm/dd.
 */
function customFieldTexts(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(customFieldTexts);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? [] : [cmDate(value)];
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > 0 ? [text] : [];
}

function cmDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}`;
}

/**
 * The export was checked when saved, but a field can be deleted on the list afterwards. Unconfirmed: we
 * believe CM silently drops values for keys the list does not define, so the run says so, once per field.
 */
function warnIfUnknown(ctx: DestinationContext, listId: string, key: string, known: CustomField[], warned: Set<string>): void {
  const normalized = normalizeCustomFieldKey(key);
  if (warned.has(`${listId}\n${normalized}`) || known.some((field) => normalizeCustomFieldKey(field.key) === normalized)) return;
  warned.add(`${listId}\n${normalized}`);
  ctx.log.warn({ listId, customField: key }, 'custom field is not defined on the Campaign Monitor list');
  ctx.warn(
    `Custom field \`${key}\` is mapped, but list \`${listId}\` in Campaign Monitor does not define it, so its values are likely dropped. ${describeKnown(known)} ` +
      `Create the field on the list again, or remove it from the export's mapping.`,
  );
}

function describeKnown(fields: CustomField[]): string {
  return fields.length === 0 ? 'The list has no custom fields.' : `The list's custom fields: ${fields.map((field) => `\`${field.key}\``).join(', ')}.`;
}

const RESUBSCRIBE_HINT = ' It was left as it is; set `resubscribe: true` on the export only if these people opted in again.';

const FAILURES: Record<number, { code: string; reason: string; hint?: string }> = {
  1: { code: 'invalid_email', reason: 'Campaign Monitor considers the e-mail address invalid' },
  204: { code: 'suppressed', reason: "the address is on the client's suppression list", hint: RESUBSCRIBE_HINT },
  205: { code: 'deleted', reason: 'the address was deleted from this list', hint: RESUBSCRIBE_HINT },
  206: { code: 'unsubscribed', reason: 'the address unsubscribed from this list', hint: RESUBSCRIBE_HINT },
  207: { code: 'bounced', reason: 'the address bounced', hint: RESUBSCRIBE_HINT },
  208: { code: 'unconfirmed', reason: 'the address has not confirmed its subscription to this confirmed opt-in list' },
  214: { code: 'invalid_consent', reason: 'no consent-to-track value', hint: ' Set the export\'s consentToTrack.' },
  215: { code: 'invalid_consent', reason: 'an invalid consent-to-track value', hint: ' Set the export\'s consentToTrack to Yes, No or Unchanged.' },
  220: { code: 'invalid_mobile', reason: 'an invalid mobile number' },
  221: { code: 'invalid_email', reason: 'an invalid e-mail address and mobile number' },
};

function describeImportFailure(failure: ImportFailure, listId: string): { code: string; message: string } {
  const known = FAILURES[failure.Code];
  const reason = known?.reason ?? safeReason(typeof failure.Message === 'string' ? failure.Message : '');
  return {
    code: known?.code ?? 'upstream_rejected',
    message: `Campaign Monitor did not add this subscriber to list \`${listId}\`: ${reason} (code ${failure.Code}).${known?.hint ?? ''}`,
  };
}

/** A vendor message fit for a rejection: never an address, never long. */
function safeReason(message: string): string {
  const text = scrubAddresses(message).replaceAll('@', '(at)').trim().slice(0, 200);
  return text.length > 0 ? `"${text}"` : 'no reason given';
}
