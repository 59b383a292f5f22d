import type { Home } from './home.ts';

/**
 * The REST paths take an id or a name (`/api/exports/nightly` and `/api/exports/exp_…` are the same
 * export). Use cases work with names; this turns an id into its name and leaves anything else as it is, so
 * an unknown value still gets the use case's own "not found" message.
 */
export async function nameOf(home: Home, table: 'connections' | 'exports' | 'segments' | 'users', idOrName: string): Promise<string> {
  const row = await home.db
    .selectFrom(table)
    .select('name')
    .where((eb) => eb.or([eb('name', '=', idOrName), eb('id', '=', idOrName)]))
    .orderBy('name')
    .executeTakeFirst();
  return row?.name ?? idOrName;
}
