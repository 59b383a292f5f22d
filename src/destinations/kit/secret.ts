import { z } from 'zod';

const SECRET = 'outflow.secret';

/**
 * Marks a connection field as a credential: the store encrypts it, and no log, error, CLI output or API
 * response shows its value.
 *
 * @example
 * z.object({ apiKey: secret(z.string().min(1)), region: z.enum(['us', 'eu']) })
 */
export function secret<T extends z.ZodType>(schema: T): T {
  // writeOnly is the JSON Schema keyword for "accepted, never returned": forms show it as a password input.
  return schema.meta({ [SECRET]: true, writeOnly: true }) as T;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (;;) {
    if (current.meta()?.[SECRET] === true) return current;
    const def = (current as unknown as { _zod: { def: { innerType?: z.ZodType } } })._zod.def;
    if (!def.innerType) return current;
    current = def.innerType;
  }
}

export function isSecret(schema: z.ZodType): boolean {
  return unwrap(schema).meta()?.[SECRET] === true;
}

/** The names of the secret fields of a connection schema. */
export function secretKeys(schema: z.ZodObject): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => isSecret(field as z.ZodType))
    .map(([key]) => key);
}

/** Splits a parsed connection config into what is stored in clear and what is encrypted. */
export function splitSecrets(
  schema: z.ZodObject,
  config: Record<string, unknown>,
): { plain: Record<string, unknown>; secrets: Record<string, string> } {
  const keys = new Set(secretKeys(schema));
  const plain: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (keys.has(key)) {
      if (value !== undefined && value !== null) secrets[key] = String(value);
    } else {
      plain[key] = value;
    }
  }
  return { plain, secrets };
}

/** A config as it may be shown: every secret present is replaced by `"set"`. */
export function maskSecrets(schema: z.ZodObject, config: Record<string, unknown>): Record<string, unknown> {
  const keys = new Set(secretKeys(schema));
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key, keys.has(key) && value != null ? 'set' : value]),
  );
}
