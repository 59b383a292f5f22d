import type { ProfileStore, SyncTables } from './profile-store.ts';

/**
 * A ProfileStore whose every method runs `call` (or, for the streaming ones, `stream`) with the store to use:
 * the one forwarding list behind the wrappers below.
 */
export function delegatingProfileStore(via: {
  call<T>(work: (s: ProfileStore) => Promise<T>): Promise<T>;
  stream<T>(make: (s: ProfileStore) => AsyncIterable<T>): AsyncIterable<T>;
  close(): Promise<void>;
}): ProfileStore {
  const { call, stream } = via;
  return {
    listEntities: () => call((s) => s.listEntities()),
    getEntity: (name) => call((s) => s.getEntity(name)),
    sampleValues: (entity, perColumn) => call((s) => s.sampleValues(entity, perColumn)),
    loadEntity: (name, file, options) => call((s) => s.loadEntity(name, file, options)),
    attachEntity: (name, table, options) => call((s) => s.attachEntity(name, table, options)),
    refreshSegment: (segmentId, entity, filter) => call((s) => s.refreshSegment(segmentId, entity, filter)),
    dropSegment: (segmentId) => call((s) => s.dropSegment(segmentId)),
    countRows: (source) => call((s) => s.countRows(source)),
    copyCsv: (source, range, options, target) => call((s) => s.copyCsv(source, range, options, target)),
    copiesAtOnce: (source) => call((s) => s.copiesAtOnce(source)),
    readMembers: (source, columns, afterKey, chunkRows) => stream((s) => s.readMembers(source, columns, afterKey, chunkRows)),
    useStreamingResources: () => call((s) => s.useStreamingResources()),
    backupTo: (file) => call((s) => s.backupTo(file)),
    segmentIsStale: (segmentId, entity) => call((s) => s.segmentIsStale(segmentId, entity)),
    sync: {
      hasTable: (name) => call((s) => s.sync.hasTable(name)),
      createSnapshot: (table, source, spec, base) => call((s) => s.sync.createSnapshot(table, source, spec, base)),
      countRows: (table) => call((s) => s.sync.countRows(table)),
      adoptState: (state, legacy) => call((s) => s.sync.adoptState(state, legacy)),
      countUnchanged: (snapshot, state) => call((s) => s.sync.countUnchanged(snapshot, state)),
      readRemovals: (snapshot, state, spec, afterKey, chunkRows) => stream((s) => s.sync.readRemovals(snapshot, state, spec, afterKey, chunkRows)),
      readChanges: (snapshot, state, spec, options, chunkRows) => stream((s) => s.sync.readChanges(snapshot, state, spec, options, chunkRows)),
      appendJournal: (journal, entries) => call((s) => s.sync.appendJournal(journal, entries)),
      commit: (entries) => call((s) => s.sync.commit(entries)),
      lastTarget: (prefix) => call((s) => s.sync.lastTarget(prefix)),
      dropTables: (prefix) => call((s) => s.sync.dropTables(prefix)),
    } satisfies SyncTables,
    close: () => via.close(),
  };
}


/**
 * Opens the profile store on first use. A DuckDB file takes one writer at a time, and most commands (run
 * history, connections, audit) never touch profiles: they must not wait for, or fail on, an export that
 * another process is running.
 */
export function lazyProfileStore(open: () => Promise<ProfileStore>): ProfileStore {
  let store: Promise<ProfileStore> | undefined;
  const get = () => (store ??= open().catch((error: unknown) => {
    store = undefined;
    throw error;
  }));
  return delegatingProfileStore({
    call: async (work) => work(await get()),
    async *stream(make) {
      yield* make(await get());
    },
    async close() {
      if (store) await (await store.catch(() => null))?.close();
    },
  });
}

/**
 * A profile store that is open only while it is used: the runner process (`outflow serve`) closes the DuckDB
 * file after `idleMs` without a call in progress and without `keep()` (runs executing), and opens it again on
 * the next call. An idle server then holds neither DuckDB's buffer memory nor its file lock.
 */
export function idleProfileStore(open: () => Promise<ProfileStore>, options: { idleMs: number; keep?: () => boolean }): ProfileStore & { closeIdle(): Promise<boolean> } {
  let store: Promise<ProfileStore> | undefined;
  let closing: Promise<void> | undefined;
  let busy = 0;
  let lastUsed = Date.now();
  const get = async (): Promise<ProfileStore> => {
    while (closing) await closing;
    return (store ??= open().catch((error: unknown) => {
      store = undefined;
      throw error;
    }));
  };
  const use = async <T>(fn: (s: ProfileStore) => Promise<T>): Promise<T> => {
    busy++;
    try {
      return await fn(await get());
    } finally {
      busy--;
      lastUsed = Date.now();
    }
  };
  async function* stream<T>(make: (s: ProfileStore) => AsyncIterable<T>): AsyncIterable<T> {
    busy++;
    try {
      yield* make(await get());
    } finally {
      busy--;
      lastUsed = Date.now();
    }
  }
  const closeIdle = async (): Promise<boolean> => {
    if (!store || closing || busy > 0 || options.keep?.() || Date.now() - lastUsed < options.idleMs) return false;
    const open = store;
    store = undefined;
    closing = (async () => {
      await (await open.catch(() => null))?.close();
    })().finally(() => {
      closing = undefined;
    });
    await closing;
    return true;
  };
  const timer = setInterval(() => void closeIdle().catch(() => {}), Math.max(50, Math.floor(options.idleMs / 2)));
  timer.unref();
  return {
    ...delegatingProfileStore({
      call: use,
      stream,
      async close() {
        clearInterval(timer);
        while (closing) await closing;
        if (store) await (await store.catch(() => null))?.close();
        store = undefined;
      },
    }),
    closeIdle,
  };
}
