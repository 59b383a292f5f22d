import { createRoute, z } from '@hono/zod-openapi';
import { listAuditEntries } from '../../app/audit.ts';
import { backupHome } from '../../app/backup.ts';
import { describeDestinations } from '../../app/destinations.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, linkNext, PageQuery, pageOf } from '../pagination.ts';
import { AuditEntryView, DestinationView } from '../schemas.ts';
import { commonErrors, jsonBody, jsonResponse, security, unprocessable } from './route.ts';
import { idempotent } from '../idempotency.ts';

const BackupView = z
  .object({
    path: z.string(),
    format: z.literal('outflow-backup'),
    version: z.literal(1),
    takenAt: z.iso.datetime({ offset: true }),
    schemaVersion: z.string(),
    files: z.array(z.object({ name: z.string(), bytes: z.number() })),
    key: z.enum(['included', 'left-out', 'environment']),
    keyCheck: z.string(),
    keyNote: z.string(),
    runsInProgress: z.array(z.string()),
  })
  .openapi('Backup');

export function registerAdminRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/destinations',
      operationId: 'listDestinations',
      tags: ['Destinations'],
      security,
      summary: "Every destination with the JSON Schema of its connection and export settings",
      responses: { 200: jsonResponse(z.array(DestinationView), 'Destinations'), ...commonErrors },
    }),
    (c) => c.json(describeDestinations(), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/audit',
      operationId: 'listAuditEntries',
      tags: ['Audit'],
      security,
      summary: 'The audit log, newest first (administrators)',
      request: {
        query: z.object({
          since: z.string().max(40).optional(),
          until: z.string().max(40).optional(),
          actor: z.string().max(200).optional(),
          action: z.string().max(100).optional(),
          ...PageQuery,
        }),
      },
      responses: { 200: jsonResponse(pageOf(AuditEntryView, 'AuditPage'), 'A page of entries, newest first'), ...commonErrors, ...unprocessable },
    }),
    async (c) => {
      const { cursor, limit = DEFAULT_PAGE_SIZE, ...filter } = c.req.valid('query');
      const after = decodeCursor(cursor, ['id'] as const);
      const entries = await listAuditEntries(homeFor(deps, c), { ...filter, limit: limit + 1, ...(after ? { beforeId: after.id } : {}) });
      const items = entries.slice(0, limit);
      const last = items[items.length - 1];
      const nextCursor = entries.length > limit && last ? encodeCursor({ id: last.id }) : null;
      linkNext(c, nextCursor);
      return c.json({ items, nextCursor }, 200);
    },
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/backup',
        operationId: 'backupHome',
        tags: ['Backup'],
        security,
        summary: "Backs the home up into a new or empty folder on the server's machine, while it serves and runs (administrators; audited)",
        description:
          'Writes metadata.sqlite (SQLite online backup), profiles.duckdb (one DuckDB snapshot), secret.key unless `withoutKey`, and backup.json. Refused (422) when the home keeps its data in PostgreSQL: use pg_dump.',
        request: jsonBody(z.object({ path: z.string().min(1).max(4096), withoutKey: z.boolean().optional() })),
        responses: { 200: jsonResponse(BackupView, 'The backup written'), ...commonErrors, ...unprocessable },
      }),
    ),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(await backupHome(homeFor(deps, c), { target: body.path, withoutKey: body.withoutKey ?? false }), 200);
    },
  );
}
