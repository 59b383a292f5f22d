import fs from 'node:fs';
import path from 'node:path';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { startAutopilotFake } from '../src/destinations/autopilot/fake-autopilot.ts';
import { FAKE_API_KEY, FAKE_LIST_ID, startCampaignMonitorFake } from '../src/destinations/campaign-monitor/fake-campaign-monitor.ts';
import { getDestination } from '../src/destinations/index.ts';
import { startIterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import type { DestinationId, RecordExportDefinition } from '../src/destinations/kit/define.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake } from '../src/destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import type { Rate } from '../src/lib/rate-limit.ts';
import { writeCustomersParquet } from './data.ts';
import { codeVersion, formatInt, formatRatio, formatSeconds, printTable, seconds, tempDir } from './support.ts';

// `npm run bench -- destinations [--scale F] [--only ID]`: one real record export per marketing destination,
// through the engine (openHome … runExport), against the destination's fake configured with the rate we
// document and 50 ms of latency per request. The question it answers: does a run take the time the rate
// limit implies (batches ÷ rate), without being throttled? See bench/README.md.

const LATENCY_MS = 50;
/** Target: run time within this factor of the bound set by batch size and rate. */
const MAX_RATIO = 1.1;
const SEGMENT = 'everyone';
const PROGRESS_EVERY_MS = 30_000;

/** What a started fake gives the benchmark. */
interface StartedFake {
  /** The connection config that points at the fake (the rate is left at the destination's default). */
  connection: Record<string, unknown>;
  /** Export settings beside the mapping (list id, account ids). */
  settings: Record<string, unknown>;
  /**
   * Drops the fake's request log. Only Microsoft's fake can stop recording (`recordRequests: false`); the
   * others keep every request, bodies included, so a 1M-member run would hold ~100 MB of them.
   */
  dropRequestLog(): void;
  /** 429s counted by the fake itself, when it keeps such a count. */
  throttledByFake?(): number;
  close(): Promise<void>;
}

export interface DestinationCase {
  id: Exclude<DestinationId, 'sftp'>;
  /** Profiles at --scale 1. */
  seedProfiles: number;
  mapping: Record<string, string>;
  /** A connection config good enough for the schema to fill in defaults (the rate among them). */
  placeholder: Record<string, unknown>;
  /** The requests that carry a batch. */
  batchRequest: RegExp;
  start(rate: Rate, latencyMs: number): Promise<StartedFake>;
}

const PLACEHOLDER_URL = 'http://127.0.0.1:9';

export const DESTINATION_CASES: DestinationCase[] = [
  {
    id: 'microsoft-advertising',
    seedProfiles: 500_000,
    mapping: { email: 'email' },
    placeholder: { clientId: 'x', refreshToken: 'x', developerToken: 'x' },
    batchRequest: /\/CustomerListUserData\/Apply$/,
    async start(rate, latencyMs) {
      const fake = await startMicrosoftAdvertisingFake({
        // Microsoft counts calls in a sliding 60-second window; the fake allows what our documented rate sends.
        callsPerMinute: (rate.requests * 60_000) / rate.perMs,
        throttleWindowMs: 60_000,
        latencyMs,
        recordRequests: false,
      });
      return {
        connection: {
          clientId: FAKE_DEFAULTS.clientId,
          clientSecret: FAKE_DEFAULTS.clientSecret,
          refreshToken: FAKE_DEFAULTS.refreshToken,
          developerToken: FAKE_DEFAULTS.developerToken,
          baseUrl: fake.baseUrl,
          authorityUrl: fake.authorityUrl,
        },
        settings: { customerId: FAKE_DEFAULTS.customerId, accountId: FAKE_DEFAULTS.accountId },
        dropRequestLog: () => fake.requests.splice(0),
        close: () => fake.close(),
      };
    },
  },
  {
    id: 'campaign-monitor',
    seedProfiles: 1_000_000,
    mapping: { email: 'email', firstName: 'first_name', lastName: 'last_name' },
    placeholder: { apiKey: 'x' },
    batchRequest: /\/import\.json$/,
    async start(rate, latencyMs) {
      const fake = await startCampaignMonitorFake({ rateLimit: { requests: rate.requests, perMs: rate.perMs }, latencyMs });
      return {
        connection: { apiKey: FAKE_API_KEY, baseUrl: fake.url },
        settings: { listId: FAKE_LIST_ID },
        dropRequestLog: () => fake.requests.splice(0),
        close: () => fake.close(),
      };
    },
  },
  {
    id: 'iterable',
    seedProfiles: 1_000_000,
    mapping: { email: 'email', firstName: 'first_name' },
    placeholder: { apiKey: 'x' },
    batchRequest: /\/api\/lists\/subscribe$/,
    async start(rate, latencyMs) {
      const apiKey = 'bench-iterable-key';
      const fake = await startIterableFake({
        projects: [{ apiKey }],
        rateLimits: { 'POST /api/lists/subscribe': rate, 'POST /api/lists/unsubscribe': rate },
        latencyMs,
      });
      return {
        connection: { apiKey, baseUrl: fake.url },
        settings: {},
        dropRequestLog: () => fake.requests.splice(0),
        close: () => fake.close(),
      };
    },
  },
  {
    id: 'autopilot',
    seedProfiles: 100_000,
    mapping: { email: 'email', firstName: 'first_name', lastName: 'last_name' },
    placeholder: { apiKey: 'x' },
    batchRequest: /\/contacts$/,
    async start(rate, latencyMs) {
      const fake = await startAutopilotFake({ requestsPerSecond: (rate.requests * 1000) / rate.perMs, latencyMs });
      return {
        connection: { apiKey: fake.apiKey, baseUrl: fake.url },
        settings: {},
        dropRequestLog: () => fake.requests.splice(0),
        throttledByFake: () => fake.throttled,
        close: () => fake.close(),
      };
    },
  },
];

/** The pacing Outflow applies to a connection that leaves `requestsPerSecond` at its default. */
export function documentedRate(c: DestinationCase): Rate {
  const destination = getDestination(c.id);
  const kind = destination.export as RecordExportDefinition<unknown>;
  return kind.rate(destination.connection.schema.parse({ ...c.placeholder, baseUrl: PLACEHOLDER_URL }));
}

function batchSizeOf(c: DestinationCase): number {
  return (getDestination(c.id).export as RecordExportDefinition<unknown>).limits.batchSize;
}

interface RequestCounts {
  requests: number;
  batchRequests: number;
  throttled: number;
  failed: number;
}

/**
 * A fetch that counts what the engine sends and what comes back. The engine is the fake's only client, so
 * the 429s it receives are the 429s the fake answered.
 */
export function countingFetch(batchRequest: RegExp): { fetch: typeof fetch; counts: RequestCounts; reset(): void } {
  const counts: RequestCounts = { requests: 0, batchRequests: 0, throttled: 0, failed: 0 };
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    counts.requests += 1;
    if (batchRequest.test(url.pathname)) counts.batchRequests += 1;
    try {
      const response = await fetch(input, init);
      if (response.status === 429) counts.throttled += 1;
      return response;
    } catch (error) {
      counts.failed += 1;
      throw error;
    }
  };
  return {
    fetch: wrapped,
    counts,
    reset() {
      Object.assign(counts, { requests: 0, batchRequests: 0, throttled: 0, failed: 0 });
    },
  };
}

interface CaseResult {
  id: string;
  profiles: number;
  sent: number;
  batchSize: number;
  rate: Rate;
  batches: number;
  counts: RequestCounts;
  fakeThrottled: number | undefined;
  retries: number;
  seconds: number;
  boundSeconds: number;
}

export interface DestinationsBenchOptions {
  scale: number;
  only?: string | undefined;
  keep: boolean;
}

/** Runs every selected case; returns false when any run failed. */
export async function runDestinationsBench(options: DestinationsBenchOptions): Promise<boolean> {
  const cases = DESTINATION_CASES.filter((c) => options.only === undefined || c.id === options.only);
  const work = tempDir('destinations');
  const results: CaseResult[] = [];
  const failures: string[] = [];
  try {
    for (const c of cases) {
      try {
        results.push(await runCase(c, Math.max(1, Math.round(c.seedProfiles * options.scale)), path.join(work, c.id)));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push(`${c.id}: ${message}`);
        console.error(`  ${c.id} FAILED: ${message}`);
      }
    }
  } finally {
    if (options.keep) console.log(`Kept ${work}.`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
  report(results, options.scale);
  for (const failure of failures) console.error(`FAILED ${failure}`);
  return failures.length === 0;
}

async function runCase(c: DestinationCase, profiles: number, dir: string): Promise<CaseResult> {
  const rate = documentedRate(c);
  const batchSize = batchSizeOf(c);
  const perSecond = (rate.requests * 1000) / rate.perMs;
  console.log(`\n${c.id}: ${formatInt(profiles)} profiles, batches of ${formatInt(batchSize)}, documented rate ${perSecond} request(s)/s, ${LATENCY_MS} ms latency`);
  fs.mkdirSync(dir, { recursive: true });

  const setupStart = performance.now();
  const parquet = path.join(dir, 'customers.parquet');
  await writeCustomersParquet(parquet, profiles);
  const fake = await c.start(rate, LATENCY_MS);
  const counter = countingFetch(c.batchRequest);
  let home: Home | undefined;
  const logTimer = setInterval(() => fake.dropRequestLog(), 1_000);
  try {
    home = await openHome({ dir: path.join(dir, 'home'), env: { ...process.env, OUTFLOW_DATABASE_URL: '' }, fetch: counter.fetch });
    const entity = await loadEntity(home, 'Customer', parquet, { key: 'profile_id' });
    if (entity.rows !== profiles) throw new Error(`loaded ${entity.rows} profiles, expected ${profiles}`);
    await createSegment(home, { name: SEGMENT, where: 'profile_id is not null' });
    const [refreshed] = await refreshSegments(home, SEGMENT);
    if (refreshed?.members !== profiles) throw new Error(`segment ${SEGMENT} has ${refreshed?.members} members, expected ${profiles}`);
    await createConnection(home, { type: c.id, name: `bench ${c.id}`, config: fake.connection, acceptPrivacyTerms: true });
    await createExport(home, { name: `bench-${c.id}`, connection: `bench ${c.id}`, segments: [SEGMENT], config: { mapping: c.mapping, ...fake.settings } });
    console.log(`  generated, loaded, segmented and configured in ${formatSeconds(seconds(setupStart))} s (not timed); running…`);

    counter.reset();
    const throttledBefore = fake.throttledByFake?.() ?? 0;
    let retries = 0;
    let lastPrint = performance.now();
    const start = performance.now();
    const run = await runExport(home, `bench-${c.id}`, {
      onProgress({ rowsDone, rowsTotal }) {
        if (performance.now() - lastPrint < PROGRESS_EVERY_MS) return;
        lastPrint = performance.now();
        console.log(`  ${formatInt(rowsDone)} / ${formatInt(rowsTotal ?? 0)} after ${formatSeconds(seconds(start))} s`);
      },
      onRetry(message, delayMs) {
        retries += 1;
        console.log(`  retry in ${delayMs} ms: ${message}`);
      },
      onWarning(message) {
        console.log(`  warning: ${message}`);
      },
    });
    const elapsed = seconds(start);
    if (run.status !== 'succeeded') throw new Error(`run ${run.status}: ${run.error?.message ?? ''}`);
    if (run.sent !== profiles || run.rejected !== 0) throw new Error(`run sent ${run.sent} and rejected ${run.rejected} of ${profiles} profiles`);

    const batches = Math.ceil(profiles / batchSize);
    const result: CaseResult = {
      id: c.id,
      profiles,
      sent: run.sent,
      batchSize,
      rate,
      batches,
      counts: { ...counter.counts },
      fakeThrottled: fake.throttledByFake ? fake.throttledByFake() - throttledBefore : undefined,
      retries,
      seconds: elapsed,
      boundSeconds: batches / perSecond,
    };
    console.log(
      `  done in ${formatSeconds(elapsed)} s: ${formatInt(result.counts.requests)} requests (${formatInt(result.counts.batchRequests)} carrying batches), ` +
        `${result.counts.throttled} answered 429, bound ${formatSeconds(result.boundSeconds)} s, ratio ${formatRatio(elapsed / result.boundSeconds)}`,
    );
    return result;
  } finally {
    clearInterval(logTimer);
    await home?.close();
    await fake.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(results: CaseResult[], scale: number): void {
  if (results.length === 0) return;
  console.log('');
  console.log(`Record exports through the engine against each destination's fake: documented rate, ${LATENCY_MS} ms latency per request, scale ${scale}; code ${codeVersion()}.`);
  console.log(`bound = ceil(profiles / batch size) ÷ documented rate. Target: time within ${Math.round((MAX_RATIO - 1) * 100)}% of the bound, zero 429s.`);
  console.log('');
  printTable(
    ['destination', 'profiles', 'batch', 'rate/s', 'batches', 'requests', 'run s', 'bound s', 'time/bound', '429s', 'verdict'],
    results.map((r) => {
      const ratio = r.seconds / r.boundSeconds;
      const throttled = r.fakeThrottled === undefined || r.fakeThrottled === r.counts.throttled ? String(r.counts.throttled) : `${r.counts.throttled} (fake: ${r.fakeThrottled})`;
      return [
        r.id,
        formatInt(r.profiles),
        formatInt(r.batchSize),
        String((r.rate.requests * 1000) / r.rate.perMs),
        formatInt(r.batches),
        formatInt(r.counts.requests),
        formatSeconds(r.seconds),
        formatSeconds(r.boundSeconds),
        formatRatio(ratio),
        throttled,
        ratio <= MAX_RATIO && r.counts.throttled === 0 ? 'met' : 'MISSED',
      ];
    }),
  );
  for (const r of results) {
    console.log(
      `${r.id}: ${formatInt(r.counts.requests - r.counts.batchRequests)} request(s) besides batches (token, list lookup or creation), ` +
        `${formatInt(r.counts.batchRequests - r.batches)} extra batch request(s), ${r.retries} retr${r.retries === 1 ? 'y' : 'ies'}, ${r.counts.failed} network failure(s).`,
    );
  }
}
