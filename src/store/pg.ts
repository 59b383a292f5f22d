import pg from 'pg';

// PostgreSQL returns BIGINT and COUNT(*) as strings; our counts fit in a double (2^53). Set once, for every pool
// of this process (metadata and profiles), by whichever store loads PostgreSQL's client first. The SQLite and
// DuckDB stores never import this module, so a home without PostgreSQL does not load the client at all.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export { pg };
