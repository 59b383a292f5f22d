import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/errors.ts';

/** Encrypts connection secrets at rest with AES-256-GCM. */
export interface SecretBox {
  seal(secrets: Record<string, string>): string;
  open(sealed: string): Record<string, string>;
}

const VERSION = 'v1';

/**
 * The key comes from `OUTFLOW_SECRET_KEY` (64 hex characters or base64 of 32 bytes; any other text is
 * hashed to 32 bytes), else from `<home>/secret.key`, created on first use with permissions 0600.
 */
export function loadSecretKey(home: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.OUTFLOW_SECRET_KEY;
  if (fromEnv) return keyFromText(fromEnv);
  const file = path.join(home, 'secret.key');
  try {
    return keyFromText(fs.readFileSync(file, 'utf8').trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(home, { recursive: true });
  const key = randomBytes(32);
  try {
    // 'wx' fails if another process created the file in the meantime; then we read theirs.
    fs.writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return keyFromText(fs.readFileSync(file, 'utf8').trim());
    throw error;
  }
}

/**
 * A short fingerprint of the key (an HMAC of a fixed text under it): a backup records it, so a restore can tell
 * a wrong key before anything is written, without decrypting anything or revealing the key.
 */
export function keyCheck(key: Buffer): string {
  return createHmac('sha256', key).update('outflow backup key check').digest('hex').slice(0, 16);
}

/** The key a key file or OUTFLOW_SECRET_KEY holds. */
export function keyFromText(text: string): Buffer {
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  const base64 = Buffer.from(text, 'base64');
  if (base64.length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(text)) return base64;
  return createHash('sha256').update(text, 'utf8').digest();
}

export function createSecretBox(key: Buffer): SecretBox {
  return {
    seal(secrets) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== VERSION || !iv || !tag || body === undefined) {
        throw new ConfigError('invalid_settings', 'A stored secret is not in a format this version of Outflow can read.');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
        decipher.setAuthTag(Buffer.from(tag, 'base64'));
        const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
        return JSON.parse(text) as Record<string, string>;
      } catch (cause) {
        throw new ConfigError(
          'invalid_settings',
          'Cannot decrypt the stored connection secrets: the secret key differs from the one they were saved with. Restore OUTFLOW_SECRET_KEY or <home>/secret.key, or re-create the connection.',
          { cause },
        );
      }
    },
  };
}
