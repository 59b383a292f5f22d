import type { ProfileStore, SyncTables } from './profile-store.ts';

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
  async function* stream<T>(make: (s: ProfileStore) => AsyncIterable<T>): AsyncIterable<T> {
    yield* make(await get());
  }
  return {
    listEntities: async () => (await get()).listEntities(),
    getEntity: async (name) => (await get()).getEntity(name),
    sampleValues: async (entity, perColumn) => (await get()).sampleValues(entity, perColumn),
    loadEntity: async (name, file, options) => (await get()).loadEntity(name, file, options),
    attachEntity: async (name, table, options) => (await get()).attachEntity(name, table, options),
    refreshSegment: async (segmentId, entity, filter) => (await get()).refreshSegment(segmentId, entity, filter),
    dropSegment: async (segmentId) => (await get()).dropSegment(segmentId),
    countRows: async (source) => (await get()).countRows(source),
    copyCsv: async (source, range, options, target) => (await get()).copyCsv(source, range, options, target),
    readMembers: (source, columns, afterKey, chunkRows) => stream((s) => s.readMembers(source, columns, afterKey, chunkRows)),
    useStreamingResources: async () => (await get()).useStreamingResources(),
    backupTo: async (file) => (await get()).backupTo(file),
    segmentIsStale: async (segmentId, entity) => (await get()).segmentIsStale(segmentId, entity),
    sync: {
      hasTable: async (name) => (await get()).sync.hasTable(name),
      createSnapshot: async (table, source, spec, base) => (await get()).sync.createSnapshot(table, source, spec, base),
      countRows: async (table) => (await get()).sync.countRows(table),
      adoptState: async (state, legacy) => (await get()).sync.adoptState(state, legacy),
      countUnchanged: async (snapshot, state) => (await get()).sync.countUnchanged(snapshot, state),
      readRemovals: (snapshot, state, spec, afterKey, chunkRows) => stream((s) => s.sync.readRemovals(snapshot, state, spec, afterKey, chunkRows)),
      readChanges: (snapshot, state, spec, options, chunkRows) => stream((s) => s.sync.readChanges(snapshot, state, spec, options, chunkRows)),
      appendJournal: async (journal, entries) => (await get()).sync.appendJournal(journal, entries),
      commit: async (entries) => (await get()).sync.commit(entries),
      lastTarget: async (prefix) => (await get()).sync.lastTarget(prefix),
      dropTables: async (prefix) => (await get()).sync.dropTables(prefix),
    } satisfies SyncTables,
    async close() {
      if (store) await (await store.catch(() => null))?.close();
    },
  };
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
    listEntities: () => use((s) => s.listEntities()),
    getEntity: (name) => use((s) => s.getEntity(name)),
    sampleValues: (entity, perColumn) => use((s) => s.sampleValues(entity, perColumn)),
    loadEntity: (name, file, o) => use((s) => s.loadEntity(name, file, o)),
    attachEntity: (name, table, o) => use((s) => s.attachEntity(name, table, o)),
    refreshSegment: (segmentId, entity, filter) => use((s) => s.refreshSegment(segmentId, entity, filter)),
    dropSegment: (segmentId) => use((s) => s.dropSegment(segmentId)),
    countRows: (source) => use((s) => s.countRows(source)),
    copyCsv: (source, range, o, target) => use((s) => s.copyCsv(source, range, o, target)),
    readMembers: (source, columns, afterKey, chunkRows) => stream((s) => s.readMembers(source, columns, afterKey, chunkRows)),
    useStreamingResources: () => use((s) => s.useStreamingResources()),
    backupTo: (file) => use((s) => s.backupTo(file)),
    segmentIsStale: (segmentId, entity) => use((s) => s.segmentIsStale(segmentId, entity)),
    sync: {
      hasTable: (name) => use((s) => s.sync.hasTable(name)),
      createSnapshot: (table, source, spec, base) => use((s) => s.sync.createSnapshot(table, source, spec, base)),
      countRows: (table) => use((s) => s.sync.countRows(table)),
      adoptState: (state, legacy) => use((s) => s.sync.adoptState(state, legacy)),
      countUnchanged: (snapshot, state) => use((s) => s.sync.countUnchanged(snapshot, state)),
      readRemovals: (snapshot, state, spec, afterKey, chunkRows) => stream((s) => s.sync.readRemovals(snapshot, state, spec, afterKey, chunkRows)),
      readChanges: (snapshot, state, spec, o, chunkRows) => stream((s) => s.sync.readChanges(snapshot, state, spec, o, chunkRows)),
      appendJournal: (journal, entries) => use((s) => s.sync.appendJournal(journal, entries)),
      commit: (entries) => use((s) => s.sync.commit(entries)),
      lastTarget: (prefix) => use((s) => s.sync.lastTarget(prefix)),
      dropTables: (prefix) => use((s) => s.sync.dropTables(prefix)),
    } satisfies SyncTables,
    closeIdle,
    async close() {
      clearInterval(timer);
      while (closing) await closing;
      if (store) await (await store.catch(() => null))?.close();
      store = undefined;
    },
  };
}
