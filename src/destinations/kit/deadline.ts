/** How long one vendor request (an HTTP call, an SFTP request, a stalled upload) may go unanswered. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export interface Deadline {
  /** Aborts when `parent` aborts or when the time is up. */
  signal: AbortSignal;
  /** True once the time was up (as opposed to `parent` aborting). */
  readonly expired: boolean;
  /** Stops the timer; call it in `finally`. */
  clear(): void;
}

/**
 * A deadline that fires: a plain timer, held until `clear()`, aborting an AbortController. Not
 * `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: on Node 20 the inner timeout signal can be
 * garbage-collected before it fires (nodejs/node#57736), and a request that is never answered
 * then hangs for ever.
 *
 * @example
 * const deadline = createDeadline(30_000, ctx.signal)
 * try { await fetch(url, { signal: deadline.signal }) } finally { deadline.clear() }
 */
export function createDeadline(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  let expired = false;
  const onParentAbort = () => controller.abort(parent?.reason);
  const timer = setTimeout(() => {
    expired = true;
    const error = new Error(`No answer within ${ms} ms.`);
    error.name = 'TimeoutError';
    controller.abort(error);
  }, ms);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
