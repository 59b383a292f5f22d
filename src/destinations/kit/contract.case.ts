import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryableError } from '../../domain/errors.ts';
import type { DestinationDefinition, ExportRecord, RecordExportDefinition } from './define.ts';
import { secretKeys } from './secret.ts';
import { createTestContext, type TestContext } from './testing.ts';

export interface RecordedRequest {
  method: string;
  /** Path without query string. */
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What the contract suite needs from a destination's fake server. */
export interface ContractFake {
  readonly requests: RecordedRequest[];
  /** The next request (optionally only one whose path contains `path`) answers `status`. */
  failNext(status: number, options?: { retryAfterS?: number; path?: string }): void;
  /** Records with these e-mail addresses get a per-record failure from the fake. */
  rejectEmails(emails: string[]): void;
}

export interface ContractSetup {
  fake: ContractFake;
  /** A connection config with valid credentials pointing at the fake. */
  config: Record<string, unknown>;
  /** The same with a credential the fake refuses. */
  badCredentials: Record<string, unknown>;
  /** Export settings valid against the fake (record destinations). */
  settings?: Record<string, unknown>;
  close(): Promise<void>;
}

export interface ContractHarness {
  destination: DestinationDefinition;
  start(): Promise<ContractSetup>;
  /** How many records one recorded request carried, or null for requests that carry none. */
  recordsIn?(request: RecordedRequest): number | null;
  /** Contract cases this destination cannot take, each with the reason. */
  skip?: Partial<Record<ContractCase, string>>;
}

export type ContractCase = 'batches-within-limits' | 'rejections-in-order' | 'throttling-is-retryable';

function records(count: number, offset = 0): ExportRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `p${offset + i}`,
    fields: { email: `member${offset + i}@example.com`, firstName: `First${offset + i}`, lastName: `Last${offset + i}` },
    extra: {},
  }));
}

function secretValues(harness: ContractHarness, config: Record<string, unknown>): string[] {
  return secretKeys(harness.destination.connection.schema)
    .map((key) => config[key])
    .filter((value): value is string => typeof value === 'string' && value.length >= 4);
}

/**
 * The behaviour every destination shares, run from each destination's test file:
 *
 * @example
 * runContractSuite({ destination: iterable, start: async () => { … }, recordsIn: (r) => JSON.parse(r.body).subscribers?.length ?? null })
 */
export function runContractSuite(harness: ContractHarness): void {
  const { destination } = harness;
  const exportKind = destination.export;
  const caseOrSkip = (name: ContractCase) => (harness.skip?.[name] ? it.skip : it);

  describe(`${destination.id}: destination contract`, () => {
    let setup: ContractSetup;
    let ctx: TestContext;
    const errors: string[] = [];

    beforeAll(async () => {
      setup = await harness.start();
      ctx = createTestContext({ connectionName: `contract-${destination.id}` });
    });
    afterAll(async () => {
      await setup?.close();
    });

    it('rejects an empty connection config', () => {
      const result = destination.connection.schema.safeParse({});
      expect(result.success).toBe(false);
    });

    it('marks its credentials as secrets', () => {
      expect(secretKeys(destination.connection.schema).length).toBeGreaterThan(0);
    });

    it('accepts the valid config and passes check()', async () => {
      const conn = destination.connection.schema.parse(setup.config);
      const result = await destination.connection.check(conn, ctx);
      expect(result).toMatchObject({ ok: true });
    });

    it('reports a refused credential from check() instead of throwing', async () => {
      const conn = destination.connection.schema.parse(setup.badCredentials);
      const result = await destination.connection.check(conn, ctx);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.code).toMatch(/auth_failed|token_expired/);
        errors.push(result.message);
      }
    });

    if (exportKind.kind === 'records') {
      const kind = exportKind as RecordExportDefinition<unknown>;

      caseOrSkip('batches-within-limits')('never sends more records in one request than its batch size', async () => {
        const conn = destination.connection.schema.parse(setup.config);
        const settings = kind.settings.parse(setup.settings ?? {});
        const session = await kind.open(conn, ctx);
        const target = await session.prepare({ segment: 'contract-batches', settings, members: kind.limits.batchSize });
        const before = setup.fake.requests.length;
        const outcome = await session.send({ action: 'add', records: records(kind.limits.batchSize), target, segment: 'contract-batches', settings });
        expect(outcome.rejected).toEqual([]);
        const counts = setup.fake.requests.slice(before).map((r) => harness.recordsIn?.(r) ?? null).filter((n): n is number => n !== null);
        expect(counts.length).toBeGreaterThan(0);
        expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(kind.limits.batchSize);
        for (const count of counts) expect(count).toBeLessThanOrEqual(kind.limits.batchSize);
        await session.close?.();
      });

      caseOrSkip('rejections-in-order')('reports per-record rejections at the positions of the rejected records', async () => {
        const conn = destination.connection.schema.parse(setup.config);
        const settings = kind.settings.parse(setup.settings ?? {});
        const session = await kind.open(conn, ctx);
        const target = await session.prepare({ segment: 'contract-rejections', settings, members: 10 });
        const batch = records(10, 1000);
        setup.fake.rejectEmails([batch[2]!.fields.email!, batch[7]!.fields.email!]);
        const outcome = await session.send({ action: 'add', records: batch, target, segment: 'contract-rejections', settings });
        expect(outcome.rejected.map((r) => r.index)).toEqual([2, 7]);
        for (const rejection of outcome.rejected) {
          expect(rejection.message.length).toBeGreaterThan(0);
          expect(rejection.message).not.toContain('@');
        }
        setup.fake.rejectEmails([]);
        await session.close?.();
      });

      caseOrSkip('throttling-is-retryable')('turns a 429 into a RetryableError that carries Retry-After', async () => {
        const conn = destination.connection.schema.parse(setup.config);
        const settings = kind.settings.parse(setup.settings ?? {});
        const session = await kind.open(conn, ctx);
        const target = await session.prepare({ segment: 'contract-throttle', settings, members: 3 });
        setup.fake.failNext(429, { retryAfterS: 7 });
        const error = await session.send({ action: 'add', records: records(3, 2000), target, segment: 'contract-throttle', settings }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RetryableError);
        expect((error as RetryableError).code).toBe('rate_limited');
        expect((error as RetryableError).retryAfterMs).toBe(7000);
        errors.push((error as Error).message);
        await session.close?.();
      });
    }

    it('never puts a secret in an error message or a log line', () => {
      const secrets = [...secretValues(harness, setup.config), ...secretValues(harness, setup.badCredentials)];
      expect(secrets.length).toBeGreaterThan(0);
      const everything = [...errors, ...ctx.logLines].join('\n');
      for (const value of secrets) expect(everything).not.toContain(value);
    });
  });
}
