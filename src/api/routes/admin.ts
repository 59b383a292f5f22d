import { createRoute, z } from '@hono/zod-openapi';
import { listAuditEntries } from '../../app/audit.ts';
import { describeDestinations } from '../../app/destinations.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { AuditEntryView, DestinationView } from '../schemas.ts';
import { commonErrors, jsonResponse, security, unprocessable } from './route.ts';

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
          limit: z.coerce.number().int().min(1).max(10_000).optional(),
        }),
      },
      responses: { 200: jsonResponse(z.array(AuditEntryView), 'Entries'), ...commonErrors, ...unprocessable },
    }),
    async (c) => c.json(await listAuditEntries(homeFor(deps, c), c.req.valid('query')), 200),
  );
}
