import { z } from 'zod';
import { getDestination, listDestinations } from '../destinations/index.ts';
import type { DestinationDefinition } from '../destinations/kit/define.ts';
import { exportConfigBase, syncModes } from '../domain/model.ts';

/** A destination with the JSON Schema of its settings: what `destinations spec` prints and forms are built from. */
export function describeDestination(type: string) {
  const destination = getDestination(type);
  const kind = destination.export;
  return {
    id: destination.id,
    title: destination.title,
    exports: kind.kind === 'files' ? 'segments or entities as files' : 'segments as records',
    docsUrl: destination.docsUrl,
    connection: withTitles(z.toJSONSchema(destination.connection.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
    exportSettings: withTitles(z.toJSONSchema(kind.settings, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
    ...(kind.kind === 'records' ? { fields: kind.fields as Record<string, unknown>, extraFields: kind.extraFields ?? null, limits: { ...kind.limits } } : {}),
  };
}

export function describeDestinations() {
  return listDestinations().map((d) => describeDestination(d.id));
}

/**
 * What people call each setting: forms label fields with these, so a key such as `readyTimeoutMs` never reaches
 * a person as "Ready timeout ms". One word per thing across destinations (an API key is an "API key" everywhere).
 */
const TITLES: Record<string, string> = {
  apiKey: 'API key',
  baseUrl: 'Base URL',
  authorityUrl: 'Authority URL',
  requestsPerSecond: 'Requests per second',
  maxProfiles: 'Most profiles allowed',
  warnProfiles: 'Warn from this many profiles',
  region: 'Region',
  projectType: 'Project type',
  clientId: 'Client ID',
  clientSecret: 'Client secret',
  refreshToken: 'Refresh token',
  developerToken: 'Developer token',
  customerId: 'Customer ID',
  accountId: 'Account ID',
  host: 'Host',
  port: 'Port',
  username: 'Username',
  password: 'Password',
  privateKey: 'Private key',
  privateKeyFile: 'Private key file (path on the server)',
  passphrase: 'Key passphrase',
  folder: 'Folder',
  compression: 'Compression',
  delimiter: 'Column separator',
  formulaEscaping: 'Spreadsheet formula protection',
  hostKeySha256: 'Host key fingerprint (SHA-256)',
  readyTimeoutMs: 'Connection timeout (milliseconds)',
  listId: 'List ID',
  resubscribe: 'Re-add unsubscribed addresses',
  restartSubscriptionBasedAutoresponders: 'Restart automations for re-added addresses',
  queueSubscriptionBasedAutoresponders: 'Start automations for new subscribers',
  consentToTrack: 'Consent to track',
  removal: 'How mirror sync removes members',
  updateExistingUsersOnly: 'Update existing users only',
};

type JsonSchema = Record<string, unknown>;

/**
 * A connection's `config` as JSON Schema (input side: a setting with a default may be left out), from the zod
 * schema the use case validates it with. Unknown keys are refused (`refuseUnknownKeys`), so the schema says so:
 * a client generated from the API document rejects a misspelt key at compile time.
 */
export function connectionConfigJsonSchema(destination: DestinationDefinition): JsonSchema {
  return closed(withTitles(toJsonSchema(destination.connection.schema)));
}

/**
 * An export's whole `config` for one destination type as JSON Schema: the engine's keys (`mapping`, `syncMode`,
 * `notify`, and `rowsPerFile` for files) beside the destination's own settings, the same pieces `validateExport`
 * checks a config with. Unknown keys are refused there, and here.
 */
export function exportConfigJsonSchema(destination: DestinationDefinition): JsonSchema {
  const kind = destination.export;
  // File exports write every row on every run; mirror needs a destination that can remove members.
  const modes = kind.kind === 'files' ? (['full'] as const) : syncModes.filter((mode) => mode !== 'mirror' || kind.supportsRemove);
  const engine = exportConfigBase.extend({
    syncMode: z.enum(modes as [string, ...string[]]).default('full'),
    notify: exportNotify.optional(),
    ...(kind.kind === 'files' ? { rowsPerFile: z.number().int().positive().optional().describe('Rows per file part; default: one file per source') } : {}),
  });
  return closed(withTitles(toJsonSchema(engine.extend(kind.settings.shape))));
}

/** The `notify` key of an export config, as `parseNotifyConfig` reads it. */
const exportNotify = z
  .object({
    url: z.string().min(1).describe('The full webhook URL; stored encrypted, shown masked'),
    on: z
      .array(z.union([z.enum(['failed', 'recovered']), z.object({ 'rejections-above': z.number().min(0).max(100) }).strict()]))
      .optional()
      .describe('default ["failed", "recovered"]'),
  })
  .strict()
  .describe("This export's own alert webhook, beside the home's");

function toJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return JSON.parse(JSON.stringify(json, (key, value) => (key === 'outflow.secret' ? undefined : value))) as JsonSchema;
}

/**
 * Closed to unknown keys, and each default said in words rather than as `default`: these schemas describe what a
 * client sends, and openapi-typescript (by default) makes a property with a `default` required, which would
 * have every generated client send `port`, `compression`, `mapping`… that the server fills in itself.
 */
function closed(schema: JsonSchema): JsonSchema {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  return {
    ...schema,
    ...(properties
      ? {
          properties: Object.fromEntries(
            Object.entries(properties).map(([key, { default: value, ...property }]) => [
              key,
              value === undefined ? property : { ...property, description: `${property.description ? `${String(property.description).replace(/\.?$/, '.')} ` : ''}Default: ${JSON.stringify(value)}.` },
            ]),
          ),
        }
      : {}),
    additionalProperties: false,
  };
}

function withTitles(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties) return schema;
  return { ...schema, properties: Object.fromEntries(Object.entries(properties).map(([key, field]) => [key, field.title || !TITLES[key] ? field : { title: TITLES[key], ...field }])) };
}
