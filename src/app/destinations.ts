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

function withTitles(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties) return schema;
  return { ...schema, properties: Object.fromEntries(Object.entries(properties).map(([key, field]) => [key, field.title || !TITLES[key] ? field : { title: TITLES[key], ...field }])) };
}
