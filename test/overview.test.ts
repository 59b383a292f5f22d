import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, type ApiApp } from '../src/api/app.ts';
import { createMetrics } from '../src/api/metrics.ts';
import { Overview, SegmentRefresh } from '../src/api/schemas.ts';
import { createConnection, removeConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments, removeSegment, updateSegment } from '../src/app/data.ts';
import { createExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { pauseExport, setExportSchedule, setSchedule } from '../src/app/schedule.ts';
import { authenticateSession, authenticateToken, createToken, createUser, ensureFirstAdmin } from '../src/app/users.ts';
import { RunManager } from '../src/server/run-manager.ts';
import { updateConnectionState } from '../src/store/metadata/connections.ts';
import { tempDir } from './support/cli.ts';
import { dropSchema, POSTGRES_URL, postgresAvailable, uniqueSchema } from './support/postgres.ts';

// The overview (GET /api/v1/overview) and a segment's refresh history (GET /api/v1/segments/{id}/refreshes),
// aggregated by the metadata store itself: on the embedded SQLite store and on PostgreSQL. The runs are written
// as rows with chosen times and counts, so every figure below is known exactly.

const NOW = new Date('2026-11-30T12:00:00.000Z');
const hasPostgres = await postgresAvailable();
const backends = [['SQLite'], ...(hasPostgres ? [['PostgreSQL']] : [])] as Array<[string]>;

describe.each(backends)('the overview on %s', (backend) => {
  let dir: string;
  let opened: Home;
  let home: Home;
  let app: ApiApp;
  let runs: RunManager;
  const schema = uniqueSchema('outflow_overview');
  const tokens: Record<'admin' | 'viewer', string> = { admin: '', viewer: '' };
  const ids: Record<string, { exportId: string; connectionId: string }> = {};

  async function get(path: string, as: 'admin' | 'viewer' | 'nobody' = 'viewer') {
    const response = await app.request(path, { headers: as === 'nobody' ? {} : { authorization: `Bearer ${tokens[as]}` } });
    return { status: response.status, body: (await response.json()) as any, link: response.headers.get('link') };
  }

  let seq = 0;
  /** One run row of `exp`, queued at `at`, as the engine leaves it when it ends. */
  async function run(exp: string, at: string, status: string, counts: { sent?: number; rejected?: number; resumedFrom?: string; minutes?: number } = {}): Promise<string> {
    const id = `run_overview_${++seq}`;
    const started = new Date(Date.parse(at) + 1000).toISOString();
    const finished = status === 'queued' ? null : new Date(Date.parse(at) + (counts.minutes ?? 1) * 60_000).toISOString();
    await home.db
      .insertInto('runs')
      .values({
        id,
        export_id: ids[exp]!.exportId,
        export_name: exp,
        connection_id: ids[exp]!.connectionId,
        status,
        trigger: counts.resumedFrom ? 'resume' : 'manual',
        started_by: 'ada',
        resumed_from: counts.resumedFrom ?? null,
        queued_at: at,
        started_at: status === 'queued' ? null : started,
        finished_at: finished,
        heartbeat_at: finished,
        rows_total: counts.sent ?? 0,
        rows_done: (counts.sent ?? 0) + (counts.rejected ?? 0),
        sent: counts.sent ?? 0,
        rejected: counts.rejected ?? 0,
        not_attempted: 0,
        sources: '[]',
        checkpoint: null,
        warnings: '[]',
        error_code: status === 'failed' ? 'destination_unavailable' : null,
        error_message: status === 'failed' ? 'The destination did not answer.' : null,
        cancel_requested_at: null,
      })
      .execute();
    return id;
  }

  beforeAll(async () => {
    dir = tempDir('overview');
    const env = { ...process.env, OUTFLOW_PROFILES_URL: '', OUTFLOW_DATABASE_URL: backend === 'PostgreSQL' ? `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` : '' };
    if (backend === 'PostgreSQL') {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.end();
    }
    opened = await openHome({ dir, env, actor: { name: 'ada', role: 'admin', via: 'api' } });
    // The clock the overview reads: a fixed noon, so the window and the next fire times are known.
    home = { ...opened, now: () => new Date(NOW) };
    await ensureFirstAdmin(home, { OUTFLOW_ADMIN_PASSWORD: 'overview-admin-password-7c1d' });
    tokens.admin = (await createToken(home, { user: 'admin', name: 'tests' })).token;
    await createUser(home, { name: 'vera', role: 'viewer' });
    tokens.viewer = (await createToken(home, { user: 'vera', name: 'tests' })).token;

    const csv = path.join(dir, 'customers.csv');
    fs.writeFileSync(csv, ['profile_id,email,tier', ...Array.from({ length: 30 }, (_, i) => `${i + 1},c${i + 1}@example.com,${i % 3 === 0 ? 'gold' : 'silver'}`)].join('\n') + '\n');
    await loadEntity(home, 'Customer', csv, { key: 'profile_id' });
    await createSegment(home, { name: 'gold', where: "tier = 'gold'" });
    await refreshSegments(home, 'gold');

    // Saving a connection contacts nothing; each state below is what a verification or a run would record.
    const iterable = { apiKey: 'overview-key', baseUrl: 'http://127.0.0.1:9' };
    await createConnection(home, { type: 'iterable', name: 'iter', config: iterable, acceptPrivacyTerms: true });
    await createConnection(home, { type: 'sftp', name: 'files', config: { host: 'sftp.example.com', username: 'u', password: 'overview-pw', folder: '/out' }, acceptPrivacyTerms: true });
    await createConnection(home, { type: 'iterable', name: 'gone', config: iterable, acceptPrivacyTerms: true });
    await createConnection(home, { type: 'iterable', name: 'revoked', config: iterable, acceptPrivacyTerms: true });
    const conn = async (name: string) => (await home.db.selectFrom('connections').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
    await updateConnectionState(home.db, await conn('iter'), { lastVerification: { ok: true, at: NOW.toISOString(), by: 'ada' } });
    await updateConnectionState(home.db, await conn('files'), { lastVerification: { ok: false, at: NOW.toISOString(), by: 'ada', code: 'auth_failed', message: 'Permission denied.' } });
    await updateConnectionState(home.db, await conn('revoked'), { lastVerification: { ok: true, at: NOW.toISOString(), by: 'ada' }, attention: { code: 'auth_failed', message: 'The API key was refused.', at: NOW.toISOString() } });

    const exports: Array<[string, string]> = [['daily', 'iter'], ['weekly', 'iter'], ['files-out', 'files'], ['orphan', 'gone'], ['refused', 'revoked']];
    for (const [name, connection] of exports) {
      if (connection === 'files') await createExport(home, { name, connection, segments: ['gold'], config: {} });
      else await createExport(home, { name, connection, segments: ['gold'], config: { mapping: { email: 'email' } } });
      const row = await home.db.selectFrom('exports').select(['id', 'connection_id']).where('name', '=', name).executeTakeFirstOrThrow();
      ids[name] = { exportId: row.id, connectionId: row.connection_id };
    }
    await removeConnection(home, 'gone', { force: true });

    // daily: ok on 28 Nov and 30 Nov; a failed run on 29 Nov resumed the same day (the resume carries its 100 on).
    await run('daily', '2026-11-28T06:00:00.000Z', 'succeeded', { sent: 500, rejected: 5, minutes: 4 });
    const broken = await run('daily', '2026-11-29T06:00:00.000Z', 'failed', { sent: 100, rejected: 1 });
    await run('daily', '2026-11-29T07:00:00.000Z', 'succeeded', { sent: 350, rejected: 3, resumedFrom: broken });
    await run('daily', '2026-11-30T06:00:00.000Z', 'succeeded', { sent: 250, rejected: 0 });
    // Before the window (31 days back): not counted.
    await run('daily', '2026-10-31T23:59:59.000Z', 'succeeded', { sent: 9999, rejected: 9 });
    // weekly: cancelled on 1 Nov (the window's first day), one queued now.
    await run('weekly', '2026-11-01T00:00:00.000Z', 'cancelled', { sent: 10 });
    await run('weekly', '2026-11-30T11:59:00.000Z', 'queued');
    // files-out: its last run failed, after one that succeeded.
    await run('files-out', '2026-11-20T06:00:00.000Z', 'succeeded', { sent: 40, rejected: 2 });
    await run('files-out', '2026-11-21T06:00:00.000Z', 'failed', { sent: 0 });
    // orphan: ran before its connection was removed.
    await run('orphan', '2026-11-15T06:00:00.000Z', 'succeeded', { sent: 7 });

    await pauseExport(home, 'weekly');
    await setSchedule(home, { days: 'daily', times: '06:00', timeZone: 'UTC' });
    await setExportSchedule(home, 'refused', { cron: '0 12 * * *', timeZone: 'Europe/Amsterdam' });
    // Sooner than both, but paused: it does not fire.
    await setExportSchedule(home, 'weekly', { cron: '30 12 * * *', timeZone: 'UTC' });

    runs = new RunManager(home);
    app = createApi({ home, auth: { byToken: (t) => authenticateToken(home.db, t), bySession: (id) => authenticateSession(home.db, id) }, runs, metrics: createMetrics(home.db) });
  }, 120_000);

  afterAll(async () => {
    await runs?.stopAll();
    await opened?.close();
    if (backend === 'PostgreSQL') await dropSchema(schema);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('counts the runs of each day of the last 30 by outcome, from midnight UTC 29 days back to now', async () => {
    const { status, body } = await get('/api/v1/overview');
    expect(status).toBe(200);
    expect(Overview.safeParse(body).success).toBe(true);
    expect(body).toMatchObject({ days: 30, from: '2026-11-01T00:00:00.000Z', to: NOW.toISOString() });
    expect(body.runsByDay).toHaveLength(30);
    expect(body.runsByDay[0]).toEqual({ day: '2026-11-01', succeeded: 0, failed: 0, cancelled: 1, active: 0 });
    const day = (d: string) => body.runsByDay.find((x: { day: string }) => x.day === d);
    expect(day('2026-11-02')).toEqual({ day: '2026-11-02', succeeded: 0, failed: 0, cancelled: 0, active: 0 });
    expect(day('2026-11-15')).toMatchObject({ succeeded: 1, failed: 0 });
    expect(day('2026-11-21')).toMatchObject({ succeeded: 0, failed: 1 });
    expect(day('2026-11-29')).toMatchObject({ succeeded: 1, failed: 1 });
    expect(body.runsByDay.at(-1)).toEqual({ day: '2026-11-30', succeeded: 1, failed: 0, cancelled: 0, active: 1 });
    expect(body.totals).toEqual({ runs: 9, succeeded: 5, failed: 2, cancelled: 1, active: 1, sent: 500 + 350 + 250 + 10 + 40 + 7, rejected: 5 + 3 + 2 });
  });

  it('sums rows per destination, counting a resumed run only for what it added', async () => {
    const { body } = await get('/api/v1/overview');
    expect(body.destinations).toEqual([
      // 500 + (100 failed, then resumed to 350: 350 in all) + 250 + 10 cancelled.
      { type: 'iterable', title: 'Iterable', runs: 6, sent: 1110, rejected: 8 },
      { type: 'sftp', title: 'SFTP', runs: 2, sent: 40, rejected: 2 },
      { type: null, title: 'Removed connections', runs: 1, sent: 7, rejected: 0 },
    ]);
  });

  it('lists the exports that need attention, most urgent first', async () => {
    const { body } = await get('/api/v1/overview');
    expect(body.attention.map((a: { export: string; reason: string }) => [a.export, a.reason])).toEqual([
      ['files-out', 'failed'],
      ['refused', 'sign-in'],
      ['orphan', 'connection-removed'],
      ['files-out', 'verify'],
      ['weekly', 'paused'],
    ]);
    expect(body.attentionTotal).toBe(5);
    const failed = body.attention[0];
    expect(failed).toMatchObject({ message: 'Its last run failed (destination_unavailable).', runId: expect.stringMatching(/^run_overview_/), at: '2026-11-21T06:01:00.000Z' });
    expect(body.attention[1].message).toBe('Connection "revoked" had its credentials refused: enter new ones (auth_failed).');
    expect(body.attention[3].message).toBe('Connection "files" failed its last check (auth_failed): fix and verify it.');
    expect(body.attention[4].message).toBe('Paused by ada: its schedule does not start it.');
    // "daily" failed on the 29th, but its last run succeeded: nothing to do.
    expect(body.attention.map((a: { export: string }) => a.export)).not.toContain('daily');
  });

  it('names the soonest scheduled refresh, skipping paused exports', async () => {
    const { body } = await get('/api/v1/overview');
    // 12:00 in Amsterdam is 11:00 UTC in winter: past at noon UTC, so the next is tomorrow's; the home's 06:00 UTC
    // comes first.
    expect(body.nextRefresh).toEqual({ utc: '2026-12-01T06:00:00.000Z', local: '2026-12-01T06:00:00+00:00', timeZone: 'UTC', scope: 'home' });
    await setExportSchedule(home, 'refused', { cron: '0 14 * * *', timeZone: 'Europe/Amsterdam' });
    expect((await get('/api/v1/overview')).body.nextRefresh).toEqual({ utc: '2026-11-30T13:00:00.000Z', local: '2026-11-30T14:00:00+01:00', timeZone: 'Europe/Amsterdam', scope: 'export', export: 'refused' });
  });

  it('takes a shorter window, refuses one it cannot draw, and answers only signed-in callers', async () => {
    const week = (await get('/api/v1/overview?days=7', 'admin')).body;
    expect(week.runsByDay.map((d: { day: string }) => d.day)).toEqual(['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30']);
    expect(week.totals).toMatchObject({ runs: 5, succeeded: 3, failed: 1, active: 1 });
    expect((await get('/api/v1/overview?days=0')).status).toBe(400);
    expect((await get('/api/v1/overview?days=91')).status).toBe(400);
    expect((await get('/api/v1/overview', 'nobody')).status).toBe(401);
  });

  it("keeps a segment's member count at every refresh, pages it newest first, and drops it with the segment", async () => {
    // Each refresh at its own moment (the first one, in beforeAll, was at NOW).
    const at = (iso: string): Home => ({ ...opened, now: () => new Date(iso) });
    const csv = path.join(dir, 'more.csv');
    fs.writeFileSync(csv, ['profile_id,email,tier', ...Array.from({ length: 60 }, (_, i) => `${i + 1},c${i + 1}@example.com,${i % 3 === 0 ? 'gold' : 'silver'}`)].join('\n') + '\n');
    await loadEntity(home, 'Customer', csv, { key: 'profile_id' });
    await refreshSegments(at('2026-11-30T13:00:00.000Z'), 'gold');
    await updateSegment(at('2026-11-30T14:00:00.000Z'), 'gold', { where: "tier = 'silver'" });
    const first = await get('/api/v1/segments/gold/refreshes?limit=2');
    expect(first.status).toBe(200);
    for (const item of first.body.items) expect(SegmentRefresh.safeParse(item).success).toBe(true);
    expect(first.body.items.map((p: { members: number }) => p.members)).toEqual([40, 20]);
    expect(first.link).toContain('cursor=');
    const second = await get(`/api/v1/segments/gold/refreshes?limit=2&cursor=${first.body.nextCursor}`);
    expect(first.body.items.map((p: { at: string }) => p.at)).toEqual(['2026-11-30T14:00:00.000Z', '2026-11-30T13:00:00.000Z']);
    expect(second.body).toEqual({ items: [{ at: NOW.toISOString(), members: 10 }], nextCursor: null });
    // By id as well as by name, like every segment path.
    const { id } = await home.db.selectFrom('segments').select('id').where('name', '=', 'gold').executeTakeFirstOrThrow();
    expect((await get(`/api/v1/segments/${id}/refreshes`)).body.items).toHaveLength(3);
    expect((await get('/api/v1/segments/nope/refreshes')).status).toBe(404);

    await createSegment(home, { name: 'short-lived', where: "tier = 'gold'" });
    await refreshSegments(home, 'short-lived');
    const { id: shortId } = await home.db.selectFrom('segments').select('id').where('name', '=', 'short-lived').executeTakeFirstOrThrow();
    await removeSegment(home, 'short-lived');
    expect(await home.db.selectFrom('segment_refreshes').select('id').where('segment_id', '=', shortId).execute()).toEqual([]);
  });
});
