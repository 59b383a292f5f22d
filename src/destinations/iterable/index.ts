import { defineDestination, ok, probe } from '../kit/define.ts';
import { createIterableClient } from './client.ts';
import { baseUrlOf, connectionSchema } from './connection.ts';
import { listMembership } from './list-membership.ts';

export default defineDestination({
  id: 'iterable',
  title: 'Iterable',
  docsUrl: 'https://api.iterable.com/api/docs',
  connection: {
    schema: connectionSchema,
    // GET /api/lists is the cheapest authenticated read, and the first call every run makes anyway.
    check: (conn, ctx) =>
      probe('Iterable', ctx, async () => {
        const lists = await createIterableClient(conn, ctx).getLists();
        return ok({ region: conn.region, baseUrl: baseUrlOf(conn), lists: lists.length });
      }),
  },
  export: listMembership,
});
