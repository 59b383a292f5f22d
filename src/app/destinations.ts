import { z } from 'zod';
import { getDestination, listDestinations } from '../destinations/index.ts';

/** A destination with the JSON Schema of its settings: what `destinations spec` prints and forms are built from. */
export function describeDestination(type: string) {
  const destination = getDestination(type);
  const kind = destination.export;
  return {
    id: destination.id,
    title: destination.title,
    exports: kind.kind === 'files' ? 'segments or entities as files' : 'segments as records',
    docsUrl: destination.docsUrl,
    connection: z.toJSONSchema(destination.connection.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    exportSettings: z.toJSONSchema(kind.settings, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    ...(kind.kind === 'records' ? { fields: kind.fields as Record<string, unknown>, extraFields: kind.extraFields ?? null, limits: { ...kind.limits } } : {}),
  };
}

export function describeDestinations() {
  return listDestinations().map((d) => describeDestination(d.id));
}
