import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEd25519KeyPair, startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { outflow, tempDir, writeJson } from './support/cli.ts';

const PASSWORD = 'host-key-test-password';
let home: string;
let root: string;
let server: FakeSftpServer;

beforeAll(() => {
  home = tempDir('host-key-home');
  root = tempDir('host-key-root');
  fs.mkdirSync(path.join(root, 'out'));
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(root, { recursive: true, force: true });
});

/** The same server (host, port, files) with a host key of its own: a reinstalled or re-keyed SFTP host. */
async function serveWithNewHostKey(): Promise<FakeSftpServer> {
  const port = server?.port;
  await server?.close();
  server = await startFakeSftpServer({ username: 'partner', password: PASSWORD, root, port, hostKey: generateEd25519KeyPair().private });
  return server;
}

const recordedKey = async (name: string) => (await outflow(home, 'connection', 'show', name)).json().hostKeySha256;

describe('connection verify after the SFTP host key changed', () => {
  it('trusts the first key, then shows both fingerprints and refuses until the admin accepts the new one explicitly', async () => {
    const first = await serveWithNewHostKey();
    const config = writeJson(root, 'sftp.json', { host: first.host, port: first.port, username: 'partner', password: PASSWORD, folder: '/out' });
    expect((await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'partner', '--config', config, '--accept-privacy-terms')).code).toBe(0);
    // Trust on first use: a never-verified connection records whatever key the server shows.
    const tofu = await outflow(home, 'connection', 'verify', 'partner');
    expect(tofu.code).toBe(0);
    expect(tofu.stdout).toContain(`Host key ${first.hostKeySha256} recorded.`);
    const oldKey = first.hostKeySha256;

    const second = await serveWithNewHostKey();
    expect(second.port).toBe(first.port);
    const newKey = second.hostKeySha256;
    expect(newKey).not.toBe(oldKey);

    const refused = await outflow(home, 'connection', 'verify', 'partner');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(host_key_mismatch)');
    expect(refused.stderr).toContain(`presented host key ${newKey}, but connection \`partner\` recorded ${oldKey}`);
    expect(refused.stderr).toContain(`outflow connection verify partner --accept-host-key ${newKey}`);
    expect(await recordedKey('partner')).toBe(oldKey);
    // Refused before logging in: the server saw no SFTP request.
    expect(second.operations).toEqual([]);

    const json = (await outflow(home, 'connection', 'verify', 'partner', '--json')).json();
    expect(json).toMatchObject({ ok: false, code: 'host_key_mismatch', details: { offeredHostKeySha256: newKey, recordedHostKeySha256: oldKey } });

    const wrong = await outflow(home, 'connection', 'verify', 'partner', '--accept-host-key', oldKey);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`presented host key ${newKey}, not ${oldKey} given with --accept-host-key`);
    expect(await recordedKey('partner')).toBe(oldKey);

    const malformed = await outflow(home, 'connection', 'verify', 'partner', '--accept-host-key', 'yes');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--accept-host-key needs the server's SHA-256 host key fingerprint/);

    const accepted = await outflow(home, 'connection', 'verify', 'partner', '--accept-host-key', newKey.replace('SHA256:', ''));
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(`Host key ${newKey} recorded.`);
    expect(await recordedKey('partner')).toBe(newKey);
    expect((await outflow(home, 'connection', 'verify', 'partner')).code).toBe(0);
  });
});
