import { createRoute, z } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { queueResume } from '../../app/exports.ts';
import { cancelRun, listRunItems, rejectionsCsv, rejectionsPage, showRun } from '../../app/runs.ts';
import { runStatuses } from '../../domain/model.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { Rejection, RunListItem, RunSummary } from '../schemas.ts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, linkNext, PageQuery, pageOf } from '../pagination.ts';
import { commonErrors, conflict, jsonResponse, notFound, RunLocation, runLocation, security, unprocessable } from './route.ts';
import { idempotent } from '../idempotency.ts';

const tags = ['Runs'];
const RunId = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' }, example: 'run_0mwt1ab2c3d4e5f6' }) });

export function registerRunRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/runs',
      operationId: 'listRuns',
      tags,
      security,
      summary: 'Run history, newest first',
      request: {
        query: z.object({
          export: z.string().max(200).optional(),
          ...PageQuery,
          // Plain strings here: the use case checks them and says what it takes, the same words as the CLI.
          status: z.string().max(40).optional().openapi({ description: `Only runs in this state: ${runStatuses.join(', ')}`, example: 'failed' }),
          since: z
            .string()
            .max(40)
            .optional()
            .openapi({ description: 'Only runs queued at or after this: a date (midnight UTC) or an ISO 8601 date-time with its offset', example: '2026-11-01' }),
        }),
      },
      responses: { 200: jsonResponse(pageOf(RunListItem, 'RunPage'), 'A page of runs, newest first'), ...commonErrors, ...notFound, ...unprocessable },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const limit = query.limit ?? DEFAULT_PAGE_SIZE;
      const after = decodeCursor(query.cursor, ['queuedAt', 'id'] as const);
      // One more than the page: whether there is a next page is known without a count.
      const runs = await listRunItems(homeFor(deps, c), { export: query.export, limit: limit + 1, status: query.status, since: query.since, ...(after ? { before: after } : {}) });
      const items = runs.slice(0, limit);
      const last = items[items.length - 1];
      const nextCursor = runs.length > limit && last ? encodeCursor({ queuedAt: last.queuedAt, id: last.id }) : null;
      linkNext(c, nextCursor);
      return c.json({ items, nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/runs/{id}/rejections',
      operationId: 'listRunRejections',
      tags,
      security,
      summary: "A page of a run's rejected records, in order (the whole resume chain, as the CSV); not for viewers",
      request: { params: RunId, query: z.object(PageQuery) },
      responses: { 200: jsonResponse(pageOf(Rejection, 'RejectionPage'), 'A page of rejected records'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const query = c.req.valid('query');
      const after = decodeCursor(query.cursor, ['run', 'seq'] as const);
      const page = await rejectionsPage(homeFor(deps, c), id, { limit: query.limit ?? DEFAULT_PAGE_SIZE, ...(after ? { after: { run: after.run, seq: Number(after.seq) } } : {}) });
      if (!page) throw new HTTPException(400, { message: `The cursor is not one the rejections of run ${id} gave: send the nextCursor of the page before unchanged, or leave it out for the first page.` });
      const nextCursor = page.next ? encodeCursor({ run: page.next.run, seq: page.next.seq }) : null;
      linkNext(c, nextCursor);
      return c.json({ items: page.items, nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/runs/{id}/rejections.csv',
      operationId: 'getRunRejectionsCsv',
      tags,
      security,
      summary: 'Every rejected record of a run as CSV (key, segment, code, reason), streamed; not for viewers',
      request: { params: RunId },
      responses: {
        200: { content: { 'text/csv': { schema: z.string().openapi({ example: 'key,segment,code,reason\r\n42,gold,invalid_email,The e-mail address has no domain.\r\n' }) } }, description: 'RFC 4180 CSV with a header line' },
        ...commonErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const lines = (await rejectionsCsv(homeFor(deps, c), id))[Symbol.asyncIterator]();
      const encoder = new TextEncoder();
      // Pulled page by page as the client reads: a slow reader slows the database reads, nothing piles up.
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await lines.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        },
        async cancel() {
          await lines.return?.();
        },
      });
      return c.body(body, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="rejections-${id}.csv"` });
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/v1/runs/{id}', operationId: 'getRun', summary: 'Show a run, with its progress while it runs', tags, security, request: { params: RunId }, responses: { 200: jsonResponse(RunSummary, 'The run, with progress'), ...commonErrors, ...notFound } }),
    async (c) => c.json(await showRun(homeFor(deps, c), c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/runs/{id}/cancel',
      operationId: 'cancelRun',
      tags,
      security,
      summary: 'Stop a queued or running run; what was delivered stays delivered and is counted',
      request: { params: RunId },
      responses: { 200: jsonResponse(RunSummary, 'The run as it is now; it ends cancelled within seconds'), ...commonErrors, ...notFound, ...conflict },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const id = c.req.valid('param').id;
      await cancelRun(home, id, (runId, status) => deps.runs.cancel(runId, status));
      return c.json(await showRun(home, id), 200);
    },
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/runs/{id}/resume',
        operationId: 'resumeRun',
        tags,
        security,
        summary: 'Continue a failed or cancelled run from its checkpoint, as a new run',
        request: { params: RunId },
        responses: { 202: { ...jsonResponse(RunSummary, 'The new run, queued'), headers: RunLocation }, ...commonErrors, ...notFound, ...conflict, ...unprocessable },
      }),
    ),
    async (c) => {
      const home = homeFor(deps, c);
      const run = await queueResume(home, c.req.valid('param').id);
      deps.runs.start(run.id, home.actor);
      c.header('Location', runLocation(run.id));
      return c.json(await showRun(home, run.id), 202);
    },
  );
}
