import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment } from '../src/app/data.ts';
import { openHome } from '../src/app/home.ts';
import { createUser } from '../src/app/users.ts';
import { getConnectionByName } from '../src/store/metadata/connections.ts';
import * as exportStore from '../src/store/metadata/exports.ts';
import * as segmentStore from '../src/store/metadata/segments.ts';
import { outflow, tempDir } from './support/cli.ts';

// Names stored before they were checked (straight into the store here) still reach a terminal: an ESC that
// clears the screen, a newline that forges a table row, a right-to-left override that shows another name.
const CLEAR_SCREEN = 'promo\x1b[2J\x1b[H';
const FORGED_ROW = 'vip\nadmin-only   Customer   0';
const REVERSED = 'invoice\u202egpj.exe';
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

let home: string;
let work: string;

beforeAll(async () => {
  home = tempDir('names-home');
  work = tempDir('names-work');
  fs.writeFileSync(path.join(work, 'c.csv'), 'profile_id,email,country\n1,a@example.com,NL\n');
  const h = await openHome({ dir: home, actor: { name: 'admin', role: 'admin' } });
  try {
    await h.profiles.loadEntity('Customer', path.join(work, 'c.csv'), { key: 'profile_id' });
    await createSegment(h, { name: 'nl', where: "country = 'NL'" });
    await createUser(h, { name: 'admin', role: 'admin' });
    await createUser(h, { name: 'casey', role: 'contributor' });
    for (const name of [CLEAR_SCREEN, FORGED_ROW]) await segmentStore.createSegment(h.db, { name, entity: 'Customer', filter: "country = 'NL'", createdBy: 'admin' });
    await createConnection(h, { type: 'sftp', name: 'files', config: { host: 'sftp.example.com', username: 'u', password: 'p', folder: '/out' }, acceptPrivacyTerms: true });
    const connection = await getConnectionByName(h.db, h.box, 'files');
    await exportStore.createExport(h.db, { name: REVERSED, connectionId: connection.id, sourceKind: 'segments', sources: ['nl'], config: {}, createdBy: 'admin' });
  } finally {
    await h.close();
  }
});

afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('names with control characters', () => {
  it('refuses them on create, saying which character and where, and saves nothing', async () => {
    for (const [args, what] of [
      [['segment', 'create', 'a\x1b[31mb', '--where', "country = 'NL'"], 'segment'],
      [['segment', 'create', 'a\0b', '--where', "country = 'NL'"], 'segment'],
      [['export', 'create', '--name', 'x\u2066y', '--connection', 'files', '--segments', 'nl'], 'export'],
      [['export', 'create', '--name', 'two\nlines', '--connection', 'files', '--segments', 'nl'], 'export'],
      [['connection', 'update', 'files', '--name', 'files\u202e'], 'connection'],
      [['token', 'create', 'casey', '--name', 'ci\x1b]0;owned\x07'], 'token'],
    ] as const) {
      const result = await outflow(home, ...args);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^error: The ${what} name ".*" holds U\\+(001B|0000|000A|2066|202E) at position \\d`));
      expect(result.stderr).not.toMatch(RAW);
    }
    const segments = (await outflow(home, 'segment', 'list', '--json')).json<{ name: string }[]>();
    expect(segments.map((s) => s.name).sort()).toEqual([CLEAR_SCREEN, 'nl', FORGED_ROW].sort());
    expect((await outflow(home, 'connection', 'list', '--json')).json<{ name: string }[]>().map((c) => c.name)).toEqual(['files']);
  });

  it('prints stored names escaped: one table row per segment, no escape sequence, no reordering', async () => {
    const list = await outflow(home, 'segment', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toMatch(RAW);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.some((l) => l.startsWith('promo\\u001b[2J\\u001b[H '))).toBe(true);
    expect(lines.some((l) => l.startsWith('vip\\u000aadmin-only   Customer   0 '))).toBe(true);

    const exports = await outflow(home, 'export', 'list');
    expect(exports.stdout).not.toMatch(RAW);
    expect(exports.stdout).toContain('invoice\\u202egpj.exe');

    // JSON stays JSON, and holds the name as stored.
    const json = await outflow(home, 'export', 'list', '--json');
    expect(json.stdout).not.toMatch(RAW);
    expect(json.json<{ name: string }[]>().map((e) => e.name)).toEqual([REVERSED]);

    // Messages too.
    const missing = await outflow(home, 'export', 'show', `${REVERSED}x`);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('invoice\\u202egpj.exex');
    expect(missing.stderr).not.toMatch(RAW);
  });
});
