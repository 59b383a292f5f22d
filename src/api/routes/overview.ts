import { createRoute, z } from '@hono/zod-openapi';
import { listSegmentRefreshes } from '../../app/data.ts';
import { OVERVIEW_DEFAULT_DAYS, OVERVIEW_MAX_DAYS, showOverview } from '../../app/overview.ts';
import { nameOf } from '../../app/resolve.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, linkNext, PageQuery, pageOf } from '../pagination.ts';
import { IdParam, Overview, SegmentRefresh } from '../schemas.ts';
import { commonErrors, jsonResponse, notFound, security } from './route.ts';

/** The figures behind the web app's pictures: the overview, and a segment's member count over its refreshes. */
export function registerOverviewRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/overview',
      operationId: 'getOverview',
      tags: ['Status'],
      security,
      summary: 'The home at a glance: runs per day by outcome, rows per destination, exports that need attention, the next scheduled refresh',
      request: {
        query: z.object({
          days: z.coerce
            .number()
            .int()
            .min(1)
            .max(OVERVIEW_MAX_DAYS)
            .optional()
            .openapi({ description: `The window in days, today (UTC) included: default ${OVERVIEW_DEFAULT_DAYS}, at most ${OVERVIEW_MAX_DAYS}`, example: OVERVIEW_DEFAULT_DAYS }),
        }),
      },
      responses: { 200: jsonResponse(Overview, 'The overview (any signed-in account)'), ...commonErrors },
    }),
    async (c) => {
      const { days } = c.req.valid('query');
      return c.json(await showOverview(homeFor(deps, c), days === undefined ? {} : { days }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/segments/{id}/refreshes',
      operationId: 'listSegmentRefreshes',
      tags: ['Segments and entities'],
      security,
      summary: "A segment's member count at each of its refreshes, newest first",
      request: { params: IdParam, query: z.object(PageQuery) },
      responses: { 200: jsonResponse(pageOf(SegmentRefresh, 'SegmentRefreshPage'), 'A page of refreshes, newest first'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const query = c.req.valid('query');
      const limit = query.limit ?? DEFAULT_PAGE_SIZE;
      const after = decodeCursor(query.cursor, ['at', 'id'] as const);
      // One more than the page: whether there is a next page is known without a count.
      const points = await listSegmentRefreshes(home, await nameOf(home, 'segments', c.req.valid('param').id), { limit: limit + 1, ...(after ? { before: after } : {}) });
      const items = points.slice(0, limit);
      const last = items[items.length - 1];
      const nextCursor = points.length > limit && last ? encodeCursor({ at: last.at, id: last.id }) : null;
      linkNext(c, nextCursor);
      return c.json({ items: items.map((p) => ({ at: p.at, members: p.members })), nextCursor }, 200);
    },
  );
}
