import { z } from 'zod';
import { listDestinations } from '../../destinations/index.ts';

/**
 * The configuration file (`outflow.yaml`): what `outflow config export` writes and `outflow plan/apply` read.
 * One zod schema is both the check the file goes through and, via `configJsonSchema`, the JSON Schema an
 * editor completes it with. Strict objects: a misspelt key is an error with a suggestion, never ignored.
 *
 * A top-level section that is absent is not managed by the file (`schedule` and `notify` are left as they
 * are; unlisted items stay unless `--prune`). `schedule: off` and `notify: off` turn them off.
 */

const name = z.string().trim().min(1, 'needs a name');

export const EntityEntry = z.strictObject({
  name,
  /** The PostgreSQL table or view read live (PostgreSQL profile store only). */
  table: z.string().min(1),
  key: z.string().min(1).optional(),
});

export const SegmentEntry = z.strictObject({
  name,
  entity: z.string().min(1).optional(),
  where: z.string().min(1),
});

export const usableByValues = ['admins', 'admins-and-contributors'] as const;

export const ConnectionEntry = z.strictObject({
  name,
  type: z.string().min(1),
  usableBy: z.enum(usableByValues).optional(),
  /**
   * The data-privacy consent for sending customer data to this destination: must be `true` to create the
   * connection; it is recorded for the administrator who applies the file.
   */
  acceptPrivacyTerms: z.boolean().optional(),
  /** The destination's settings; secrets as references (`${env:NAME}`, `${file:path}`), never values. */
  config: z.record(z.string(), z.unknown()).default({}),
});

export const ExportSchedule = z.strictObject({ cron: z.string().min(1), timeZone: z.string().min(1).optional() });

export const ExportEntry = z.strictObject({
  name,
  connection: z.string().min(1),
  segments: z.array(z.string().min(1)).optional(),
  entities: z.array(z.string().min(1)).optional(),
  /** mapping, syncMode, rowsPerFile (files), notify, and the destination's export settings. */
  config: z.record(z.string(), z.unknown()).default({}),
  /** Its own schedule; `null` or absent: it runs with the home's scheduled refresh. */
  schedule: ExportSchedule.nullable().optional(),
  paused: z.boolean().optional(),
});

export const HomeSchedule = z.union([
  z.literal('off'),
  z.strictObject({ days: z.string().min(1), times: z.union([z.string(), z.array(z.string())]), timeZone: z.string().min(1).optional() }),
  z.strictObject({ cron: z.string().min(1), timeZone: z.string().min(1).optional() }),
]);

export const HomeNotify = z.union([
  z.literal('off'),
  z.strictObject({ url: z.string().min(1), on: z.array(z.union([z.string(), z.record(z.string(), z.number())])).optional() }),
]);

export const ConfigDocument = z.strictObject({
  version: z.literal(1),
  entities: z.array(EntityEntry).optional(),
  segments: z.array(SegmentEntry).optional(),
  connections: z.array(ConnectionEntry).optional(),
  exports: z.array(ExportEntry).optional(),
  schedule: HomeSchedule.optional(),
  notify: HomeNotify.optional(),
});

export type ConfigDocument = z.infer<typeof ConfigDocument>;
export type ConnectionEntry = z.infer<typeof ConnectionEntry>;
export type ExportEntry = z.infer<typeof ExportEntry>;
export type SegmentEntry = z.infer<typeof SegmentEntry>;
export type EntityEntry = z.infer<typeof EntityEntry>;

/** The keys an object at `path` of the document may have, for "did you mean" on unknown keys. */
export function knownKeysAt(path: Array<string | number>): string[] {
  const at = path.filter((p) => typeof p === 'string');
  const shapes: Record<string, z.ZodObject> = { '': ConfigDocument, entities: EntityEntry, segments: SegmentEntry, connections: ConnectionEntry, exports: ExportEntry };
  if (at.length === 2 && at[0] === 'exports' && at[1] === 'schedule') return Object.keys(ExportSchedule.shape);
  if (at.length === 1 && at[0] === 'schedule') return ['days', 'times', 'cron', 'timeZone'];
  if (at.length === 1 && at[0] === 'notify') return ['url', 'on'];
  return Object.keys(shapes[at.join('.')]?.shape ?? {});
}

/**
 * The file's JSON Schema, for editors (`outflow config schema`; `# yaml-language-server: $schema=…`). Each
 * connection's `config` is the destination's own schema, picked by `type`, generated from the zod schema
 * the server validates connections with.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigDocument, { io: 'input', unrepresentable: 'any' }) as Record<string, any>;
  const base = schema.properties.connections.items;
  schema.properties.connections.items = {
    oneOf: listDestinations().map((destination) => ({
      ...base,
      properties: {
        ...base.properties,
        type: { const: destination.id, description: destination.title },
        config: withoutDialect(z.toJSONSchema(destination.connection.schema, { io: 'input', unrepresentable: 'any' })),
      },
      required: [...new Set([...(base.required ?? []), 'type'])],
    })),
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://outflow.dev/schema/outflow.yaml.json',
    title: 'Outflow configuration file',
    ...schema,
  };
}

function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}
