import { defineDestination, ok, probe } from '../kit/define.ts';
import { createCampaignMonitorClient } from './client.ts';
import { connectionSchema } from './connection.ts';
import { listSubscribers } from './list-subscribers.ts';

export default defineDestination({
  id: 'campaign-monitor',
  title: 'Campaign Monitor',
  docsUrl: 'https://www.campaignmonitor.com/api/v3-3/subscribers/',
  connection: {
    schema: connectionSchema,
    check: (conn, ctx) =>
      probe('Campaign Monitor', ctx, async () => ok({ clients: (await createCampaignMonitorClient(conn, ctx).listClients()).length })),
  },
  export: listSubscribers,
});
