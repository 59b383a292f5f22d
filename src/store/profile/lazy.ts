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
    segmentIsStale: async (segmentId, entity) => (await get()).segmentIsStale(segmentId, entity),
    sync: {
      hasTable: async (name) => (await get()).sync.hasTable(name),
      createSnapshot: async (table, source, spec) => (await get()).sync.createSnapshot(table, source, spec),
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
