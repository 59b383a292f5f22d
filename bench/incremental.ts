import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import type { Run, SyncMode } from '../src/domain/model.ts';
import { customersQuery, sqlText } from './data.ts';
import { countingFetch, DESTINATION_CASES, documentedRate } from './destinations.ts';
import { codeVersion, formatInt, formatSeconds, printTable, seconds, tempDir } from './support.ts';

// `npm run bench -- incremental [--members N]`: a segment of N members to the Iterable and Campaign Monitor
// fakes at their documented rates and 50 ms latency, in mirror mode: a first run (everyone), a re-run after
// 1 % of the members changed (0.5 % joined, 0.3 % left, 0.2 % changed e-mail), and a re-run with nothing
// changed. Campaign Monitor also runs in upsert mode, because its removals are one request per address.

export const DEFAULT_MEMBERS = 1_000_000;
const LATENCY_MS = 50;
const SEGMENT = 'members';

/** Requests that carry members (adds, updates, removals), per destination. */
const MEMBER_REQUESTS: Record<string, RegExp> = {
  iterable: /\/api\/lists\/(un)?subscribe$/,
  'campaign-monitor': /\/subscribers\/[^/]+(\/import|\/unsubscribe)?\.json$/,
};

interface Step {
  label: string;
  seconds: number;
  requests: number;
  memberRequests: number;
  run: Run;
}

interface Case {
  id: 'iterable' | 'campaign-monitor';
  syncMode: SyncMode;
}

/**
 * Two versions of the profiles: version 1 has N members (`member`), version 2 has 0.3 % of them leave
 * (profile_id % 1000 in 0..2), 0.2 % with a new e-mail (% 1000 in 3..4) and N / 200 new members joined.
 */
export async function writeVersions(dir: string, members: number): Promise<{ v1: string; v2: string }> {
  const joined = Math.round(members / 200);
  const rows = members + joined;
  const v1 = path.join(dir, 'v1.parquet');
  const v2 = path.join(dir, 'v2.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    await con.run(`CREATE TABLE base AS SELECT *, profile_id <= ${members} AS member FROM (${customersQuery(rows)})`);
    await con.run(`COPY base TO ${sqlText(v1)} (FORMAT parquet)`);
    await con.run(
      `COPY (SELECT * REPLACE (` +
        `CASE WHEN profile_id <= ${members} AND profile_id % 1000 IN (3, 4) THEN 'changed.' || email ELSE email END AS email, ` +
        `CASE WHEN profile_id > ${members} THEN true WHEN profile_id % 1000 IN (0, 1, 2) THEN false ELSE member END AS member) FROM base) TO ${sqlText(v2)} (FORMAT parquet)`,
    );
  } finally {
    con.closeSync();
    instance.closeSync();
  }
  return { v1, v2 };
}

async function runCase(c: Case, members: number, files: { v1: string; v2: string }, dir: string): Promise<Step[]> {
  const destination = DESTINATION_CASES.find((d) => d.id === c.id)!;
  const rate = documentedRate(destination);
  console.log(`\n${c.id} (${c.syncMode}): ${formatInt(members)} members, documented rate ${(rate.requests * 1000) / rate.perMs} request(s)/s, ${LATENCY_MS} ms latency`);
  const fake = await destination.start(rate, LATENCY_MS);
  const counter = countingFetch(MEMBER_REQUESTS[c.id]!);
  const logTimer = setInterval(() => fake.dropRequestLog(), 1_000);
  let home: Home | undefined;
  const steps: Step[] = [];
  try {
    home = await openHome({ dir: path.join(dir, 'home'), env: { ...process.env, OUTFLOW_DATABASE_URL: '' }, fetch: counter.fetch });
    await loadEntity(home, 'Customer', files.v1, { key: 'profile_id' });
    await createSegment(home, { name: SEGMENT, where: 'member' });
    await refreshSegments(home, SEGMENT);
    await createConnection(home, { type: c.id, name: `bench ${c.id}`, config: fake.connection, acceptPrivacyTerms: true });
    await createExport(home, { name: `bench-${c.id}`, connection: `bench ${c.id}`, segments: [SEGMENT], config: { mapping: destination.mapping, ...fake.settings, syncMode: c.syncMode } });

    const step = async (label: string) => {
      counter.reset();
      const start = performance.now();
      const run = await runExport(home!, `bench-${c.id}`);
      const elapsed = seconds(start);
      if (run.status !== 'succeeded') throw new Error(`${label}: run ${run.status}: ${run.error?.message ?? ''}`);
      const result: Step = { label, seconds: elapsed, requests: counter.counts.requests, memberRequests: counter.counts.batchRequests, run };
      const source = run.sources[0]!;
      console.log(
        `  ${label}: ${formatSeconds(elapsed)} s, ${formatInt(result.requests)} requests (${formatInt(result.memberRequests)} with members); ` +
          `sent ${formatInt(run.sent)} (added ${formatInt(source.added ?? 0)}, updated ${formatInt(source.updated ?? 0)}), removed ${formatInt(source.removed ?? 0)}, unchanged ${formatInt(source.unchanged ?? 0)}`,
      );
      steps.push(result);
    };

    await step('full run');
    // The scheduled refresh loads and refreshes before it runs the exports: not part of the run's time.
    await loadEntity(home, 'Customer', files.v2, { key: 'profile_id' });
    await refreshSegments(home, SEGMENT);
    await step('re-run, 1 % changed');
    await step('re-run, unchanged');
    return steps;
  } finally {
    clearInterval(logTimer);
    await home?.close();
    await fake.close();
  }
}

export async function runIncrementalBench(options: { members: number; keep: boolean; only?: string | undefined }): Promise<boolean> {
  const work = tempDir('incremental');
  const results: Array<{ c: Case; steps: Step[] }> = [];
  let ok = true;
  try {
    const files = await writeVersions(work, options.members);
    const all: Case[] = [
      { id: 'iterable', syncMode: 'mirror' },
      { id: 'campaign-monitor', syncMode: 'mirror' },
      { id: 'campaign-monitor', syncMode: 'upsert' },
    ];
    const cases = all.filter((c) => options.only === undefined || c.id === options.only);
    for (const c of cases) {
      const dir = path.join(work, `${c.id}-${c.syncMode}`);
      fs.mkdirSync(dir, { recursive: true });
      try {
        results.push({ c, steps: await runCase(c, options.members, files, dir) });
      } catch (error) {
        ok = false;
        console.error(`  ${c.id} (${c.syncMode}) FAILED: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    if (options.keep) console.log(`Kept ${work}.`);
    else fs.rmSync(work, { recursive: true, force: true });
  }

  console.log('');
  console.log(`Incremental sync, ${formatInt(options.members)} members, documented rates, ${LATENCY_MS} ms latency; code ${codeVersion()}.`);
  console.log('Targets: re-run < 5 % of the full run\'s time and < 2 % of its requests; unchanged re-run 0 member requests and < 10 s.');
  console.log('');
  printTable(
    ['destination', 'mode', 'full s', 'full req', 're-run s', 're-run req', 'time %', 'req %', 'unchanged s', 'unchanged member req', 'verdict'],
    results.map(({ c, steps }) => {
      const [full, rerun, unchanged] = steps as [Step, Step, Step];
      const timeShare = rerun.seconds / full.seconds;
      const requestShare = rerun.requests / full.requests;
      const met = timeShare < 0.05 && requestShare < 0.02 && unchanged.memberRequests === 0 && unchanged.seconds < 10;
      return [
        c.id,
        c.syncMode,
        formatSeconds(full.seconds),
        formatInt(full.requests),
        formatSeconds(rerun.seconds),
        formatInt(rerun.requests),
        `${(timeShare * 100).toFixed(1)} %`,
        `${(requestShare * 100).toFixed(2)} %`,
        formatSeconds(unchanged.seconds),
        formatInt(unchanged.memberRequests),
        met ? 'met' : 'MISSED',
      ];
    }),
  );
  return ok;
}
