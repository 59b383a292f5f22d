import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretBox, loadSecretKey } from './secret-box.ts';

describe('secret box', () => {
  it('creates the key file once with permissions 0600 and reuses it', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-key-'));
    const first = loadSecretKey(home, {});
    expect(fs.statSync(path.join(home, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(loadSecretKey(home, {}).equals(first)).toBe(true);
    fs.rmSync(home, { recursive: true });
  });

  it('prefers OUTFLOW_SECRET_KEY and accepts hex, base64 or a passphrase', () => {
    const hex = 'ab'.repeat(32);
    expect(loadSecretKey('/nonexistent', { OUTFLOW_SECRET_KEY: hex }).toString('hex')).toBe(hex);
    expect(loadSecretKey('/nonexistent', { OUTFLOW_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') }).equals(Buffer.alloc(32, 7))).toBe(true);
    expect(loadSecretKey('/nonexistent', { OUTFLOW_SECRET_KEY: 'correct horse battery staple' })).toHaveLength(32);
  });

  it('round-trips secrets, hides them, and refuses a wrong key with a message that says what to do', () => {
    const box = createSecretBox(Buffer.alloc(32, 1));
    const sealed = box.seal({ password: 'p@ssw0rd-very-secret' });
    expect(sealed).not.toContain('p@ssw0rd');
    expect(box.seal({ password: 'p@ssw0rd-very-secret' })).not.toBe(sealed);
    expect(box.open(sealed)).toEqual({ password: 'p@ssw0rd-very-secret' });
    expect(() => createSecretBox(Buffer.alloc(32, 2)).open(sealed)).toThrow(/secret key differs.*OUTFLOW_SECRET_KEY/);
  });
});
