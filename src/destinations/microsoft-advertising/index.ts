import { z } from 'zod';
import { OutflowError } from '../../domain/errors.ts';
import { defineDestination, fail, ok } from '../kit/define.ts';
import { secret } from '../kit/secret.ts';
import { createMicrosoftAdvertisingClient, DEFAULT_AUTHORITY_URL, DEFAULT_REQUESTS_PER_SECOND, PRODUCTION_BASE_URL } from './client.ts';
import { customerMatch, digitString } from './customer-match.ts';

export const connectionSchema = z.object({
  clientId: z.string().min(1).describe('Application (client) id of the Azure app registration.'),
  clientSecret: secret(z.string().min(1))
    .optional()
    .describe('Client secret, for web (confidential) app registrations only; public (native) clients send none.'),
  // Optional so a connection can be saved first and signed in afterwards ("Sign in with Microsoft Advertising"
  // in the web app); until then verify and runs fail with auth_failed, saying how to sign in.
  refreshToken: secret(z.string().min(1))
    .optional()
    .describe(
      'OAuth refresh token; "Sign in with Microsoft Advertising" in the web app or `outflow connection authorize <name>` obtains one. Outflow stores rotated tokens itself.',
    ),
  developerToken: secret(z.string().min(1)).describe('Microsoft Advertising API developer token (production or sandbox).'),
  baseUrl: z.url().default(PRODUCTION_BASE_URL).describe('Campaign Management REST v13 base URL (sandbox: https://campaign.api.sandbox.bingads.microsoft.com/CampaignManagement/v13).'),
  authorityUrl: z.url().default(DEFAULT_AUTHORITY_URL).describe('Microsoft identity platform authority; the token URL is `<authorityUrl>/oauth2/v2.0/token`.'),
  requestsPerSecond: z
    .number()
    .positive()
    .optional()
    .describe(`API requests per second for this connection (default ${DEFAULT_REQUESTS_PER_SECOND}; Microsoft publishes no limit).`),
  customerId: digitString('customerId').optional().describe('Used only by `connection verify` to read the customer lists of one account.'),
  accountId: digitString('accountId').optional().describe('Used only by `connection verify`, together with customerId.'),
});

export type MicrosoftAdvertisingConnection = z.infer<typeof connectionSchema>;

export default defineDestination({
  id: 'microsoft-advertising',
  title: 'Microsoft Advertising (Customer Match)',
  docsUrl: 'https://learn.microsoft.com/advertising/campaign-management-service/applycustomerlistuserdata',
  connection: {
    schema: connectionSchema,
    async check(conn, ctx) {
      if ((conn.customerId === undefined) !== (conn.accountId === undefined)) {
        return fail(
          'invalid_settings',
          `Connection \`${ctx.connectionName}\` sets ${conn.customerId === undefined ? 'accountId' : 'customerId'} alone. Set both customerId and accountId (verify then reads that account's customer lists), or neither.`,
        );
      }
      try {
        const client = createMicrosoftAdvertisingClient(conn, ctx);
        await client.accessToken();
        if (conn.customerId === undefined || conn.accountId === undefined) return ok({ signedIn: true });
        const lists = await client.findCustomerLists({ customerId: conn.customerId, accountId: conn.accountId });
        return ok({ signedIn: true, customerLists: lists.length });
      } catch (error) {
        if (error instanceof OutflowError) return fail(error.code, error.message);
        return fail('internal', `Checking connection \`${ctx.connectionName}\` failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  },
  export: customerMatch,
});

export { authorizeMicrosoftAdvertising } from './authorize.ts';
