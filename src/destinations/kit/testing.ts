import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createMemoryRateLimiter, type RateLimiter } from '../../lib/rate-limit.ts';
import type { DestinationContext } from './define.ts';

export interface TestContext extends DestinationContext {
  /** Every log line written through `log`, as raw JSON text (to prove no secret leaks into logs). */
  logLines: string[];
  /** What `warn` received: the run warnings a destination raised. */
  warnings: string[];
  /** What `saveState` / `saveSecrets` received, merged. */
  savedState: Record<string, unknown>;
  savedSecrets: Record<string, string>;
}

/**
 * A {@link DestinationContext} for destination tests: real fetch and a real rate limiter, a logger that
 * records its lines, and in-memory `saveState` / `saveSecrets`.
 *
 * @example
 * const ctx = createTestContext({ connectionName: 'test-iterable' })
 * const session = await destination.export.open(conn, ctx)
 */
export function createTestContext(overrides: Partial<DestinationContext> = {}): TestContext {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(String(chunk));
      callback();
    },
  });
  const savedState: Record<string, unknown> = {};
  const savedSecrets: Record<string, string> = {};
  const warnings: string[] = [];
  const state: Record<string, unknown> = { ...(overrides.state ?? {}) };
  const limiter: RateLimiter = overrides.limiter ?? createMemoryRateLimiter();
  return {
    connectionName: 'test-connection',
    log: pino({ level: 'debug' }, sink),
    signal: new AbortController().signal,
    now: () => new Date(),
    fetch: globalThis.fetch,
    limiter,
    limiterKey: 'test',
    verifying: false,
    warn: (message) => void warnings.push(message),
    ...overrides,
    state,
    async saveState(patch) {
      Object.assign(savedState, patch);
      Object.assign(state, patch);
    },
    async saveSecrets(patch) {
      Object.assign(savedSecrets, patch);
    },
    logLines,
    warnings,
    savedState,
    savedSecrets,
  };
}
