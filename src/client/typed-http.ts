import type { Readable } from 'node:stream';
import type { PathsWithMethod } from 'openapi-typescript-helpers';
import type { Http } from './http.ts';
import type { paths } from './openapi.d.ts';

// The CLI's remote calls, typed by the API document the server serves: `paths` is generated from it by
// openapi-typescript (npm run openapi:types; a test fails when the committed file is stale). A path the
// document lacks, a method it does not give a path, a parameter or body key it does not list, does not compile;
// each answer has the type the document gives its 2xx.
//
// Types only: the requests go through the node:http client (http.ts), which keeps the CLI from loading fetch
// (undici) at every command, renews the local token and waits out the API's rate limit.

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Operation<M extends Method, P extends PathsWithMethod<paths, M>> = paths[P][M];

type OkStatus = 200 | 201 | 202;
/** The JSON body of the operation's 2xx answers. */
export type Answer<O> = O extends { responses: infer R }
  ? { [S in keyof R & OkStatus]: R[S] extends { content: { 'application/json': infer X } } ? X : never }[keyof R & OkStatus]
  : never;

type PathParams<O> = O extends { parameters: { path: infer X } } ? X : never;
type QueryParams<O> = O extends { parameters: { query?: infer X } } ? X : never;
type JsonBody<O> = O extends { requestBody: { content: { 'application/json': infer X } } }
  ? { body: X }
  : O extends { requestBody?: { content: { 'application/json': infer X } } }
    ? { body?: X }
    : { body?: never };

type HeaderParams<O> = O extends { parameters: { header?: infer X } } ? X : never;
/** `idempotent` (send an Idempotency-Key) only where the operation takes one. */
type Idempotent<O> = [HeaderParams<O>] extends [never | undefined]
  ? { idempotent?: never }
  : 'Idempotency-Key' extends keyof NonNullable<HeaderParams<O>>
    ? { idempotent?: boolean }
    : { idempotent?: never };

/** `ifMatch` (an edit only over that version, an ETag) only where the operation takes If-Match. */
type IfMatch<O> = [HeaderParams<O>] extends [never | undefined]
  ? { ifMatch?: never }
  : 'If-Match' extends keyof NonNullable<HeaderParams<O>>
    ? { ifMatch?: string | undefined }
    : { ifMatch?: never };

/** What one call sends, as the document types it: `path` parameters, `query`, a JSON `body`, an Idempotency-Key, If-Match. */
export type Init<O> = ([PathParams<O>] extends [never | undefined] ? { path?: never } : { path: PathParams<O> }) &
  ([QueryParams<O>] extends [never | undefined] ? { query?: never } : { query?: QueryParams<O> }) &
  JsonBody<O> &
  Idempotent<O> &
  IfMatch<O> & { timeoutMs?: number };

/** The init argument: required when the operation has path parameters or a required body. */
type InitArg<O> = {} extends Init<O> ? [init?: Init<O>] : [init: Init<O>];

type Call<M extends Method> = <P extends PathsWithMethod<paths, M>>(path: P, ...init: InitArg<Operation<M, P>>) => Promise<Answer<Operation<M, P>>>;

export interface Api {
  readonly url: string;
  get: Call<'get'>;
  post: Call<'post'>;
  put: Call<'put'>;
  patch: Call<'patch'>;
  delete: Call<'delete'>;
  /** A GET whose answer is text streamed as it arrives (rejections.csv). */
  stream<P extends PathsWithMethod<paths, 'get'>>(path: P, init: { path: PathParams<Operation<'get', P>> }): Promise<AsyncIterable<string>>;
  /** A PUT whose body is a file streamed from disk (an entity's CSV or Parquet). */
  upload<P extends PathsWithMethod<paths, 'put'>>(
    path: P,
    init: { path: PathParams<Operation<'put', P>>; query?: QueryParams<Operation<'put', P>> },
    raw: Readable,
    contentType: string,
  ): Promise<Answer<Operation<'put', P>>>;
}

/** `/api/v1/runs/{id}` with `{ id }` → `/api/v1/runs/<id, URL-encoded>`. */
export function fillPath(template: string, params: Record<string, unknown> | undefined): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new Error(`${template}: no value for {${name}}`);
    return encodeURIComponent(String(value));
  });
}

type Query = Record<string, string | number | boolean | undefined>;
type AnyInit = { path?: Record<string, unknown>; query?: Query; body?: unknown; timeoutMs?: number; idempotent?: boolean; ifMatch?: string | undefined };

export function typedApi(http: Http): Api {
  const call =
    (method: string) =>
    (path: string, init: AnyInit = {}): Promise<never> =>
      http.request(method, fillPath(path, init.path), {
        ...(init.query ? { query: init.query } : {}),
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.timeoutMs !== undefined ? { timeoutMs: init.timeoutMs } : {}),
        ...(init.idempotent ? { idempotent: true } : {}),
        ...(init.ifMatch ? { ifMatch: init.ifMatch } : {}),
      });
  return {
    url: http.url,
    get: call('GET') as Call<'get'>,
    post: call('POST') as Call<'post'>,
    put: call('PUT') as Call<'put'>,
    patch: call('PATCH') as Call<'patch'>,
    delete: call('DELETE') as Call<'delete'>,
    stream: (path, init) => http.stream(fillPath(path, init.path as Record<string, unknown>)),
    upload: (path, init, raw, contentType) =>
      http.request('PUT', fillPath(path, init.path as Record<string, unknown>), { raw, contentType, ...(init.query ? { query: init.query as Query } : {}) }),
  };
}
