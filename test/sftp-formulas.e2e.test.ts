import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { outflow, parseCsv, tempDir, writeJson } from './support/cli.ts';

const PASSWORD = 'formula-test-password';
let home: string;
let work: string;
let server: FakeSftpServer;

// Cells a spreadsheet would run as formulas (=, +, -, @, TAB, CR first), an E.164 phone number, and a
// numeric column with a negative number, which is not text and must never change.
const customers = [
  'profile_id,name,phone,balance,note',
  '1,"=HYPERLINK(""http://evil.example"",""x"")",+31612345678,-5,@SUM(A1:A9)',
  '2,Plain,0612345678,7,"\tleading tab"',
  '3,-minus,"\rcr first",0,ok',
  '',
].join('\n');

beforeAll(async () => {
  home = tempDir('formula-home');
  work = tempDir('formula-work');
  server = await startFakeSftpServer({ username: 'partner', password: PASSWORD });
  fs.writeFileSync(path.join(work, 'customers.csv'), customers);
  expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  expect((await outflow(home, 'segment', 'create', 'owing', '--entity', 'Customer', '--where', 'balance < 1')).code).toBe(0);
  expect((await outflow(home, 'segment', 'refresh')).code).toBe(0);
  for (const [name, settings] of [
    ['raw', {}],
    ['safe', { formulaEscaping: 'quote', compression: 'gzip' }],
  ] as const) {
    fs.mkdirSync(path.join(server.root, name));
    const config = writeJson(work, `${name}.json`, { host: server.host, port: server.port, username: 'partner', password: PASSWORD, folder: `/${name}`, ...settings });
    expect((await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', name, '--config', config, '--accept-privacy-terms')).code).toBe(0);
  }
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** Runs the export and reads back the one file it wrote for `source`, from the server's disk. */
async function exported(exportName: string, folder: string, source: string): Promise<string[][]> {
  const run = await outflow(home, 'export', 'run', exportName, '--json');
  expect(run.code, run.stderr).toBe(0);
  // The data file, not the manifest that a complete set carries beside it.
  const [file] = fs.readdirSync(path.join(server.root, folder)).filter((f) => f.startsWith(`${source}_`) && !f.endsWith('.manifest.json'));
  const bytes = fs.readFileSync(path.join(server.root, folder, file!));
  return parseCsv((file!.endsWith('.gz') ? zlib.gunzipSync(bytes) : bytes).toString('utf8'));
}

describe('spreadsheet formulas in SFTP exports', () => {
  it('writes values as they are by default (formulaEscaping none)', async () => {
    expect((await outflow(home, 'export', 'create', '--name', 'raw-all', '--connection', 'raw', '--entities', 'Customer')).code).toBe(0);
    expect(await exported('raw-all', 'raw', 'Customer')).toEqual([
      ['profile_id', 'name', 'phone', 'balance', 'note'],
      ['1', '=HYPERLINK("http://evil.example","x")', '+31612345678', '-5', '@SUM(A1:A9)'],
      ['2', 'Plain', '0612345678', '7', '\tleading tab'],
      ['3', '-minus', '\rcr first', '0', 'ok'],
    ]);
  });

  it("prefixes text cells starting with = + - @ TAB or CR with ' under quote, and leaves numbers alone", async () => {
    expect((await outflow(home, 'export', 'create', '--name', 'safe-all', '--connection', 'safe', '--entities', 'Customer')).code).toBe(0);
    const escaped = [
      ['profile_id', 'name', 'phone', 'balance', 'note'],
      ['1', `'=HYPERLINK("http://evil.example","x")`, "'+31612345678", '-5', "'@SUM(A1:A9)"],
      ['2', 'Plain', '0612345678', '7', "'\tleading tab"],
      ['3', "'-minus", "'\rcr first", '0', 'ok'],
    ];
    expect(await exported('safe-all', 'safe', 'Customer')).toEqual(escaped);

    // A segment export renders through the members join: the same cells, the same escaping.
    expect((await outflow(home, 'export', 'create', '--name', 'safe-owing', '--connection', 'safe', '--segments', 'owing')).code).toBe(0);
    expect(await exported('safe-owing', 'safe', 'owing')).toEqual([escaped[0], escaped[1], escaped[3]]);
  });
});
