import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { ConfigError, OutflowError } from '../../domain/errors.ts';
import { defineFileExport, type DestinationContext, type FileSink, type StagedFile } from '../kit/define.ts';
import { openSftpSession, serverOf, type SftpSession } from './client.ts';
import type { SftpConnection } from './index.ts';

/**
 * How much of a part the SFTP write stream buffers. ssh2's write stream sends every buffered chunk in one
 * go (`_writev`) and then waits for all their acknowledgements: with Node's default 16 KiB buffer, that is
 * one round trip per 16 KiB.
 */
export const UPLOAD_HIGH_WATER_MARK = 8 * 1024 * 1024;

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

/**
 * Counts the bytes of a part and cuts them into pieces of exactly `size` (the server's largest WRITE), so
 * that every buffered piece becomes one WRITE request in flight at once: gzip's 16 KiB chunks would
 * otherwise cost a request each, and 1 MiB chunks would be split into requests sent one by one.
 */
function createRechunker(size: number): Transform & { bytes: number } {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const rechunker = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      rechunker.bytes += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= size) {
        let joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        while (joined.length >= size) {
          this.push(joined.subarray(0, size));
          joined = joined.subarray(size);
        }
        pending = joined.length > 0 ? [joined] : [];
        pendingBytes = joined.length;
      }
      done();
    },
    flush(done) {
      if (pendingBytes > 0) this.push(Buffer.concat(pending, pendingBytes));
      done();
    },
  }) as Transform & { bytes: number };
  rechunker.bytes = 0;
  return rechunker;
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
      const counter = createRechunker(current.maxWriteBytes);
      const out = current.createWriteStream(tempPath, UPLOAD_HIGH_WATER_MARK);
      // ssh2's write stream finishes before it has closed the remote handle; only CLOSE's answer says the
      // server kept every byte (a full disk can surface there).
      const handleClosed = new Promise<void>((resolve, reject) => {
        out.once('close', resolve);
        out.once('error', reject);
      });
      handleClosed.catch(() => undefined);
      const stopWatching = current.watchUpload(out, tempPath);
      try {
        await current.untilLost(pipeline(body, counter, out).then(() => handleClosed));
      } catch (error) {
        stopWatching();
        body.destroy();
        out.destroy();
        // A failing body (the engine's renderer) keeps its own error; SFTP statuses and transport failures
        // are classified.
        const fromServer = current.isTransportFailure || typeof (error as { code?: unknown }).code === 'number';
        const failure = fromServer ? current.classify(error, 'upload', tempPath) : error;
        if (current.isClosed || !(await removeQuietly(current, tempPath))) orphans.add(tempPath);
        throw failure;
      } finally {
        stopWatching();
      }
      ctx.log.debug({ server: serverOf(conn), path: tempPath, bytes: counter.bytes }, 'staged sftp file');
      return { name, path, tempPath, bytes: counter.bytes };
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
