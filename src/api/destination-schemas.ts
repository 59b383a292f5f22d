import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { connectionConfigJsonSchema, exportConfigJsonSchema } from '../app/destinations.ts';
import { listDestinations } from '../destinations/index.ts';

// Connection configs and export configs in the API document: one schema per destination type, generated from
// the zod schemas the use cases validate with (src/app/destinations.ts), so a client generated from the document
// knows each destination's keys and rejects a misspelt one (`syncMod`) at compile time.
//
// The routes themselves check only the shape (`config` is an object); the use case checks a config against its
// destination's schema and answers 422 invalid_input with the destination's own message, the same words the CLI
// prints when it works on a home itself. A document-only union over a lenient runtime schema keeps that one
// message: validating the union in the route would answer a 400 in zod's words for the same mistake.

type JsonSchema = Record<string, unknown>;

const destinations = listDestinations();
/** `campaign-monitor` → `CampaignMonitor`: the prefix of its component names. */
const prefix = (id: string) => id.replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase());
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const Json = z.record(z.string(), z.unknown());
const UsableBy = z.enum(['admins', 'admins-and-contributors']);

const connectionCreateFields = {
  type: z.string().min(1).max(100),
  name: z.string().min(1).max(200),
  config: Json,
  usableBy: UsableBy.optional(),
  acceptPrivacyTerms: z.boolean().optional(),
};
const connectionDraftFields = { type: z.string().min(1).max(100), name: z.string().max(200).optional(), config: Json };

/**
 * Every destination's schemas as components: `<Type>ConnectionConfig`, `<Type>ConnectionConfigPatch`,
 * `<Type>ExportConfig`, `<Type>ExportConfigPatch`, and the members of the create and draft unions.
 */
export function registerDestinationSchemas(registry: OpenAPIHono['openAPIRegistry']): void {
  const add = (name: string, schema: JsonSchema) => registry.registerComponent('schemas', name, schema);
  for (const destination of destinations) {
    const p = prefix(destination.id);
    const connection = connectionConfigJsonSchema(destination);
    add(`${p}ConnectionConfig`, { ...connection, description: `The settings of a ${destination.title} connection; secrets are write-only` });
    add(`${p}ConnectionConfigPatch`, {
      ...patchOf(connection),
      description: `Settings of a ${destination.title} connection to change, merged over the current ones; null takes a setting away (its default applies again)`,
    });
    const exportConfig = exportConfigJsonSchema(destination);
    add(`${p}ExportConfig`, { ...exportConfig, description: `The config of an export to ${destination.title}: the engine's keys and the destination's settings` });
    add(`${p}ExportConfigPatch`, {
      ...patchOf(exportConfig),
      description: `Keys of an export to ${destination.title} to change, merged over the current config; null takes a key away; mapping is replaced whole`,
    });
    add(`${p}ConnectionCreate`, member(z.object({ ...connectionCreateFields, type: z.literal(destination.id) }).strict(), `${p}ConnectionConfig`));
    add(`${p}ConnectionDraft`, member(z.object({ ...connectionDraftFields, type: z.literal(destination.id) }).strict(), `${p}ConnectionConfig`));
  }
}

/** A union member: the body's own fields, with `config` the destination's schema. */
function member(fields: z.ZodObject, config: string): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(fields, { io: 'input' }) as JsonSchema & { properties: Record<string, unknown> };
  return { ...json, properties: { ...json.properties, config: ref(config) } };
}

/** The same keys, none required, each also null (a patch that takes it away). */
function patchOf(schema: JsonSchema): JsonSchema {
  const { required: _required, properties, ...rest } = schema as JsonSchema & { properties: Record<string, JsonSchema> };
  return {
    ...rest,
    properties: Object.fromEntries(Object.entries(properties).map(([key, { default: _default, ...property }]) => [key, { anyOf: [property, { type: 'null' }] }])),
  };
}

/** A union of every destination type's `name` component, told apart by the body's `type`. */
function byType(name: string): JsonSchema {
  return {
    oneOf: destinations.map((d) => ref(`${prefix(d.id)}${name}`)),
    discriminator: { propertyName: 'type', mapping: Object.fromEntries(destinations.map((d) => [d.id, `#/components/schemas/${prefix(d.id)}${name}`])) },
  };
}

/** Any one destination type's `name` component: the export's connection decides which. */
function anyType(name: string, description: string): JsonSchema {
  return { anyOf: destinations.map((d) => ref(`${prefix(d.id)}${name}`)), description };
}

// z.unknown().pipe(…): the document shows the metadata alone (the union), the route checks the lenient shape.

export const ConnectionCreate = z.unknown().pipe(z.object(connectionCreateFields).strict()).openapi('ConnectionCreate', byType('ConnectionCreate'));

export const ConnectionDraft = z.unknown().pipe(z.object(connectionDraftFields).strict()).openapi('ConnectionDraft', byType('ConnectionDraft'));

/** A connection's `config` to merge over the current one: its type is the connection's. */
export const ConnectionConfigPatch = z.unknown().pipe(Json).openapi(anyType('ConnectionConfigPatch', "Settings to change, for the connection's destination type"));

/** A new export's `config`: the type is its connection's. */
export const ExportConfig = z.unknown().pipe(Json).openapi(anyType('ExportConfig', "The export's config for its connection's destination type (GET /api/v1/destinations describes each)"));

/** An export's `config` to merge over the current one. */
export const ExportConfigPatch = z.unknown().pipe(Json).openapi(anyType('ExportConfigPatch', "Keys to change, for the export's destination type; null takes a key away"));
