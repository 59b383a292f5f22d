import { OutflowError } from '../../domain/errors.ts';
import { defineDestination, fail, ok } from '../kit/define.ts';
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
    async check(conn, ctx) {
      try {
        const lists = await createIterableClient(conn, ctx).getLists();
        return ok({ region: conn.region, baseUrl: baseUrlOf(conn), lists: lists.length });
      } catch (error) {
        if (error instanceof OutflowError) return fail(error.code, error.message);
        if (ctx.signal.aborted) return fail('cancelled', `Checking Iterable connection \`${ctx.connectionName}\` was cancelled.`);
        return fail(
          'internal',
          `Checking Iterable connection \`${ctx.connectionName}\` failed unexpectedly (${error instanceof Error ? error.name : 'unknown error'}).`,
        );
      }
    },
  },
  export: listMembership,
});
