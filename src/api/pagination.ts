import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './page-limits.ts';

/**
 * Cursor pagination, the same on every list: `limit` (default {@link DEFAULT_PAGE_SIZE}, at most
 * {@link MAX_PAGE_SIZE}) and an opaque `cursor`; the answer is `{items, nextCursor}` plus a `Link: <…>;
 * rel="next"` header while there is more. Never a silent cut: a list ends only when `nextCursor` is null.
 */
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE };

export const PageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .optional()
    .openapi({ description: `Items per page: default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}`, example: DEFAULT_PAGE_SIZE }),
  cursor: z.string().min(1).max(1000).optional().openapi({ description: 'Opaque: the nextCursor of the page before; absent for the first page' }),
};

/** A page of `item`: the component `<name>`. */
export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().openapi({ description: 'Send it as `cursor` for the next page; null on the last page' }),
    })
    .openapi(name);
}

/** A cursor is the position after the last item of a page, base64url JSON: opaque to clients, checked when read. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeCursor<K extends string>(cursor: string | undefined, keys: readonly K[]): Record<K, string> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (value && typeof value === 'object' && keys.every((k) => typeof value[k] === 'string' || typeof value[k] === 'number')) {
      return Object.fromEntries(keys.map((k) => [k, String(value[k])])) as Record<K, string>;
    }
  } catch {
    // answered below
  }
  // A 400 like any other malformed request (invalid_request): the cursor did not come from this list.
  throw new HTTPException(400, { message: 'The cursor is not one this list gave: send the nextCursor of the page before unchanged, or leave it out for the first page.' });
}

/**
 * Pages a list the use case returns whole (connections, exports, segments, users, tokens: tens to hundreds of
 * items), in the use case's order. The cursor names the last item's key, so an item removed or added between
 * two pages neither repeats nor skips another; if that item itself is gone, the page goes on from its index.
 */
export function pageList<T>(items: T[], keyOf: (item: T) => string, query: { limit?: number; cursor?: string }): { items: T[]; nextCursor: string | null } {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const after = decodeCursor(query.cursor, ['key', 'index'] as const);
  let start = 0;
  if (after) {
    const found = items.findIndex((item) => keyOf(item) === after.key);
    start = found >= 0 ? found + 1 : Math.min(items.length, Number(after.index) + 1 || 0);
  }
  const page = items.slice(start, start + limit);
  const last = start + page.length - 1;
  const more = start + page.length < items.length;
  return { items: page, nextCursor: more && page.length > 0 ? encodeCursor({ key: keyOf(page[page.length - 1]!), index: last }) : null };
}

/** Sets `Link: <same URL with cursor=next>; rel="next"` (RFC 8288) when there is a next page. */
export function linkNext(c: Context, nextCursor: string | null): void {
  if (!nextCursor) return;
  const url = new URL(c.req.url);
  url.searchParams.set('cursor', nextCursor);
  c.header('Link', `<${url.pathname}${url.search}>; rel="next"`);
}
