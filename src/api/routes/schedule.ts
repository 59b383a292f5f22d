import { createRoute } from '@hono/zod-openapi';
import { nameOf } from '../../app/resolve.ts';
import { summarizeRun } from '../../app/runs.ts';
import { pauseExport, refreshAll, resumeExport, setExportSchedule, setSchedule, showSchedule, turnScheduleOff } from '../../app/schedule.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { ExportScheduleSet, ExportScheduleView, IdParam, RefreshResultView, ScheduleSet, ScheduleView } from '../schemas.ts';
import { commonErrors, jsonBody, jsonResponse, notFound, preconditionFailed, security, unprocessable } from './route.ts';
import { idempotent } from '../idempotency.ts';
import { ETagHeader, IfMatchHeader, preconditionOf, withETag } from '../preconditions.ts';

const tags = ['Schedule'];

export function registerScheduleRoutes(app: ApiApp, deps: ApiDeps): void {
  // The scheduler looks at a changed schedule at once; not awaited, since it may be busy with a refresh.
  const scheduleChanged = () => void deps.scheduler?.wake();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/schedule',
      operationId: 'getSchedule',
      tags,
      security,
      summary: "The home's refresh schedule, its next 5 fire times, and the exports scheduled on their own or paused",
      responses: { 200: { ...jsonResponse(ScheduleView, 'The schedule'), headers: ETagHeader }, ...commonErrors },
    }),
    async (c) => c.json(withETag(c, await showSchedule(homeFor(deps, c))), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/schedule',
      operationId: 'setSchedule',
      tags,
      security,
      summary: 'Set the refresh schedule (administrators): days + times, or a cron expression, in an IANA time zone',
      request: { headers: IfMatchHeader, ...jsonBody(ScheduleSet) },
      responses: { 200: { ...jsonResponse(ScheduleView, 'The new schedule'), headers: ETagHeader }, ...commonErrors, ...unprocessable, ...preconditionFailed },
    }),
    async (c) => {
      const precondition = preconditionOf(c);
      const view = await setSchedule(homeFor(deps, c), c.req.valid('json'), precondition);
      scheduleChanged();
      return c.json(withETag(c, view), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/schedule',
      operationId: 'turnScheduleOff',
      tags,
      security,
      summary: 'Turn the scheduled refresh off (administrators); exports with their own schedule keep it',
      request: { headers: IfMatchHeader },
      responses: { 200: { ...jsonResponse(ScheduleView, 'The schedule, now off'), headers: ETagHeader }, ...commonErrors, ...preconditionFailed },
    }),
    async (c) => {
      const precondition = preconditionOf(c);
      const view = await turnScheduleOff(homeFor(deps, c), precondition);
      scheduleChanged();
      return c.json(withETag(c, view), 200);
    },
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/refresh',
        operationId: 'refreshNow',
        tags,
        security,
        summary: 'One refresh now (administrators): every segment, then every export that is not paused and has no schedule of its own',
        responses: { 202: jsonResponse(RefreshResultView, 'Segments refreshed; runs queued (follow them with GET /api/runs/{id}), or failed saying why'), ...commonErrors },
      }),
    ),
    async (c) => {
      const home = homeFor(deps, c);
      const result = await refreshAll(home, (run) => deps.runs.start(run.id, home.actor));
      return c.json({ segments: result.segments, runs: await Promise.all(result.runs.map((run) => summarizeRun(home, run))) }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/exports/{id}/schedule',
      operationId: 'setExportSchedule',
      tags,
      security,
      summary: "Give an export its own schedule (a cron expression in a zone); it then leaves the home's refresh",
      request: { params: IdParam, headers: IfMatchHeader, ...jsonBody(ExportScheduleSet) },
      responses: { 200: jsonResponse(ExportScheduleView, "The export's schedule"), ...commonErrors, ...notFound, ...unprocessable, ...preconditionFailed },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const precondition = preconditionOf(c);
      const view = await setExportSchedule(home, await nameOf(home, 'exports', c.req.valid('param').id), c.req.valid('json'), precondition);
      scheduleChanged();
      return c.json(view, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/exports/{id}/schedule',
      operationId: 'removeExportSchedule',
      tags,
      security,
      summary: "Take an export's own schedule away: it runs with the home's refresh again",
      request: { params: IdParam, headers: IfMatchHeader },
      responses: { 200: jsonResponse(ExportScheduleView, "The export's schedule"), ...commonErrors, ...notFound, ...unprocessable, ...preconditionFailed },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const precondition = preconditionOf(c);
      const view = await setExportSchedule(home, await nameOf(home, 'exports', c.req.valid('param').id), null, precondition);
      scheduleChanged();
      return c.json(view, 200);
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/v1/exports/{id}/${action}`,
        operationId: action === 'pause' ? 'pauseExport' : 'resumeExport',
        tags,
        security,
        summary: action === 'pause' ? 'Leave the export out of scheduled refreshes until resumed' : 'Put a paused export back into scheduled refreshes',
        request: { params: IdParam },
        responses: { 200: jsonResponse(ExportScheduleView, "The export's schedule"), ...commonErrors, ...notFound, ...unprocessable },
      }),
      async (c) => {
        const home = homeFor(deps, c);
        const name = await nameOf(home, 'exports', c.req.valid('param').id);
        const view = action === 'pause' ? await pauseExport(home, name) : await resumeExport(home, name);
        scheduleChanged();
        return c.json(view, 200);
      },
    );
  }
}
