import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { z } from 'zod';
import { OutflowError, RetryableError } from '../../domain/errors.ts';
import { defineDestination, fail, ok, type CheckResult, type DestinationContext } from '../kit/define.ts';
import { secret } from '../kit/secret.ts';
import { DEFAULT_READY_TIMEOUT_MS, HostKeyMismatchError, openSftpSession, serverOf, type SftpSession } from './client.ts';
import { sftpFiles } from './files.ts';

const connectionSchema = z
  .object({
    host: z.string().trim().min(1).describe('Host name or IP address of the SFTP server.'),
    port: z.coerce.number().int().min(1).max(65_535).default(22),
    username: z.string().min(1),
    password: secret(z.string().min(1)).optional(),
    privateKey: secret(z.string().min(1)).describe('PEM or OpenSSH private key text.').optional(),
    privateKeyFile: z
      .string()
      .min(1)
      .describe('Path to a private key file on the server, instead of pasting the key: read when the connection is saved, then stored encrypted like a pasted key.')
      .optional(),
    passphrase: secret(z.string().min(1)).describe('Opens a private key that is encrypted.').optional(),
    folder: z
      .string()
      .trim()
      .min(1)
      // A `..` in the folder is almost always a typo, and it would write customer data where nobody looks.
      .refine((folder) => !folder.split(/[\\/]/).includes('..'), {
        message: 'must not contain ".." segments: give the export folder itself, e.g. /exports/partner (absolute) or exports/partner (relative to the login folder).',
      })
      .overwrite(normalizeFolder)
      .describe('Export folder: absolute, or relative to the login folder. Stored normalized (`//` and a trailing `/` dropped); `..` is refused.'),
    compression: z.enum(['gzip', 'none']).default('none'),
    delimiter: z.enum([',', ';', '\t', '|']).default(','),
    // `none` by default: these files feed other programs, for which a leading ' corrupts values such as
    // E.164 phone numbers (+316…); files meant to be opened in a spreadsheet should use `quote`.
    formulaEscaping: z
      .enum(['none', 'quote'])
      .default('none')
      .describe(
        "`quote` prefixes text values starting with = + - @ TAB or CR with ' so that spreadsheets show them instead of running them as formulas (OWASP CSV injection). Numbers, dates and booleans are never changed.",
      ),
    hostKeySha256: z
      .string()
      .trim()
      .regex(/^(SHA256:)?[A-Za-z0-9+/]{43}=?$/, 'expected an OpenSSH SHA-256 fingerprint such as SHA256:jb2x…')
      .describe('Pins the server host key (`ssh-keygen -l -E sha256`). Without it, `connection verify` records the key.')
      .optional(),
    readyTimeoutMs: z.coerce.number().int().positive().max(600_000).describe(`How long to wait for the server to answer the login, in milliseconds; default ${DEFAULT_READY_TIMEOUT_MS.toLocaleString('en-US')}.`).optional(),
  })
  .refine((conn) => conn.password !== undefined || conn.privateKey !== undefined || conn.privateKeyFile !== undefined, {
    message: 'Set a password or a private key (CLI: password, privateKey or privateKeyFile).',
    path: ['password'],
  });

/** `//exports/./partner/` → `/exports/partner`; `partner/` → `partner`; `/` stays `/`. */
export function normalizeFolder(folder: string): string {
  const normalized = posix.normalize(folder);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
}

export type SftpConnection = z.infer<typeof connectionSchema>;

function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Checks the export folder, then writes and deletes a probe file in it. */
async function checkFolder(session: SftpSession, conn: SftpConnection): Promise<void> {
  await session.assertFolder();
  const probe = posix.join(conn.folder, `.outflow-check-${randomBytes(6).toString('hex')}.tmp`);
  await session.writeFile(probe, Buffer.from('outflow connection check\n'));
  await session.unlink(probe);
}

async function check(conn: SftpConnection, ctx: DestinationContext): Promise<CheckResult> {
  let session: SftpSession | undefined;
  try {
    session = await openSftpSession(conn, ctx);
    const timeoutMs = conn.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    await withDeadline(
      checkFolder(session, conn),
      timeoutMs,
      () =>
        new RetryableError(
          'timeout',
          `The SFTP server at ${serverOf(conn)} did not answer within ${timeoutMs} ms while checking folder \`${conn.folder}\` (connection \`${ctx.connectionName}\`).`,
        ),
    );
    if (ctx.verifying) {
      const recorded = ctx.state.hostKeySha256;
      if (typeof recorded === 'string' && recorded !== session.hostKeySha256) {
        ctx.log.warn({ server: serverOf(conn), recorded, accepted: session.hostKeySha256 }, 'sftp host key replaced by an admin');
      }
      await ctx.saveState({ hostKeySha256: session.hostKeySha256 });
    }
    return ok({ hostKeySha256: session.hostKeySha256 });
  } catch (error) {
    if (error instanceof HostKeyMismatchError) {
      return fail(error.code, error.message, { offeredHostKeySha256: error.offered, trustedHostKeySha256: error.trusted, recordedHostKeySha256: error.recorded ?? null });
    }
    if (error instanceof OutflowError) return fail(error.code, error.message);
    ctx.log.error({ server: serverOf(conn), error: (error as Error).message }, 'sftp check failed unexpectedly');
    return fail('internal', `Checking the SFTP server at ${serverOf(conn)} failed unexpectedly (connection \`${ctx.connectionName}\`): ${(error as Error).message}`);
  } finally {
    await session?.end();
  }
}

/**
 * SFTP: each run uploads CSV parts under temporary names into one folder and renames them when the run
 * succeeds, so readers never see a partial file.
 */
export default defineDestination({
  id: 'sftp',
  title: 'SFTP',
  docsUrl: 'https://datatracker.ietf.org/doc/html/draft-ietf-secsh-filexfer-02',
  connection: { schema: connectionSchema, check },
  export: sftpFiles,
});
