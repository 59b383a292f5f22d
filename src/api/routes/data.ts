import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createRoute, z } from '@hono/zod-openapi';
import { attachEntity, checkMayLoadEntity, createSegment, listEntities, listSegmentViews, loadEntity, MAX_SAMPLES, previewSegment, refreshSegments, removeSegment, sampleEntity, segmentView, updateSegment } from '../../app/data.ts';
import { nameOf } from '../../app/resolve.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { EntityInfo } from '../../store/profile/profile-store.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { linkNext, PageQuery, pageList, pageOf } from '../pagination.ts';
import { EntityAttach, EntitySamples, EntityView, IdParam, Removed, SegmentCreate, SegmentPatch, SegmentPreview, SegmentPreviewResult, SegmentRefreshResult, SegmentView } from '../schemas.ts';
import { commonErrors, conflict, editConflict, jsonBody, jsonResponse, notFound, preconditionFailed, security, unprocessable } from './route.ts';
import { ETagHeader, IfMatchHeader, preconditionOf, withETag } from '../preconditions.ts';
import { uploadDirPrefix } from '../../lib/scratch.ts';
import { idempotent } from '../idempotency.ts';

const tags = ['Segments and entities'];

function entityView(e: EntityInfo) {
  return { name: e.name, key: e.key, rows: e.rows, columns: e.columns, loadedAt: e.loadedAt, ...(e.attached ? { attached: e.attached } : {}) };
}

export function registerDataRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/entities/{name}/attach',
        operationId: 'attachEntity',
        tags,
        security,
        summary: 'Register an existing table or view as an entity, read live without copying (PostgreSQL profile store; administrators)',
        request: {
          params: z.object({ name: z.string().min(1).max(63).openapi({ param: { name: 'name', in: 'path' } }) }),
          ...jsonBody(EntityAttach),
        },
        responses: { 200: jsonResponse(EntityView, 'Attached'), ...commonErrors, ...notFound, ...conflict, ...unprocessable },
      }),
    ),
    async (c) => {
      const info = await attachEntity(homeFor(deps, c), c.req.valid('param').name, c.req.valid('json'));
      return c.json(entityView(info), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/v1/segments', operationId: 'listSegments', summary: 'List the segments with their member counts', tags, security, request: { query: z.object(PageQuery) }, responses: { 200: jsonResponse(pageOf(SegmentView, 'SegmentPage'), 'A page of segments with their member counts'), ...commonErrors } }),
    async (c) => {
      const page = pageList(await listSegmentViews(homeFor(deps, c)), (s) => s.name, c.req.valid('query'));
      linkNext(c, page.nextCursor);
      return c.json(page, 200);
    },
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/segments',
        operationId: 'createSegment', summary: 'Create a segment from a filter on an entity (refresh it to count its members)',
        tags,
        security,
        request: jsonBody(SegmentCreate),
        responses: { 201: jsonResponse(SegmentView, 'Created (refresh it to count its members)'), ...commonErrors, ...notFound, ...conflict, ...unprocessable },
      }),
    ),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(await segmentView(home, await createSegment(home, c.req.valid('json'))), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/segments/{id}',
      operationId: 'updateSegment',
      tags,
      security,
      summary: "Change a segment's filter (its membership is refreshed at once; If-Match: only if still at that version)",
      request: { params: IdParam, headers: IfMatchHeader, ...jsonBody(SegmentPatch) },
      responses: {
        200: { ...jsonResponse(SegmentView, 'The edited segment'), headers: ETagHeader },
        ...commonErrors,
        ...notFound,
        ...editConflict,
        ...preconditionFailed,
        ...unprocessable,
      },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const precondition = preconditionOf(c);
      return c.json(withETag(c, await segmentView(home, await updateSegment(home, await nameOf(home, 'segments', c.req.valid('param').id), c.req.valid('json'), precondition))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/segments/{id}',
      operationId: 'removeSegment',
      summary: 'Remove a segment that no export uses (If-Match: only if still at that version)',
      tags,
      security,
      request: { params: IdParam, headers: IfMatchHeader },
      responses: { 200: jsonResponse(Removed, 'Removed'), ...commonErrors, ...notFound, ...conflict, ...preconditionFailed },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const precondition = preconditionOf(c);
      const name = await nameOf(home, 'segments', c.req.valid('param').id);
      await removeSegment(home, name, precondition);
      return c.json({ removed: name }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/segments/preview',
      operationId: 'previewSegment',
      tags,
      security,
      summary: 'Count the profiles a filter selects, without saving a segment',
      request: jsonBody(SegmentPreview),
      responses: { 200: jsonResponse(SegmentPreviewResult, 'The member count the filter would give'), ...commonErrors, ...notFound, ...unprocessable },
    }),
    async (c) => c.json(await previewSegment(homeFor(deps, c), c.req.valid('json')), 200),
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/segments/refresh',
        operationId: 'refreshSegments',
        tags,
        security,
        summary: 'Re-materialize every segment',
        responses: { 200: jsonResponse(SegmentRefreshResult, 'Member counts'), ...commonErrors, ...unprocessable },
      }),
    ),
    async (c) => c.json(await refreshSegments(homeFor(deps, c)), 200),
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/segments/{id}/refresh',
        operationId: 'refreshSegment',
        tags,
        security,
        summary: 'Re-materialize one segment',
        request: { params: IdParam },
        responses: { 200: jsonResponse(SegmentRefreshResult, 'Member count'), ...commonErrors, ...notFound, ...unprocessable },
      }),
    ),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(await refreshSegments(home, await nameOf(home, 'segments', c.req.valid('param').id)), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/v1/entities', operationId: 'listEntities', summary: 'List the entities in the profile store', tags, security, responses: { 200: jsonResponse(z.array(EntityView), 'Entities in the profile store'), ...commonErrors } }),
    async (c) => {
      const entities = await listEntities(homeFor(deps, c));
      return c.json(
        entities.map((e) => entityView(e)),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/entities/{name}/samples',
      operationId: 'getEntitySamples',
      tags,
      security,
      summary: `A few distinct non-null values of each column (at most ${MAX_SAMPLES}, from the first rows only), for mapping fields; not for viewers`,
      request: {
        params: z.object({ name: z.string().min(1).max(63).openapi({ param: { name: 'name', in: 'path' } }) }),
        query: z.object({ limit: z.coerce.number().int().min(1).max(MAX_SAMPLES).optional().openapi({ description: `Values per column, 1 to ${MAX_SAMPLES} (default 3)` }) }),
      },
      responses: { 200: jsonResponse(EntitySamples, 'Sample values per column'), ...commonErrors, ...notFound, ...unprocessable },
    }),
    async (c) => c.json(await sampleEntity(homeFor(deps, c), c.req.valid('param').name, c.req.valid('query').limit ?? 3), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/entities/{name}',
      operationId: 'loadEntity',
      tags,
      security,
      summary: 'Load a CSV (with header) or Parquet file into an entity, replacing it atomically (administrators)',
      request: {
        params: z.object({ name: z.string().min(1).max(63).openapi({ param: { name: 'name', in: 'path' } }) }),
        query: z.object({
          key: z.string().max(200).optional(),
          delimiter: z.string().max(10).optional(),
          format: z.enum(['csv', 'parquet']).optional(),
          filename: z.string().max(200).optional().openapi({ description: "the file's name on the caller's machine, named in error messages" }),
        }),
        body: { content: { 'text/csv': { schema: z.string() }, 'application/vnd.apache.parquet': { schema: z.string() } }, required: true },
      },
      responses: { 200: jsonResponse(EntityView, 'Loaded'), ...commonErrors, ...unprocessable },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const { name } = c.req.valid('param');
      // Checked before the upload is read, so a refused caller cannot fill the disk.
      await checkMayLoadEntity(home, name);
      const query = c.req.valid('query');
      const format = query.format ?? (c.req.header('content-type')?.includes('parquet') ? 'parquet' : 'csv');
      const body = c.req.raw.body;
      if (!body) throw new ValidationError('Send the file as the request body.');
      // The upload streams to a private file next to the stores, never into memory; it is removed after the load.
      // It keeps the caller's file name (in a folder of its own), because a load error names the file: the
      // CLI through a server said "Could not load upload-2909-1795….csv", where without one it names the user's.
      const folder = fs.mkdtempSync(uploadDirPrefix(home.tmpDir));
      const file = path.join(folder, uploadName(query.filename, format));
      try {
        await pipeline(Readable.fromWeb(body as WebReadableStream), fs.createWriteStream(file, { mode: 0o600 }));
        const info = await loadEntity(home, name, file, { key: query.key, delimiter: query.delimiter });
        return c.json(entityView(info), 200);
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    },
  );
}

/** A safe local name for an upload: the caller's base name with only plain characters, else `upload.<format>`. */
function uploadName(given: string | undefined, format: string): string {
  const base = path.basename((given ?? '').replace(/\\/g, '/'));
  return /^[\w][\w .,()+-]*$/.test(base) && base.length <= 200 ? base : `upload.${format}`;
}
