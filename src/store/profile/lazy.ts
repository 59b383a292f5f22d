import type { DeliveredWriter, ProfileStore } from './profile-store.ts';

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
    loadEntity: async (name, file, options) => (await get()).loadEntity(name, file, options),
    refreshSegment: async (segmentId, entity, filter) => (await get()).refreshSegment(segmentId, entity, filter),
    dropSegment: async (segmentId) => (await get()).dropSegment(segmentId),
    countRows: async (source) => (await get()).countRows(source),
    copyCsv: async (source, range, options, target) => (await get()).copyCsv(source, range, options, target),
    readMembers: (source, columns, afterKey, chunkRows) => stream((s) => s.readMembers(source, columns, afterKey, chunkRows)),
    readDeparted: (stateId, source, chunkRows) => stream((s) => s.readDeparted(stateId, source, chunkRows)),
    beginDelivered: async (stateId, options): Promise<DeliveredWriter> => (await get()).beginDelivered(stateId, options),
    useStreamingResources: async () => (await get()).useStreamingResources(),
    async close() {
      if (store) await (await store.catch(() => null))?.close();
    },
  };
}
