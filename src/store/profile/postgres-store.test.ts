import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../domain/errors.ts';
import { compileFilter, toPostgresFilter } from './filter.ts';
import { openPostgresProfileStore, parseProfilesUrl } from './postgres-store.ts';

describe('OUTFLOW_PROFILES_URL', () => {
  it('takes the schema from the URL and passes the rest to PostgreSQL', () => {
    expect(parseProfilesUrl('postgres://u:p@db:5432/crm?schema=eu&sslmode=require')).toEqual({ connectionString: 'postgres://u:p@db:5432/crm?sslmode=require', schema: 'eu' });
    expect(parseProfilesUrl('postgresql://db/crm').schema).toBeNull();
  });

  it('refuses a URL that is not PostgreSQL, saying what to set', () => {
    expect(() => parseProfilesUrl('mysql://db/crm')).toThrow(/must be a postgres:\/\/ URL \(unset it to keep profiles in the home's DuckDB file\)/);
    expect(() => parseProfilesUrl('not a url')).toThrow(ConfigError);
  });

  it('says which server it could not reach, without the password', async () => {
    const error = await openPostgresProfileStore('postgres://outflow:s3cret-pw@127.0.0.1:1/crm').then(
      () => null,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toMatch(/^Cannot open the PostgreSQL profile store at 127\.0\.0\.1:1\/crm \(OUTFLOW_PROFILES_URL\): .*Check the URL and that the server is up\.$/);
    expect(error?.message).not.toContain('s3cret-pw');
  });
});

describe('filters for PostgreSQL', () => {
  const columns = [
    { name: 'orders', type: 'BIGINT' },
    { name: 'a$1', type: 'VARCHAR' },
    { name: 'note', type: 'VARCHAR' },
  ];

  it('binds numbers as NUMERIC, turns off LIKE escapes and leaves quoted names alone', () => {
    const compiled = toPostgresFilter(compileFilter(`orders >= 2.5 and "a$1" = 'x' and note not like 'a\\%'`, columns));
    expect(compiled.sql).toBe(`("orders" >= CAST($1 AS NUMERIC) AND "a$1" = $2 AND "note" NOT LIKE $3 ESCAPE '')`);
    expect(compiled.params).toEqual([2.5, 'x', 'a\\%']);
  });

  it('numbers placeholders from firstParam and binds big integers as text', () => {
    const compiled = toPostgresFilter(compileFilter('orders = 12345678901234567890', columns, { firstParam: 3 }), 3);
    expect(compiled).toEqual({ sql: '"orders" = CAST($3 AS NUMERIC)', params: ['12345678901234567890'] });
  });
});
