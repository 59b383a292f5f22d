import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { ConfigError, OutflowError } from '../../domain/errors.ts';
import { defineFileExport, type DestinationContext, type FileSink, type StagedFile } from '../kit/define.ts';
import { openSftpSession, serverOf, type SftpSession } from './client.ts';
import type { SftpConnection } from './index.ts';

/**
 * WRITE requests awaiting the server's answer per upload (bytes). Twice OpenSSH's channel window (2 MiB), so
 * that the window is never idle while the server's answers are on their way; two parts upload at once.
 */
export const UPLOAD_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * Where a part is written until `commit`: hidden (leading dot) and clearly unfinished. `tag` names the export,
 * so that its next run can remove what a crash left (`.<name>.<tag>.<random>.partial`).
 */
export function tempNameFor(path: string, tag?: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.${tag ? `${tag}.` : ''}${randomBytes(6).toString('hex')}.partial`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The temporary files of an export in a folder listing: those tagged with its `tag`, and untagged ones (left by
 * versions before tags) whose final name starts with one of `prefixes` followed by a run's timestamp.
 */
export function sweepableTempNames(names: string[], tag: string | undefined, prefixes: string[]): string[] {
  const tagged = tag ? new RegExp(`^\\..+\\.${escapeRegExp(tag)}\\.[0-9a-f]{12}\\.partial$`) : null;
  const legacy = prefixes.length
    ? new RegExp(`^\\.(?:${prefixes.map(escapeRegExp).join('|')})_\\d{8}T\\d{6}Z_\\d+of\\d+\\.csv(?:\\.gz)?\\.[0-9a-f]{12}\\.partial$`)
    : null;
  return names.filter((name) => tagged?.test(name) || legacy?.test(name));
}

function assertFileName(name: string, ctx: DestinationContext): void {
  const parts = name.split('/');
  if (name.length === 0 || name.startsWith('/') || name.includes('\0') || parts.some((part) => part === '..' || part === '')) {
    throw new ConfigError(
      'invalid_input',
      `Refusing to upload \`${name}\` for connection \`${ctx.connectionName}\`: a file name must be a relative path inside the export folder.`,
    );
  }
}

/** One connection for a whole run; several parts may be staged on it at once. */
export async function openSftpSink(conn: SftpConnection, ctx: DestinationContext, options: { tempTag?: string } = {}): Promise<FileSink> {
  let session = await openSftpSession(conn, ctx);
  try {
    await session.assertFolder();
  } catch (error) {
    await session.end();
    throw error;
  }

  let reconnecting: Promise<SftpSession> | undefined;
  /** Temporary files of failed uploads that could not be removed at once (the connection was gone). */
  const orphans = new Set<string>();

  // A dropped connection fails the uploads in flight; whatever comes next (a retried part, `discard`)
  // gets a fresh connection, checked against the same host key.
  const live = (): Promise<SftpSession> => {
    if (!session.isClosed) return Promise.resolve(session);
    reconnecting ??= openSftpSession(conn, ctx)
      .then((fresh) => {
        session = fresh;
        return fresh;
      })
      .finally(() => {
        reconnecting = undefined;
      });
    return reconnecting;
  };

  const removeQuietly = async (current: SftpSession, tempPath: string): Promise<boolean> => {
    try {
      await current.unlink(tempPath);
      return true;
    } catch (error) {
      // Already gone is as good as removed.
      if (error instanceof ConfigError && error.code === 'folder_missing') return true;
      ctx.log.warn({ server: serverOf(conn), path: tempPath, code: (error as OutflowError).code }, 'could not remove a temporary sftp file');
      return false;
    }
  };

  return {
    async stage(name: string, body: Readable): Promise<StagedFile> {
      assertFileName(name, ctx);
      const path = posix.join(conn.folder, name);
      const tempPath = tempNameFor(path, options.tempTag);
      const current = await live();
      let bytes: number;
      try {
        bytes = await current.upload(tempPath, body, UPLOAD_WINDOW_BYTES);
      } catch (error) {
        body.destroy();
        // A failing body (the engine's renderer) keeps its own error; SFTP statuses and transport failures
        // are classified.
        const fromServer = current.isTransportFailure || typeof (error as { code?: unknown }).code === 'number';
        const failure = fromServer ? current.classify(error, 'upload', tempPath) : error;
        if (current.isClosed || !(await removeQuietly(current, tempPath))) orphans.add(tempPath);
        throw failure;
      }
      ctx.log.debug({ server: serverOf(conn), path: tempPath, bytes }, 'staged sftp file');
      return { name, path, tempPath, bytes };
    },

    async commit(files, { resumed = false } = {}): Promise<void> {
      const current = await live();
      for (const file of files) {
        if (resumed) {
          const staged = await current.stat(file.tempPath).then(
            () => true,
            (error: unknown) => {
              if (error instanceof ConfigError && error.code === 'folder_missing') return false;
              throw error;
            },
          );
          // Renamed before the interruption: its final name must be there, or the set is broken.
          if (!staged) {
            await current.stat(file.path);
            continue;
          }
        }
        await current.replace(file.tempPath, file.path);
      }
      ctx.log.info({ server: serverOf(conn), files: files.length, atomic: current.hasPosixRename }, 'committed sftp files');
    },

    async sweep(prefixes: string[]): Promise<string[]> {
      try {
        const current = await live();
        const names = sweepableTempNames(await current.list(conn.folder), options.tempTag, prefixes);
        const removed: string[] = [];
        for (const name of names) {
          const path = posix.join(conn.folder, name);
          if (await removeQuietly(current, path)) removed.push(path);
        }
        if (removed.length > 0) ctx.log.info({ server: serverOf(conn), files: removed.length }, 'removed temporary sftp files of interrupted runs');
        return removed;
      } catch (error) {
        ctx.log.warn({ server: serverOf(conn), code: (error as OutflowError).code }, 'could not list the folder to remove temporary files of interrupted runs');
        return [];
      }
    },

    async discard(files: StagedFile[]): Promise<void> {
      const temps = new Set([...files.map((file) => file.tempPath), ...orphans]);
      if (temps.size === 0) return;
      let current: SftpSession;
      try {
        current = await live();
      } catch (error) {
        ctx.log.warn({ server: serverOf(conn), files: temps.size, code: (error as OutflowError).code }, 'could not reconnect to remove temporary sftp files');
        return;
      }
      for (const tempPath of temps) {
        if (await removeQuietly(current, tempPath)) orphans.delete(tempPath);
      }
    },

    async close(): Promise<void> {
      await session.end();
    },
  };
}

export const sftpFiles = defineFileExport<SftpConnection, z.ZodObject>({
  kind: 'files',
  title: 'CSV files in an SFTP folder',
  settings: z.object({}),
  format: (conn) => ({ delimiter: conn.delimiter, compression: conn.compression, formulaEscaping: conn.formulaEscaping }),
  open: openSftpSink,
});
