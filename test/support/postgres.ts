import pg from 'pg';

export const POSTGRES_URL = process.env.OUTFLOW_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether the test PostgreSQL answers. In CI a missing server is a failure, never a skip: this throws there.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI but ${POSTGRES_URL} did not answer: ${(error as Error).message}`);
    console.warn(`Skipping PostgreSQL tests: ${POSTGRES_URL} did not answer (${(error as Error).message}).`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh schema name for one test file, dropped by `dropSchema`. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
