import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { outflow, parseCsv, tempDir, writeJson } from './support/cli.ts';
import { POSTGRES_URL, postgresAvailable, uniqueSchema } from './support/postgres.ts';
import { startSshd, type Sshd } from './support/sshd.ts';

// The PostgreSQL profile store end to end through the CLI: a loaded entity and an attached live table, each
// segmented and exported to Iterable (records) and to a real OpenSSH server (files).

const ITERABLE_KEY = 'iterable-pgstore-key-51c2';
const profiles = uniqueSchema('pgstore_e2e');
const crm = uniqueSchema('pgstore_crm');

let home: string;
let work: string;
let iterable: IterableFake;
let sshd: Sshd;
let db: pg.Client;
let savedUrl: string | undefined;

beforeAll(async () => {
  expect(await postgresAvailable()).toBe(true);
  savedUrl = process.env.OUTFLOW_PROFILES_URL;
  process.env.OUTFLOW_PROFILES_URL = `${POSTGRES_URL}?schema=${profiles}`;
  home = tempDir('pgstore-home');
  work = tempDir('pgstore-work');
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }] });
  sshd = await startSshd();
  db = new pg.Client({ connectionString: POSTGRES_URL });
  await db.connect();
  await db.query(`CREATE SCHEMA "${crm}"`);
  await db.query(`CREATE TABLE "${crm}".customers (customer_id integer PRIMARY KEY, email text NOT NULL, tier text, score integer, vip boolean)`);
  await db.query(
    `INSERT INTO "${crm}".customers SELECT i, 'crm' || i || '@example.com', (ARRAY['gold','silver','bronze'])[1 + i % 3], (i * 37) % 100, i % 5 = 0 FROM generate_series(1, 300) i`,
  );
  const connect = async (type: string, name: string, config: Record<string, unknown>) => {
    const created = await outflow(home, 'connection', 'create', '--type', type, '--name', name, '--config', writeJson(work, `${name}.json`, config), '--accept-privacy-terms');
    expect(created.stderr).toBe('');
  };
  await connect('iterable', 'iterable', { apiKey: ITERABLE_KEY, baseUrl: iterable.url });
  fs.mkdirSync(path.join(sshd.root, 'files'));
  await connect('sftp', 'partner', { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey, folder: path.join(sshd.root, 'files') });
});

afterAll(async () => {
  if (savedUrl === undefined) delete process.env.OUTFLOW_PROFILES_URL;
  else process.env.OUTFLOW_PROFILES_URL = savedUrl;
  await iterable?.close();
  await sshd?.stop();
  if (db) {
    await db.query(`DROP SCHEMA IF EXISTS "${crm}" CASCADE`);
    await db.query(`DROP SCHEMA IF EXISTS "${profiles}" CASCADE`);
    await db.end();
  }
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** The rows of the CSV files (not manifests) of one export run, by file name prefix; header checked. */
function uploaded(prefix: string, header: string[]): string[][] {
  const folder = path.join(sshd.root, 'files');
  const rows: string[][] = [];
  for (const name of fs.readdirSync(folder).filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.csv'))) {
    const [head, ...records] = parseCsv(fs.readFileSync(path.join(folder, name), 'utf8'));
    expect(head).toEqual(header);
    rows.push(...records);
  }
  return rows;
}

function clearUploads(): void {
  const folder = path.join(sshd.root, 'files');
  for (const name of fs.readdirSync(folder)) fs.rmSync(path.join(folder, name));
}

describe('the PostgreSQL profile store (OUTFLOW_PROFILES_URL)', () => {
  it('loads a file into PostgreSQL and runs an Iterable and an SFTP export from it', async () => {
    const lines = ['profile_id,email,tier,joined'];
    for (let i = 1; i <= 1000; i++) lines.push(`${i},member${i}@example.com,${['gold', 'silver', 'bronze'][i % 3]},2024-01-${String(1 + (i % 28)).padStart(2, '0')}`);
    fs.writeFileSync(path.join(work, 'customers.csv'), `${lines.join('\n')}\n`);
    expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'), '--json')).json()).toMatchObject({ rows: 1000 });
    // The rows are in PostgreSQL, in the profile store's own schema; the home holds no DuckDB file.
    expect((await db.query(`SELECT count(*)::int AS n FROM "${profiles}"."Customer"`)).rows[0].n).toBe(1000);
    expect(fs.existsSync(path.join(home, 'profiles.duckdb'))).toBe(false);

    expect((await outflow(home, 'segment', 'create', 'gold', '--where', "tier = 'gold' and joined >= '2024-01-10'")).code).toBe(0);
    const [{ members }] = (await outflow(home, 'segment', 'refresh', 'gold', '--json')).json();
    const expected = lines.slice(1).filter((l) => l.split(',')[2] === 'gold' && l.split(',')[3]! >= '2024-01-10');
    expect(members).toBe(expected.length);

    const config = writeJson(work, 'gold-iterable.json', { mapping: { email: 'email', tier: 'tier' }, syncMode: 'mirror' });
    expect((await outflow(home, 'export', 'create', '--name', 'gold-iterable', '--connection', 'iterable', '--segments', 'gold', '--config', config)).code).toBe(0);
    const run = (await outflow(home, 'export', 'run', 'gold-iterable', '--json')).json();
    expect(run).toMatchObject({ status: 'succeeded', sent: expected.length, rejected: 0 });
    const list = iterable.lists(ITERABLE_KEY).find((l) => l.name === 'gold')!;
    expect([...list.members].sort()).toEqual(expected.map((l) => l.split(',')[1]).sort());

    // Mirror on the PostgreSQL store: a reload drops members, the next run removes exactly them.
    fs.writeFileSync(path.join(work, 'fewer.csv'), `${lines.filter((l) => !l.startsWith('12,') && !l.startsWith('15,')).join('\n')}\n`);
    expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'fewer.csv'))).code).toBe(0);
    const again = (await outflow(home, 'export', 'run', 'gold-iterable', '--json')).json();
    const gone = expected.filter((l) => ['12', '15'].includes(l.split(',')[0]!)).length;
    expect(gone).toBe(2);
    expect(again).toMatchObject({ status: 'succeeded', sent: 0, entities: [{ name: 'gold', removed: gone }] });

    const sftp = writeJson(work, 'all.json', { rowsPerFile: 400 });
    expect((await outflow(home, 'export', 'create', '--name', 'all', '--connection', 'partner', '--entities', 'Customer', '--config', sftp)).code).toBe(0);
    expect((await outflow(home, 'export', 'create', '--name', 'gold-files', '--connection', 'partner', '--segments', 'gold')).code).toBe(0);
    clearUploads();
    expect((await outflow(home, 'export', 'run', 'all', '--json')).json()).toMatchObject({ status: 'succeeded', entities: [{ rows: 998 }] });
    const all = uploaded('Customer', ['profile_id', 'email', 'tier', 'joined']);
    // Every row once, in the loaded file's order across the parts.
    expect(all.map((r) => r.join(',')).sort()).toEqual(lines.slice(1).filter((l) => !l.startsWith('12,') && !l.startsWith('15,')).sort());
    expect((await outflow(home, 'export', 'run', 'gold-files', '--json')).json()).toMatchObject({ status: 'succeeded', entities: [{ rows: expected.length - gone }] });
    expect(uploaded('gold', ['profile_id', 'email', 'tier', 'joined']).map((r) => Number(r[0]))).toEqual(
      expected.map((l) => Number(l.split(',')[0])).filter((id) => id !== 12 && id !== 15).sort((a, b) => a - b),
    );
  });

  it('attaches a live table: segments and exports read it where it is, and it cannot be loaded over', async () => {
    const attached = await outflow(home, 'entity', 'attach', 'Member', '--table', `${crm}.customers`, '--key', 'customer_id', '--json');
    expect(attached.stderr).toBe('');
    expect(attached.json()).toMatchObject({ name: 'Member', key: 'customer_id', rows: 300, attached: `${crm}.customers` });
    expect(attached.json().columns.map((c: { type: string }) => c.type)).toEqual(['INTEGER', 'VARCHAR', 'VARCHAR', 'INTEGER', 'BOOLEAN']);
    // Nothing was copied into the profile store's schema.
    expect((await db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename = 'Member'`, [profiles])).rows[0].n).toBe(0);

    const load = await outflow(home, 'entity', 'load', 'Member', path.join(work, 'customers.csv'), '--key', 'profile_id');
    expect(load.code).not.toBe(0);
    expect(load.stderr).toMatch(/Member is attached to .*customers: Outflow reads that table live and never loads over it/);

    expect((await outflow(home, 'segment', 'create', 'crm-gold', '--entity', 'Member', '--where', "tier = 'gold' and score >= 50")).code).toBe(0);
    const goldIds = async () =>
      (await db.query(`SELECT customer_id FROM "${crm}".customers WHERE tier = 'gold' AND score >= 50 ORDER BY customer_id`)).rows.map((r) => r.customer_id as number);
    let ids = await goldIds();
    expect((await outflow(home, 'segment', 'refresh', 'crm-gold', '--json')).json()).toEqual([{ name: 'crm-gold', members: ids.length }]);

    const config = writeJson(work, 'crm-iterable.json', { mapping: { email: 'email', score: 'score' }, syncMode: 'mirror' });
    expect((await outflow(home, 'export', 'create', '--name', 'crm-iterable', '--connection', 'iterable', '--segments', 'crm-gold', '--config', config)).code).toBe(0);
    expect((await outflow(home, 'export', 'create', '--name', 'crm-files', '--connection', 'partner', '--segments', 'crm-gold')).code).toBe(0);
    expect((await outflow(home, 'export', 'run', 'crm-iterable', '--json')).json()).toMatchObject({ status: 'succeeded', sent: ids.length });

    // The table changes in PostgreSQL: new rows, a changed value, a member who leaves. Outflow sees it at once.
    await db.query(`INSERT INTO "${crm}".customers VALUES (1001, 'new1@example.com', 'gold', 99, true), (1002, 'new2@example.com', 'gold', 10, false)`);
    await db.query(`UPDATE "${crm}".customers SET score = 77 WHERE customer_id = $1`, [ids[0]]);
    await db.query(`UPDATE "${crm}".customers SET tier = 'silver' WHERE customer_id = $1`, [ids[1]]);
    ids = await goldIds();
    expect((await outflow(home, 'segment', 'refresh', 'crm-gold', '--json')).json()).toEqual([{ name: 'crm-gold', members: ids.length }]);
    const second = (await outflow(home, 'export', 'run', 'crm-iterable', '--json')).json();
    expect(second).toMatchObject({ status: 'succeeded', sent: 2, entities: [{ name: 'crm-gold', removed: 1 }] });
    expect(iterable.user('new1@example.com')).toBeDefined();
    expect(iterable.user(`crm${ids[0]}@example.com`)?.dataFields).toEqual({ score: 77 });
    const list = iterable.lists(ITERABLE_KEY).find((l) => l.name === 'crm-gold')!;
    expect(list.members).toHaveLength(ids.length);

    clearUploads();
    expect((await outflow(home, 'export', 'run', 'crm-files', '--json')).json()).toMatchObject({ status: 'succeeded', entities: [{ name: 'crm-gold', rows: ids.length }] });
    const rows = uploaded('crm-gold', ['customer_id', 'email', 'tier', 'score', 'vip']);
    expect(rows.map((r) => Number(r[0]))).toEqual(ids);
    expect(rows.find((r) => r[0] === '1001')).toEqual(['1001', 'new1@example.com', 'gold', '99', 'true']);
    expect(rows.find((r) => r[0] === String(ids[0]))?.[3]).toBe('77');

    // A whole attached entity as files, read live too.
    expect((await outflow(home, 'export', 'create', '--name', 'crm-all', '--connection', 'partner', '--entities', 'Member')).code).toBe(0);
    clearUploads();
    expect((await outflow(home, 'export', 'run', 'crm-all', '--json')).json()).toMatchObject({ status: 'succeeded', entities: [{ name: 'Member', rows: 302 }] });
    expect(uploaded('Member', ['customer_id', 'email', 'tier', 'score', 'vip'])).toHaveLength(302);
  });

  it('reports a column dropped from an attached table on the segments and exports that use it', async () => {
    await db.query(`ALTER TABLE "${crm}".customers DROP COLUMN score`);
    const refresh = await outflow(home, 'segment', 'refresh', 'crm-gold');
    expect(refresh.code).not.toBe(0);
    expect(refresh.stderr).toMatch(
      new RegExp(`Segment "crm-gold" uses a column that ${crm}\\.customers \\(attached as Member\\) no longer has \\(dropped or renamed\\?\\)\\. Restore the column in ${crm}\\.customers, or change the filter with \`outflow segment update crm-gold --where …\`\\. Unknown column score`),
    );
    const run = await outflow(home, 'export', 'run', 'crm-iterable', '--json');
    expect(run.code).not.toBe(0);
    expect(run.json().error.message).toMatch(
      new RegExp(`Entity Member is attached to ${crm}\\.customers, which no longer has column "score" \\(dropped or renamed\\?\\)\\. Restore the column in ${crm}\\.customers, or change the segments and exports that use it`),
    );
    // The export of the whole table renders the columns the table has now.
    clearUploads();
    expect((await outflow(home, 'export', 'run', 'crm-all', '--json')).json()).toMatchObject({ status: 'succeeded', entities: [{ rows: 302 }] });
    expect(uploaded('Member', ['customer_id', 'email', 'tier', 'vip'])).toHaveLength(302);
  });

  it('attaches a quoted mixed-case table, leaves rows without a key out, and names a key that is not unique', async () => {
    await db.query(`CREATE TABLE "${crm}"."Leads" (lead_id text, email text)`);
    await db.query(`INSERT INTO "${crm}"."Leads" VALUES ('L1', 'l1@example.com'), ('L2', 'l2@example.com'), (NULL, 'nokey@example.com')`);
    const attached = await outflow(home, 'entity', 'attach', 'Lead', '--table', `${crm}."Leads"`, '--key', 'lead_id', '--json');
    expect(attached.stderr).toBe('');
    expect(attached.json()).toMatchObject({ rows: 3, attached: `${crm}."Leads"` });
    expect((await outflow(home, 'segment', 'create', 'leads', '--entity', 'Lead', '--where', "email like '%@example.com'")).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'leads', '--json')).json()).toEqual([{ name: 'leads', members: 2 }]);
    await db.query(`INSERT INTO "${crm}"."Leads" VALUES ('L1', 'again@example.com')`);
    const refresh = await outflow(home, 'segment', 'refresh', 'leads');
    expect(refresh.code).not.toBe(0);
    expect(refresh.stderr).toMatch(/The key column "lead_id" of .*"Leads" holds the same value more than once/);
    // The previous membership stays.
    expect((await outflow(home, 'segment', 'list', '--json')).json().find((x: { name: string }) => x.name === 'leads')).toMatchObject({ members: 2 });
  });

  it('refuses to attach on the embedded DuckDB store, saying what to do', async () => {
    const saved = process.env.OUTFLOW_PROFILES_URL;
    delete process.env.OUTFLOW_PROFILES_URL;
    const other = tempDir('duck-home');
    try {
      const result = await outflow(other, 'entity', 'attach', 'Member', '--table', `${crm}.customers`, '--key', 'customer_id');
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/Cannot attach Member: the embedded profile store \(DuckDB\) holds copies only\..*OUTFLOW_PROFILES_URL=postgres:\/\//);
    } finally {
      process.env.OUTFLOW_PROFILES_URL = saved;
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
