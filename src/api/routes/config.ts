import { createRoute, z } from '@hono/zod-openapi';
import { applyConfig, exportConfig, mapResolver, planConfig } from '../../app/config-file/index.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { commonErrors, conflict, jsonBody, jsonResponse, security } from './route.ts';
import { idempotent } from '../idempotency.ts';

const tags = ['Configuration'];

const ConfigRequest = z
  .object({
    /** The configuration file's text (YAML), as the CLI read it: problems point at its lines and columns. */
    document: z.string().max(1_000_000),
    file: z.string().max(500).default('outflow.yaml'),
    /**
     * Values of the file's `${env:…}` and `${file:…}` references, resolved by the client (the CI job's
     * environment): the server never resolves a reference from its own environment or disk.
     */
    references: z.record(z.string(), z.string()).default({}),
    prune: z.boolean().default(false),
  })
  .openapi('ConfigRequest');

const Problem = z.object({ message: z.string(), path: z.string(), file: z.string(), line: z.number().int().optional(), column: z.number().int().optional() });

const ConfigPlan = z
  .object({
    file: z.string(),
    hash: z.string(),
    changes: z.array(
      z.object({
        kind: z.enum(['entity', 'segment', 'connection', 'export', 'schedule', 'notify']),
        name: z.string(),
        action: z.enum(['create', 'update', 'remove']),
        fields: z.array(z.object({ field: z.string(), from: z.unknown().optional(), to: z.unknown().optional(), secret: z.boolean().optional() })),
      }),
    ),
    problems: z.array(Problem),
    unlisted: z.array(z.object({ kind: z.string(), name: z.string() })),
    warnings: z.array(z.string()),
    applied: z.boolean(),
  })
  .openapi('ConfigPlan');

/** Outflow as code: the home's configuration as a file, and the plan and apply of one. */
export function registerConfigRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/config',
      operationId: 'exportConfig',
      tags,
      security,
      summary: "The home's configuration as a YAML file, secrets as ${env:…} references (administrators)",
      responses: { 200: jsonResponse(z.object({ yaml: z.string(), variables: z.array(z.string()) }), 'The file and the environment variables it references'), ...commonErrors },
    }),
    async (c) => c.json(await exportConfig(homeFor(deps, c)), 200),
  );
  for (const mode of ['plan', 'apply'] as const) {
    // Applying changes the home: a retried apply with its key is done once. A plan changes nothing.
    const route = createRoute({
      method: 'post',
      path: `/api/v1/config/${mode}`,
      operationId: mode === 'plan' ? 'planConfig' : 'applyConfig',
      tags,
      security,
      summary:
        mode === 'plan'
          ? 'What applying a configuration file would create, change and remove, and what would be refused; changes nothing'
          : 'Apply a configuration file, all or nothing (one transaction); refused while another apply runs',
      request: jsonBody(ConfigRequest),
      responses: {
        200: jsonResponse(ConfigPlan, mode === 'plan' ? 'The plan; `problems` lists what stops it, with line and column' : 'What was applied; with `problems`, nothing was'),
        ...commonErrors,
        ...conflict,
      },
    });
    app.openapi(mode === 'apply' ? idempotent(route) : route, async (c) => {
      const body = c.req.valid('json');
      const use = mode === 'plan' ? planConfig : applyConfig;
      const plan = await use(homeFor(deps, c), { text: body.document, file: body.file, resolve: mapResolver(body.references), prune: body.prune });
      return c.json(plan, 200);
    });
  }
}
