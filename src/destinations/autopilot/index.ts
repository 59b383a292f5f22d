import { z } from 'zod';
import { defineDestination, ok, probe } from '../kit/define.ts';
import { secret } from '../kit/secret.ts';
import { createAutopilotClient, DEFAULT_BASE_URL } from './client.ts';
import { listMembership } from './list-membership.ts';

// Legacy product: Autopilot Journeys. Its successor Ortto has a different API, and whether the old host still
// answers could not be confirmed, so `verify` is the first thing to run and names that case plainly.
export default defineDestination({
  id: 'autopilot',
  title: 'Autopilot (Journeys)',
  docsUrl: 'https://autopilot.docs.apiary.io/',
  connection: {
    schema: z.object({
      apiKey: secret(z.string().trim().min(1)).describe('Autopilot API key (Settings → Autopilot API → Generate); sent as the autopilotapikey header.'),
      baseUrl: z.url({ protocol: /^https?$/ }).default(DEFAULT_BASE_URL).describe('Autopilot REST API v1 base URL.'),
      requestsPerSecond: z
        .number()
        .positive()
        .max(100)
        .default(5)
        .describe('Request pace for this account; Autopilot documents 5 requests per second.'),
      maxProfiles: z
        .number()
        .int()
        .positive()
        .default(100_000)
        .describe("Profiles allowed across all exports of this connection (the plan's allowance)."),
      warnProfiles: z.number().int().positive().default(80_000).describe('Warn from this many profiles across all exports.'),
    }),
    check: (conn, ctx) =>
      probe('Autopilot', ctx, async () => {
        await createAutopilotClient(conn, ctx).getAccount();
        return ok();
      }),
  },
  export: listMembership,
});
