import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { dropSchema, POSTGRES_URL, postgresAvailable, uniqueSchema } from '../../../test/support/postgres.ts';
import { openMetadataStore } from './db.ts';
import { listRuns } from './runs.ts';

const schema = uniqueSchema('outflow_pool_test');
afterAll(() => dropSchema(schema));

// An idle pooled connection that PostgreSQL ends (a restart, a failover, an administrator) emits 'error' on the
// pool; without a listener that is an uncaught exception that takes the whole server or worker down.
it.runIf(await postgresAvailable())('survives PostgreSQL ending an idle connection, and reconnects for the next query', async () => {
  const store = await openMetadataStore({ url: POSTGRES_URL, pgSchema: schema });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    // The connection that answered is idle in the pool now: end it from another session, as a restart would.
    const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(store.db);
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    } finally {
      await admin.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(uncaught).toEqual([]);
    expect(await listRuns(store.db, {})).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    await store.close();
  }
});
