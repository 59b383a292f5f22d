import path from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { openMetadataStore, type MetadataStore } from '../../src/store/metadata/db.ts';
import { openProfileStore, type ProfileStore } from '../../src/store/profile/profile-store.ts';
import { openPostgresProfileStore } from '../../src/store/profile/postgres-store.ts';

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

/**
 * The metadata stores a store test runs on: SQLite in memory, and PostgreSQL in a fresh schema (dropped after
 * the file) when it answers. Each entry is `[name, open, available]` for `describe.each`.
 */
export async function metadataBackends(prefix: string): Promise<Array<[string, () => Promise<MetadataStore>, boolean]>> {
  const hasPostgres = await postgresAvailable();
  const schema = uniqueSchema(prefix);
  afterAll(async () => {
    if (hasPostgres) await dropSchema(schema);
  });
  return [
    ['SQLite', () => openMetadataStore({ sqlitePath: ':memory:' }), true],
    ['PostgreSQL', () => openMetadataStore({ url: POSTGRES_URL, pgSchema: schema }), hasPostgres],
  ];
}

/**
 * The metadata stores a use-case test's home runs on, as the environment the home opens with: SQLite in the
 * home, and PostgreSQL in a fresh schema (created now, dropped after the file) when it answers. Each entry is
 * `[name, env, available]` for `describe.each`.
 */
export async function homeMetadataBackends(prefix: string): Promise<Array<[string, Record<string, string>, boolean]>> {
  const hasPostgres = await postgresAvailable();
  const schema = uniqueSchema(prefix);
  afterAll(async () => {
    if (hasPostgres) await dropSchema(schema);
  });
  if (hasPostgres) await (await openMetadataStore({ url: POSTGRES_URL, pgSchema: schema })).close();
  return [
    ['SQLite', { OUTFLOW_DATABASE_URL: '' }, true],
    ['PostgreSQL', { OUTFLOW_DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` }, hasPostgres],
  ];
}

/**
 * The profile stores a contract test runs on: DuckDB in a file under the test's folder, and PostgreSQL in a
 * fresh schema per store opened (all dropped after the file). Each entry is `[name, open(dir)]` for `describe.each`.
 */
export function profileBackends(prefix: string): Array<[string, (dir: string) => Promise<ProfileStore>]> {
  const schemas: string[] = [];
  const base = uniqueSchema(prefix);
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
  });
  return [
    ['DuckDB', (dir) => openProfileStore(path.join(dir, 'profiles.duckdb'))],
    [
      'PostgreSQL',
      async () => {
        if (!(await postgresAvailable())) throw new Error(`PostgreSQL at ${POSTGRES_URL} is required for the profile-store contract suite.`);
        const schema = `${base}_${schemas.length}`;
        schemas.push(schema);
        return openPostgresProfileStore(POSTGRES_URL, { schema });
      },
    ],
  ];
}
