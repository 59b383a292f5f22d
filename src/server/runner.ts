import path from 'node:path';
import { Writable } from 'node:stream';
import { openHome, type Home } from '../app/home.ts';
import { OutflowError } from '../domain/errors.ts';
import { dryRun } from '../engine/run-export.ts';
import { createLogger } from '../lib/logger.ts';
import { getConnection } from '../store/metadata/connections.ts';
import { getExportById } from '../store/metadata/exports.ts';
import { idleProfileStore } from '../store/profile/lazy.ts';
import { openPostgresProfileStore } from '../store/profile/postgres-store.ts';
import { openProfileStore, type ProfileStore } from '../store/profile/profile-store.ts';
import { RunManager } from './run-manager.ts';
import { serializeError, type FromRunner, type ToRunner } from './runner-protocol.ts';

/** The runner closes the profile store after this long without work (frees DuckDB's memory and file lock). */
const IDLE_CLOSE_MS = 2_000;

/**
 * The runner process of `outflow serve` (started by the server, never by hand): it owns the profile store
 * (the DuckDB file takes one writer) and executes the runs, so exports never wait on the API's event loop and
 * the API never waits on DuckDB, zlib or ssh2. The server forwards the profile-store reads it needs (samples,
 * segment previews, counts, loads, dry runs) over the IPC channel. When the server dies, the channel closes
 * and the runner exits with it.
 */
export async function runRunner(options: { dir?: string; concurrency: number }): Promise<void> {
  if (!process.send) throw new Error('The runner process is started by `outflow serve`, not by hand.');
  const send = (message: FromRunner) => {
    if (process.connected) process.send!(message);
  };
  // Log lines go to the server, which writes them to the home's log (one writer of the rotating file).
  const log = createLogger({
    stream: new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          try {
            send({ t: 'log', entry: JSON.parse(line) as Record<string, unknown> });
          } catch {
            // Not JSON: nothing pino writes.
          }
        }
        done();
      },
    }),
  });
  const home = await openHome({ dir: options.dir, log, actor: { name: 'outflow', role: 'admin', via: 'api' } });
  let manager: RunManager | undefined;
  const profilesUrl = process.env.OUTFLOW_PROFILES_URL?.trim();
  const profiles = idleProfileStore(() => (profilesUrl ? openPostgresProfileStore(profilesUrl) : openProfileStore(path.join(home.dir, 'profiles.duckdb'))), {
    idleMs: IDLE_CLOSE_MS,
    keep: () => (manager?.size ?? 0) > 0,
  });
  await home.profiles.close();
  home.profiles = profiles;
  home.metrics = {
    destinationRequest: (destination) => send({ t: 'metric', name: 'destinationRequest', destination }),
    destinationRetry: (destination) => send({ t: 'metric', name: 'destinationRetry', destination }),
  };
  manager = new RunManager(home, { concurrency: options.concurrency, onFinished: (run) => send({ t: 'finished', run }) });

  const calls = new Map<number, AbortController>();
  const streams = new Map<number, AsyncIterator<unknown>>();
  const reply = (id: number, work: () => Promise<unknown>) => {
    work().then(
      (value) => send({ t: 'reply', id, value }),
      (error: unknown) => send({ t: 'reply', id, error: serializeError(error) }),
    );
  };

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await manager!.stopAll();
      for (const it of streams.values()) await it.return?.().catch(() => {});
      await home.close();
      send({ t: 'stopped' });
    })());

  process.on('message', (message: ToRunner) => {
    switch (message.t) {
      case 'start':
        manager!.start(message.runId, message.actor);
        return;
      case 'pump':
        manager!.pump();
        return;
      case 'cancel':
        reply(message.id, async () => manager!.cancel(message.runId));
        return;
      case 'status':
        reply(message.id, () => manager!.status());
        return;
      case 'limiter':
        reply(message.id, () => home.limiter.states());
        return;
      case 'call': {
        const controller = new AbortController();
        calls.set(message.id, controller);
        reply(message.id, async () => {
          try {
            const args = message.method === 'copyCsv' ? withSignal(message.args, controller.signal) : message.args;
            return await (storeMethod(profiles, message.method) as (...a: unknown[]) => Promise<unknown>)(...args);
          } finally {
            calls.delete(message.id);
          }
        });
        return;
      }
      case 'abort':
        calls.get(message.id)?.abort(new OutflowError('cancelled', 'The request was cancelled.'));
        return;
      case 'open':
        try {
          const iterable = (storeMethod(profiles, message.method) as (...a: unknown[]) => AsyncIterable<unknown>)(...message.args);
          streams.set(message.id, iterable[Symbol.asyncIterator]());
        } catch (error) {
          send({ t: 'chunk', id: message.id, done: true, error: serializeError(error) });
        }
        return;
      case 'next': {
        const it = streams.get(message.id);
        if (!it) return;
        it.next().then(
          (result) => {
            if (result.done) streams.delete(message.id);
            send({ t: 'chunk', id: message.id, value: result.done ? undefined : result.value, done: result.done === true });
          },
          (error: unknown) => {
            streams.delete(message.id);
            send({ t: 'chunk', id: message.id, done: true, error: serializeError(error) });
          },
        );
        return;
      }
      case 'return': {
        const it = streams.get(message.id);
        streams.delete(message.id);
        void it?.return?.().catch(() => {});
        return;
      }
      case 'dryRun':
        reply(message.id, async () => {
          const exp = await getExportById(home.db, message.exportId);
          const connection = await getConnection(home.db, home.box, exp.connectionId);
          return dryRun(home, exp, connection, message.options);
        });
        return;
      case 'stop':
        void stop().finally(() => process.exit(0));
        return;
    }
  });
  // The server is gone without asking us to stop (SIGKILL, out of memory): go with it at once, as when runs
  // executed inside it. The runs stay `running` with their last checkpoint; the next `outflow serve` finds
  // their heartbeat stale, marks them interrupted and resumes them. Staying on would keep the DuckDB lock from
  // that next server and keep sending for a run nobody can see or cancel.
  // SIGKILL, not process.exit(): an exit waits for every thread to finish, and a DuckDB COPY blocked writing
  // into a part's FIFO (its reader, our event loop, has stopped) never does: the orphan then held the DuckDB
  // lock for ever and the next server's recovered run failed with "in use by another Outflow process".
  process.once('disconnect', () => {
    if (!stopping) process.kill(process.pid, 'SIGKILL');
  });
  // Ctrl-C in a terminal reaches the whole process group: the server stops us in order (runs interrupted at a
  // batch boundary). A SIGTERM sent to the runner alone stops it in the same way; the server then starts another.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => void stop().finally(() => process.exit(0)));
  manager.pump();
  send({ t: 'ready', pid: process.pid });
}

/** `sync.commit` → the store's sync.commit, bound. Only the store's own methods are reachable. */
function storeMethod(store: ProfileStore, name: string): (...args: unknown[]) => unknown {
  const [first, second] = name.split('.');
  const owner = (second ? (store as unknown as Record<string, unknown>)[first!] : store) as Record<string, unknown> | undefined;
  const fn = owner?.[second ?? first!];
  if (!owner || typeof fn !== 'function' || name === 'close' || name.startsWith('__')) throw new Error(`The profile store has no method ${name}.`);
  return (fn as (...args: unknown[]) => unknown).bind(owner);
}

function withSignal(args: unknown[], signal: AbortSignal): unknown[] {
  const copy = [...args];
  copy[2] = { ...(copy[2] as object), signal };
  return copy;
}

export type { Home };
