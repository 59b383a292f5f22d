import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openHome } from '../src/app/home.ts';
import { tempDir } from './support/cli.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

// A server SIGKILLed while it receives an entity upload cannot remove the upload's folder in tmp/; the next
// process that opens the home does, as it does for the scratch folders of killed runs.

let home: string;
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.kill();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe('entity uploads of a killed server', () => {
  it('are removed when the home is next opened; those of a live process stay', async () => {
    home = tempDir('upload-sweep');
    server = await startServerProcess(home);
    const tmp = path.join(home, 'tmp');
    const pid = server.child.pid!;
    // An upload that never ends: the server has written its first bytes into tmp/upload-<pid>-*/.
    const url = new URL('/api/entities/Customer?key=profile_id', server.url);
    const request = http.request(url, { method: 'PUT', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'text/csv' } });
    request.on('error', () => {});
    request.write('profile_id,email\n1,a@example.com\n');
    const uploads = () => fs.readdirSync(tmp).filter((name) => name.startsWith('upload-'));
    for (let i = 0; i < 200 && uploads().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const left = uploads();
    expect(left).toEqual([expect.stringMatching(new RegExp(`^upload-${pid}-`))]);
    await server.kill();
    server = undefined;
    request.destroy();
    expect(uploads()).toEqual(left);

    // An upload in progress in another live process (here: the one that runs this test's runner) is not touched.
    const live = path.join(tmp, `upload-${process.ppid}-live`);
    fs.mkdirSync(live);
    const opened = await openHome({ dir: home, env: { ...process.env, OUTFLOW_DATABASE_URL: '' } });
    await opened.close();
    expect(uploads()).toEqual([path.basename(live)]);
  }, 60_000);
});
