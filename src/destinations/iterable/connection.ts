import { z } from 'zod';
import type { Rate } from '../../lib/rate-limit.ts';
import { secret } from '../kit/secret.ts';

/** Each Iterable project lives in one data center; a key only works against its own. */
export const REGION_BASE_URLS = {
  us: 'https://api.iterable.com',
  eu: 'https://api.eu.iterable.com',
} as const;

/**
 * Iterable documents no rate for /api/lists/subscribe or /unsubscribe. We pace at the rate it documents for
 * the comparable bulk user endpoint (POST /api/users/bulkUpdate: 5 requests/second per project), the
 * strictest of the bulk limits it states, and let the admin raise it per connection.
 */
export const DEFAULT_REQUESTS_PER_SECOND = 5;

export const connectionSchema = z.object({
  apiKey: secret(z.string().trim().min(1)).describe(
    'A server-side API key of the Iterable project (Integrations → API keys). Sent in the Api-Key header.',
  ),
  region: z.enum(['us', 'eu']).default('us').describe('The data center of the project: us (api.iterable.com) or eu (api.eu.iterable.com).'),
  projectType: z
    .enum(['email', 'userId', 'hybrid'])
    .default('email')
    .describe(
      'How the Iterable project identifies users, chosen when the project was created (Settings → Project settings): ' +
        'email (e-mail-based, the classic type and the default here), userId (userID-based: exports must map userId) or hybrid ' +
        '(either; Outflow identifies by userId when a member has one, else by e-mail). Decides which identifier Outflow sends.',
    ),
  baseUrl: z.url().optional().describe('Overrides the API address derived from the region (a proxy or a test server).'),
  maxProfiles: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe('Refuse runs that would send more profiles than this through the connection. No limit when empty.'),
  requestsPerSecond: z.coerce
    .number()
    .positive()
    .optional()
    .describe(`Requests per second to the project. Default ${DEFAULT_REQUESTS_PER_SECOND}: Iterable does not state a limit for list subscribe/unsubscribe.`),
});

export type IterableConnection = z.infer<typeof connectionSchema>;

export type ProjectType = IterableConnection['projectType'];

export function baseUrlOf(conn: IterableConnection): string {
  // Several SDKs write the base URL with the /api suffix; our paths carry it already.
  return (conn.baseUrl ?? REGION_BASE_URLS[conn.region]).replace(/\/+$/, '').replace(/\/api$/, '');
}

export function rateOf(conn: IterableConnection): Rate {
  return { requests: conn.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND, perMs: 1000 };
}
