import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import { ValidationError } from '../domain/errors.ts';
import { openHome, type Home } from './home.ts';
import { setHomeNotify, showHomeNotify } from './notify.ts';

let dir: string;
let home: Home;

beforeEach(async () => {
  dir = tempDir('notify-target');
  home = await openHome({ dir, env: {}, actor: { name: 'owner', role: 'admin' } });
});
afterEach(async () => {
  await home.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('alert webhook targets', () => {
  it('refuses loopback, private and link-local targets, by address or by a name resolving there', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:9/hook', 'https://10.0.0.8/hook']) {
      const refused = await setHomeNotify(home, { url }).catch((e) => e);
      expect(refused, url).toBeInstanceOf(ValidationError);
      expect(refused.message).toMatch(/a loopback, private or link-local address\. Alerts go to public webhooks; to allow private ones, whoever runs the server sets OUTFLOW_WEBHOOKS_ALLOW_PRIVATE=1\.$/);
    }
    expect((await setHomeNotify(home, { url: 'http://localhost:9/hook' }).catch((e) => e)).message).toMatch(/points at localhost \(it resolves to (127\.0\.0\.1|::1)\)/);
    expect(await showHomeNotify(home)).toBeNull();
    // A public address is taken.
    expect((await setHomeNotify(home, { url: 'https://93.184.216.34/services/secret' })).url).toBe('https://93.184.216.34/services/***');
  });

  it('takes them when the server allows private webhooks (OUTFLOW_WEBHOOKS_ALLOW_PRIVATE=1)', async () => {
    await home.close();
    home = await openHome({ dir, env: { OUTFLOW_WEBHOOKS_ALLOW_PRIVATE: '1' }, actor: { name: 'owner', role: 'admin' } });
    expect((await setHomeNotify(home, { url: 'http://127.0.0.1:9/hook' })).url).toBe('http://127.0.0.1:9/hook');
    await expect(openHome({ dir: tempDir('notify-flag'), env: { OUTFLOW_WEBHOOKS_ALLOW_PRIVATE: 'sure' } })).rejects.toThrow('OUTFLOW_WEBHOOKS_ALLOW_PRIVATE must be 1 (yes) or 0 (no), not "sure".');
  });
});
