import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, queueResume, runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { RunConflictError } from '../src/domain/errors.ts';
import { listRuns } from '../src/store/metadata/runs.ts';
import { listRunItems, reapStaleRuns, recoverInterruptedRuns, showRun } from '../src/app/runs.ts';
import { executeRun } from '../src/engine/run-export.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { readServerFile } from '../src/server/server-file.ts';
import { outflow, tempDir } from './support/cli.ts';

// The queue (`outflow serve --concurrency`), cancel, resume-once and stale-run detection.

const KEY = 'queue-test-iterable-key';
const MEMBERS = 20_000;

let home: string;
let work: string;
let iterable: IterableFake;

async function withHome<T>(fn: (home: Home) => Promise<T>): Promise<T> {
  const opened = await openHome({ dir: home, env: { ...process.env, OUTFLOW_ROLE: '', OUTFLOW_USER: 'tester' } });
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}

/** Points the in-process CLI at `server` for the duration of `fn`. */
async function throughServer<T>(server: RunningServer, fn: () => Promise<T>): Promise<T> {
  const saved = { url: process.env.OUTFLOW_URL, token: process.env.OUTFLOW_TOKEN };
  process.env.OUTFLOW_URL = server.url;
  process.env.OUTFLOW_TOKEN = readServerFile(server.home.dir)!.token;
  try {
    return await fn();
  } finally {
    for (const [key, value] of [['OUTFLOW_URL', saved.url], ['OUTFLOW_TOKEN', saved.token]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

const BIN = path.resolve('bin/outflow.cjs');

/** Runs the real executable on `home` (no server), as a user in another terminal would; killed after 120 s. */
function cli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args, '--home', home], { env: { ...process.env, OUTFLOW_DEBUG: '', OUTFLOW_URL: '', OUTFLOW_TOKEN: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end();
  let hung = false;
  const bound = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, 120_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; hung: boolean }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(bound);
      resolve({ code, stdout, stderr, hung });
    });
  });
  return { child, done };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const subscribed = (from = 0) =>
  iterable.requests.slice(from).filter((r) => r.path === '/api/lists/subscribe').reduce((sum, r) => sum + JSON.parse(r.body).subscribers.length, 0);

beforeAll(async () => {
  delete process.env.OUTFLOW_URL;
  delete process.env.OUTFLOW_TOKEN;
  home = tempDir('queue-home');
  work = tempDir('queue-work');
  const lines = ['profile_id,email'];
  for (let i = 1; i <= MEMBERS; i++) lines.push(`${i},member${i}@example.com`);
  fs.writeFileSync(path.join(work, 'customers.csv'), `${lines.join('\n')}\n`);
  iterable = await startIterableFake({ projects: [{ apiKey: KEY }], rateLimits: { 'POST /api/lists/subscribe': { requests: 1000, perMs: 1000 } } });
  await withHome(async (h) => {
    await loadEntity(h, 'Customer', path.join(work, 'customers.csv'), { key: 'profile_id' });
    await createSegment(h, { name: 'everyone', entity: 'Customer', where: 'profile_id > 0' });
    await refreshSegments(h);
    await createConnection(h, { type: 'iterable', name: 'iterable', config: { apiKey: KEY, baseUrl: iterable.url, requestsPerSecond: 20 }, acceptPrivacyTerms: true });
    for (const name of ['first', 'second', 'third']) {
      await createExport(h, { name, connection: 'iterable', segments: ['everyone'], config: { mapping: { email: 'email' }, syncMode: 'full' } });
    }
  });
}, 60_000);

afterAll(async () => {
  await iterable?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('resume once', () => {
  it('refuses to resume a cancelled run a second time (it re-sent everyone), naming the run that resumed it', async () => {
    const start = iterable.requests.length;
    iterable.setLatency(30);
    const controller = new AbortController();
    const cancelled = await withHome((h) => {
      const running = runExport(h, 'first', { onProgress: ({ rowsDone }) => rowsDone >= 5_000 && controller.abort() }, controller.signal);
      return running;
    });
    iterable.setLatency(0);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error!.message).toMatch(/cancelled after [\d,]+ records were sent to Iterable; they stay there/);
    expect(cancelled.sent).toBeGreaterThanOrEqual(5_000);
    expect(cancelled.sent).toBeLessThan(MEMBERS);

    const first = await outflow(home, 'run', 'resume', cancelled.id, '--json');
    expect(first.code).toBe(0);
    const resumed = first.json();
    expect(resumed).toMatchObject({ status: 'succeeded', sent: MEMBERS, resumedFrom: cancelled.id });
    // `run show` says which run it continues (its counts include that run's), not only who started it.
    const shown = await outflow(home, 'run', 'show', resumed.id);
    expect(shown.stdout.split('\n')[0]).toMatch(new RegExp(`^started by \\S+ at \\S+ \\(resuming run ${cancelled.id}\\)$`));

    const again = await outflow(home, 'run', 'resume', cancelled.id, '--json');
    expect(again.code).toBe(4);
    expect(again.stderr).toContain(`was already resumed by run ${resumed.id}`);
    await withHome(async (h) => {
      const error = await queueResume(h, cancelled.id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunConflictError);
      expect((error as RunConflictError).runId).toBe(resumed.id);
    });
    // Everyone was sent once, plus at most the batches in flight when the cancel landed.
    expect(subscribed(start) - MEMBERS).toBeLessThanOrEqual(3 * 1000);
  }, 120_000);

  it('refuses to resume an older run after a newer run of the same export succeeded', async () => {
    const failed = await withHome(async (h) => {
      const controller = new AbortController();
      controller.abort();
      return runExport(h, 'second', {}, controller.signal);
    });
    expect(failed.status).toBe('cancelled');
    const newer = (await outflow(home, 'export', 'run', 'second', '--json')).json();
    expect(newer.status).toBe('succeeded');
    const refused = await outflow(home, 'run', 'resume', failed.id);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`is older than run ${newer.id} of the same export, which succeeded`);
  }, 60_000);
});

describe('a run whose process was killed', () => {
  it('in scale-out mode stays `running` for readers, with a handover note, until a worker takes it over', async () => {
    const run = (await outflow(home, 'export', 'run', 'third', '--json')).json();
    const distributed = await openHome({ dir: home, env: { ...process.env, OUTFLOW_ROLE: '', OUTFLOW_USER: 'tester', OUTFLOW_REDIS_URL: 'redis://127.0.0.1:6379' } });
    try {
      const old = new Date(Date.now() - 60_000).toISOString();
      await distributed.db.updateTable('runs').set({ status: 'running', finished_at: null, heartbeat_at: old }).where('id', '=', run.id).execute();
      // Readers (run show, run list) of a scale-out deployment do not reap it: a worker is about to take it over.
      const shown = await showRun(distributed, run.id);
      expect(shown.status).toBe('running');
      expect(shown.handover).toEqual({ since: old, message: expect.stringContaining('another worker takes it over from its checkpoint') });
      expect((await listRunItems(distributed)).find((r) => r.id === run.id)?.status).toBe('running');
      // The worker that takes it over reaps it (and, in the same transaction, queues its resume).
      expect(await reapStaleRuns(distributed, 15_000, run.id, { takeover: true })).toEqual([run.id]);
    } finally {
      await distributed.close();
    }
    // Taken over: it reads interrupted, and an ended run has no handover note.
    const again = (await outflow(home, 'run', 'show', run.id, '--json')).json();
    expect(again).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(again.handover).toBeUndefined();
  }, 60_000);

  it('is shown interrupted by `run show` (not only by `run list`) once its heartbeat is stale', async () => {
    const run = (await outflow(home, 'export', 'run', 'third', '--json')).json();
    // What a SIGKILL leaves: `running`, its last heartbeat a minute old.
    await withHome(async (h) => {
      const old = new Date(Date.now() - 60_000).toISOString();
      await h.db.updateTable('runs').set({ status: 'running', finished_at: null, heartbeat_at: old }).where('id', '=', run.id).execute();
    });
    const shown = (await outflow(home, 'run', 'show', run.id, '--json')).json();
    expect(shown.status).toBe('failed');
    expect(shown.error).toMatchObject({ code: 'interrupted' });
    expect(shown.error.message).toContain(`outflow run resume ${run.id}`);
    expect(shown.resumable).toBe(true);

    // The server resumes it when it starts: from then on the old run names the run that continues it and no
    // longer tells to resume it (a command that would be refused).
    const recovered = await withHome(async (h) => {
      const [queued] = await recoverInterruptedRuns(h, queueResume);
      return executeRun(h, queued!.id, h.actor);
    });
    expect(recovered).toMatchObject({ resumedFrom: run.id, trigger: 'recovery' });
    const after = (await outflow(home, 'run', 'show', run.id, '--json')).json();
    expect(after).toMatchObject({ status: 'failed', resumedBy: recovered.id, resumable: false, error: { code: 'interrupted' } });
    expect(after.error.message).not.toMatch(/run resume|resumes it/);
    expect(after.error.message).toContain(`It was resumed as run ${recovered.id}`);
    const text = await outflow(home, 'run', 'show', run.id);
    expect(text.stdout).toContain(`resumed as run ${recovered.id}`);
    expect(`${text.stdout}${text.stderr}`).not.toContain('outflow run resume');
    expect((await outflow(home, 'run', 'resume', run.id)).code).toBe(4);
    // The data manifest lists the chain once: its last run, which reports the counts of both.
    const manifest = (await outflow(home, 'export', 'manifest', 'third', '--json')).json();
    const listed = manifest.lastRuns.map((r: { id: string }) => r.id);
    expect(listed).toContain(recovered.id);
    expect(listed).not.toContain(run.id);
  }, 60_000);
});

describe('run cancel without a server', () => {
  it('stops a run that `outflow export run` executes directly on the home, from a second process', async () => {
    const start = iterable.requests.length;
    // 20 batches at 1.5 s each: the run lasts long enough to be cancelled in the middle.
    iterable.setLatency(1_500);
    try {
      const running = cli(['export', 'run', 'third', '--json']);
      let id: string | undefined;
      await until(
        'the run to send its first batches',
        async () => {
          const run = await withHome(async (h) => (await listRuns(h.db, { exportName: 'third', status: 'running' }))[0]);
          id = run?.id;
          return run !== undefined && run.sent >= 1_000;
        },
        90_000,
      );
      const cancel = await cli(['run', 'cancel', id!, '--json']).done;
      expect(cancel.stderr).toBe('');
      expect(cancel.code).toBe(0);
      const summary = JSON.parse(cancel.stdout);
      expect(summary).toMatchObject({ id, status: 'cancelled' });
      expect(summary.error.message).toMatch(/records were sent to Iterable; they stay there/);

      // The process that executed it reports the cancel and exits; the counts are what Iterable received.
      const ran = await running.done;
      expect(ran.hung).toBe(false);
      const run = JSON.parse(ran.stdout);
      expect(run).toMatchObject({ id, status: 'cancelled' });
      expect(run.sent).toBeLessThan(MEMBERS);
      expect(run.sent).toBeLessThanOrEqual(subscribed(start));
      // The profile store the cancelled process wrote is intact.
      expect(await withHome(async (h) => (await h.profiles.listEntities()).map((e) => e.rows))).toEqual([MEMBERS]);
    } finally {
      iterable.setLatency(0);
    }
  }, 150_000);
});

describe('the queue of outflow serve', () => {
  it('--detach needs a server (exit 2)', async () => {
    const result = await outflow(home, 'export', 'run', 'first', '--detach');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--detach` needs a server .*outflow serve/);
  });

  it('runs one at a time with --concurrency 1, the others wait queued; run cancel stops a running run within seconds', async () => {
    const server = await startServer({ dir: home, port: 0, concurrency: 1, env: { ...process.env, OUTFLOW_ADMIN_PASSWORD: 'queue-test-password-1' } });
    try {
      iterable.setLatency(50);
      const start = iterable.requests.length;
      const ids = await throughServer(server, async () => {
        const a = await outflow(home, 'export', 'run', 'first', '--detach', '--json');
        const b = await outflow(home, 'export', 'run', 'second', '--detach', '--json');
        expect(a.code).toBe(0);
        expect(Object.keys(a.json())).toEqual(['id']);
        // A second run of the same export is refused with the active run's id.
        const clash = await outflow(home, 'export', 'run', 'first', '--detach');
        expect(clash.code).toBe(4);
        expect(clash.stderr).toContain(a.json().id);
        return [a.json().id as string, b.json().id as string];
      });
      const status = async (id: string) => (await throughServer(server, () => outflow(home, 'run', 'show', id, '--json'))).json();
      await until('the first run to send', async () => (await status(ids[0]!)).sent >= 2_000);
      expect((await status(ids[0]!)).status).toBe('running');
      expect((await status(ids[1]!)).status).toBe('queued');

      const cancelled = await throughServer(server, () => outflow(home, 'run', 'cancel', ids[0]!, '--json'));
      expect(cancelled.code).toBe(0);
      const summary = cancelled.json();
      expect(summary.status).toBe('cancelled');
      expect(summary.error.message).toMatch(/records were sent to Iterable; they stay there/);
      // Counts what completed: never more than Iterable received.
      expect(summary.sent).toBeGreaterThanOrEqual(2_000);
      expect(summary.sent).toBeLessThanOrEqual(subscribed(start));

      // The queued run starts once the pool has room, and is followed to its end.
      iterable.setLatency(0);
      const followed = await throughServer(server, () => outflow(home, 'run', 'show', ids[1]!, '--follow', '--json'));
      expect(followed.code).toBe(0);
      expect(followed.json()).toMatchObject({ id: ids[1], status: 'succeeded', sent: MEMBERS });
    } finally {
      iterable.setLatency(0);
      await server.close();
    }
  }, 120_000);
});
