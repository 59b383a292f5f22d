import { useEffect, useState } from 'react';
import { api, enc } from '../api.ts';

type SampleMap = Record<string, string[]>;
interface EntitySamples {
  entity: string;
  columns: { name: string; type: string; values: string[] }[];
}

// One request per entity for a minute: every mapping field of the wizard reads the same answer, and a
// reloaded entity shows its new values the next time the wizard opens.
const TTL_MS = 60_000;
const cache = new Map<string, { at: number; pending: Promise<SampleMap | null> }>();

function load(entity: string): Promise<SampleMap | null> {
  const hit = cache.get(entity);
  let pending = hit && Date.now() - hit.at < TTL_MS ? hit.pending : undefined;
  if (!pending) {
    pending = api<EntitySamples>('GET', `/entities/${enc(entity)}/samples`).then(
      (s) => Object.fromEntries(s.columns.map((c) => [c.name, c.values])),
      // Samples are a hint: without them (a viewer, an entity gone) the mapping still works.
      () => (cache.delete(entity), null),
    );
    cache.set(entity, { at: Date.now(), pending });
  }
  return pending;
}

/** "e.g. a@x.com, b@y.org" under a mapping field: a few values of the chosen column. */
export function Samples({ entity, column }: { entity: string | undefined; column: string | undefined }) {
  const [samples, setSamples] = useState<SampleMap | null>(null);
  useEffect(() => {
    let live = true;
    if (entity) void load(entity).then((s) => live && setSamples(s));
    return () => {
      live = false;
    };
  }, [entity]);
  if (!column || !samples) return null;
  const values = samples[column];
  return (
    <span className="samples" data-testid="samples">
      {' '}
      {values && values.length > 0 ? (
        <>
          Sample values of <code>{column}</code>:{' '}
          {values.map((v, i) => (
            <span key={i} className="sample">
              {v}
            </span>
          ))}
        </>
      ) : (
        <>
          <code>{column}</code> is empty in the first rows.
        </>
      )}
    </span>
  );
}
