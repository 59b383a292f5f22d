import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Precondition } from '../app/versions.ts';

// Optimistic concurrency over HTTP (RFC 9110 §8.8.3, §13.1.1): GET and every edit answer the resource's ETag;
// an edit or removal that sends If-Match is refused with 412 when none of its ETags is the current one. Which
// version is current, and the compare-and-set that makes the check atomic with the write, are the use cases'
// (src/app/versions.ts): the CLI and the web app get the same answer.

/** One entity-tag: optionally weak (W/), then quoted characters (etagc: visible ASCII but `"`, and obs-text). */
const ENTITY_TAG = /\s*((?:W\/)?"[\x21\x23-\x7E\x80-\xFF]*")\s*(?:,|$)/y;

const EXAMPLE = '"exp_0mwt1ab2c3d4e5f6.3"';

/** The If-Match request header of an edit or a removal. */
export const IfMatchHeader = z.object({
  'If-Match': z
    .string()
    .optional()
    .openapi({
      description:
        'The ETag (or several, comma-separated) of the version this edit was made from, as GET or the `etag` member gave it; `*`: any version. When it is no longer the current version the edit is refused with 412 and nothing is saved. Optional: without it the edit applies to the current version.',
      example: EXAMPLE,
    }),
});

/** The ETag response header of an answer that shows an editable resource. */
export const ETagHeader = z.object({
  ETag: z.string().openapi({ description: 'The version shown: send it back as If-Match to edit or remove exactly this version. The same as the `etag` member.', example: EXAMPLE }),
});

/**
 * The precondition of a request: undefined without If-Match. A header that is neither `*` nor a list of quoted
 * entity-tags is a 400 (RFC 9110 defines no meaning for it; guessing one could overwrite a change). Weak tags
 * are kept: If-Match compares strongly, so they never match, and the edit gets 412.
 */
export function preconditionOf(c: Context): Precondition | undefined {
  const header = c.req.header('if-match');
  if (header === undefined) return undefined;
  if (header.trim() === '*') return { ifMatch: '*' };
  const tags: string[] = [];
  ENTITY_TAG.lastIndex = 0;
  while (ENTITY_TAG.lastIndex < header.length) {
    const match = ENTITY_TAG.exec(header);
    if (!match) {
      throw new HTTPException(400, {
        message: `The If-Match header is not valid: send * or the ETag exactly as GET answered it, quotes included (If-Match: ${EXAMPLE}).`,
      });
    }
    tags.push(match[1]!);
  }
  if (tags.length === 0) throw new HTTPException(400, { message: `The If-Match header is empty: send * or the ETag exactly as GET answered it, quotes included (If-Match: ${EXAMPLE}).` });
  return { ifMatch: tags };
}

/** Sets the ETag header of an answer showing `view` (a contributor's view of a connection has none), and returns the view. */
export function withETag<T extends object>(c: Context, view: T): T {
  if ('etag' in view && typeof view.etag === 'string') c.header('ETag', view.etag);
  return view;
}
