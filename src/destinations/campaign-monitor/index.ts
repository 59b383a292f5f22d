import { OutflowError } from '../../domain/errors.ts';
import { defineDestination, fail, ok } from '../kit/define.ts';
import { createCampaignMonitorClient } from './client.ts';
import { connectionSchema } from './connection.ts';
import { listSubscribers } from './list-subscribers.ts';

export default defineDestination({
  id: 'campaign-monitor',
  title: 'Campaign Monitor',
  docsUrl: 'https://www.campaignmonitor.com/api/v3-3/subscribers/',
  connection: {
    schema: connectionSchema,
    async check(conn, ctx) {
      try {
        const clients = await createCampaignMonitorClient(conn, ctx).listClients();
        return ok({ clients: clients.length });
      } catch (error) {
        if (error instanceof OutflowError) return fail(error.code, error.message);
        return fail(
          'internal',
          `Checking Campaign Monitor for connection \`${ctx.connectionName}\` failed unexpectedly (${error instanceof Error ? error.name : 'unknown error'}).`,
        );
      }
    },
  },
  export: listSubscribers,
});
