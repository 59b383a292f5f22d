import { z } from 'zod';
import { aboutField, ConfigError } from '../../domain/errors.ts';
import { defineRecordExport, type Rejection } from '../kit/define.ts';
import { normalizeEmail, sha256Hex } from '../kit/fields.ts';
import { createMicrosoftAdvertisingClient, rateFor, summarize, VENDOR, type Account } from './client.ts';
import type { MicrosoftAdvertisingConnection } from './index.ts';

/** Microsoft's customer and account ids are longs; we keep them as digit strings (the REST header values). */
export const digitString = (what: string) =>
  z.coerce.string().regex(/^\d+$/, `${what} is a number such as 123456789 (see the account in Microsoft Advertising)`);

const settings = z.object({
  customerId: digitString('customerId').describe('Manager account (customer) id: the CustomerId header.'),
  accountId: digitString('accountId').describe('Ad account id that owns the customer lists: the CustomerAccountId header.'),
});

/** What `prepare` finds or creates for a segment: the customer list named after it. */
export interface CustomerListTarget {
  audienceId: string;
  name: string;
}

/** Bulk field docs: an audience name holds at most 128 characters. */
const MAX_AUDIENCE_NAME = 128;

/**
 * One Customer Match audience (a customer list) per segment, named exactly after the segment. Members go up
 * as SHA-256 hashes of their e-mail addresses; Microsoft never sees a plain address.
 */
export const customerMatch = defineRecordExport<MicrosoftAdvertisingConnection, typeof settings, CustomerListTarget>({
  kind: 'records',
  title: 'Customer Match audience (customer list)',
  settings,
  fields: {
    email: {
      title: 'E-mail',
      type: 'email',
      required: true,
      acceptsSha256: true,
      description: 'Sent as the SHA-256 hex digest of the trimmed, lower-cased address; a value that already is a 64-hex digest is sent as is.',
    },
  },
  limits: {
    // ApplyCustomerListUserData takes at most 1,000 items per call.
    batchSize: 1000,
    maxProfilesPerExport: 500_000,
    // Pacing comes from the connection's rate; a second batch in flight hides the time Microsoft spends on an
    // Apply call without adding load, while more would only queue at the limiter. Batches may finish out of
    // order, which is safe: Add and Remove are idempotent, and a run's adds and removes touch disjoint members.
    concurrency: 2,
  },
  supportsRemove: true,
  targetId: (target) => target.audienceId,
  rate: (conn) => rateFor(conn),
  // Customer lists belong to an ad account, so the same segment name in two accounts is two lists.
  targets: ({ segments, settings: exportSettings }) => segments.map((segment) => `customer list "${segment}" in account ${exportSettings.accountId}`),

  // A run's first call for a segment reads the account's customer lists; reading them when the export is saved
  // refuses an account the signed-in user cannot reach with the very error the run would give, and creates nothing.
  async validate({ connection, settings: exportSettings, ctx }) {
    // An account the sign-in cannot reach is about the account the export names.
    await createMicrosoftAdvertisingClient(connection, ctx)
      .findCustomerLists({ customerId: exportSettings.customerId, accountId: exportSettings.accountId })
      .catch((e: unknown) => {
        throw aboutField(e, 'accountId');
      });
  },

  async open(conn, ctx) {
    const client = createMicrosoftAdvertisingClient(conn, ctx);
    const targets = new Map<string, Promise<CustomerListTarget>>();

    async function findOrCreate(account: Account, name: string): Promise<CustomerListTarget> {
      const named = (await client.findCustomerLists(account)).filter((list) => list.name === name);
      // The list query also returns lists the manager account shares (Scope Customer, ParentId = the customer).
      // One of the same name must not win over the account's own list, which is where earlier runs wrote.
      const own = named.filter((list) => list.parentId === account.accountId);
      const lists = own.length > 0 ? own : named;
      if (lists.length > 1) {
        ctx.log.warn({ segment: name, matches: lists.length }, 'several customer lists carry the segment name; using the first');
      }
      const existing = lists[0];
      if (existing) {
        if (own.length === 0) {
          ctx.log.info({ segment: name, audienceId: existing.id, parentId: existing.parentId }, 'using a customer list shared by the manager account');
        }
        return { audienceId: existing.id, name };
      }
      const audienceId = await client.createCustomerList(account, name);
      ctx.log.info({ segment: name, audienceId, accountId: account.accountId }, 'created a Microsoft Advertising customer list');
      return { audienceId, name };
    }

    return {
      prepare({ segment, settings: exportSettings }) {
        if (segment.length > MAX_AUDIENCE_NAME) {
          return Promise.reject(
            new ConfigError(
              'invalid_settings',
              `Segment "${segment.slice(0, 40)}…" has a ${segment.length}-character name, and ${VENDOR} allows ${MAX_AUDIENCE_NAME} for the customer list named after it. Rename the segment.`,
            ),
          );
        }
        const account = { customerId: exportSettings.customerId, accountId: exportSettings.accountId };
        const key = `${account.customerId}/${account.accountId}/${segment}`;
        let target = targets.get(key);
        if (!target) {
          target = findOrCreate(account, segment);
          targets.set(key, target);
          target.catch(() => targets.delete(key));
        }
        return target;
      },

      async send(batch) {
        const account = { customerId: batch.settings.customerId, accountId: batch.settings.accountId };
        const rejected: Rejection[] = [];
        // Identical hashes go up once; `positions` keeps every record that produced each one.
        const hashes: string[] = [];
        const positions: number[][] = [];
        const slotOf = new Map<string, number>();
        batch.records.forEach((record, index) => {
          const hash = emailHash(record.fields.email);
          if (hash === undefined) {
            rejected.push({ index, code: 'invalid_email', message: 'The e-mail field is empty or malformed; nothing was sent for this record.' });
            return;
          }
          let slot = slotOf.get(hash);
          if (slot === undefined) {
            slot = hashes.length;
            slotOf.set(hash, slot);
            hashes.push(hash);
            positions.push([]);
          }
          positions[slot]!.push(index);
        });
        if (hashes.length > 0) {
          const errors = await client.applyEmailHashes(account, {
            action: batch.action === 'add' ? 'Add' : 'Remove',
            audienceId: batch.target.audienceId,
            hashes,
          });
          for (const error of errors) {
            const message = `${VENDOR} refused this member's hashed e-mail (${summarize([error])}).`;
            const code = error.code === 8004 ? 'invalid_email' : 'upstream_rejected';
            for (const index of positions[error.index!] ?? []) rejected.push({ index, code, message });
          }
        }
        rejected.sort((a, b) => a.index - b.index);
        return { rejected: rejected.filter((rejection, i) => i === 0 || rejected[i - 1]!.index !== rejection.index) };
      },
    };
  },
});

/**
 * The Customer Match `Email` item: SHA-256 hex of the trimmed, lower-cased address. A value that already is a
 * 64-hex digest is lower-cased and passed through, never hashed twice.
 */
export function emailHash(value: unknown): string | undefined {
  const email = normalizeEmail(value, { acceptsSha256: true });
  if (!email.ok) return undefined;
  return email.hashed ? email.email : sha256Hex(email.email);
}
