import type { ApiError, JsonSchema } from './api.ts';
import { Field, Message } from './ui.tsx';

export type Values = Record<string, string | boolean>;

/** "requestsPerSecond" → "Requests per second". */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/Sha256/i, 'SHA-256').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1).replace(/\burl\b/g, 'URL').replace(/\bid\b/g, 'ID').replace(/\bapi\b/g, 'API');
}

/** Secret fields: the schema marks them writeOnly (the server's `secret()`); they are typed, never shown. */
export const isSecret = (field: JsonSchema) => field.writeOnly === true;

/**
 * A form generated from a destination's JSON Schema (GET /api/destinations): enums become selects, booleans
 * checkboxes, numbers number inputs, secrets password inputs. `stored` holds the saved config on edit, where
 * a secret reads "set" and is kept unless a new value is typed.
 */
export function SchemaFields({ schema, values, onChange, error, stored }: { schema: JsonSchema; values: Values; onChange: (values: Values) => void; error: ApiError | undefined; stored?: Record<string, unknown> }) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, field]) => {
        const label = `${field.title ?? humanize(key)}${required.has(key) ? ' (required)' : ''}`;
        const value = values[key];
        const set = (v: string | boolean) => onChange({ ...values, [key]: v });
        const fieldError = error?.about(key);
        if (field.type === 'boolean') {
          return (
            <div key={key} className={`field checkbox${fieldError ? ' has-error' : ''}`}>
              <label>
                <input type="checkbox" checked={value === true || (value === undefined && field.default === true)} onChange={(e) => set(e.target.checked)} /> {label}
              </label>
              {field.description ? <p className="hint"><Message>{field.description}</Message></p> : null}
              {fieldError ? <p className="field-error"><Message>{fieldError}</Message></p> : null}
            </div>
          );
        }
        const secretSet = isSecret(field) && stored?.[key] === 'set';
        const hint = [field.description, secretSet ? 'Set. Leave empty to keep the stored value.' : undefined, field.default !== undefined && !field.enum ? `Default: ${String(field.default)}` : undefined]
          .filter(Boolean)
          .join(' ');
        return (
          <Field key={key} label={label} hint={hint || undefined} error={fieldError}>
            {(p) => {
              const text = typeof value === 'string' ? value : '';
              if (field.enum) {
                return (
                  <select {...p} value={text || String(field.default ?? '')} onChange={(e) => set(e.target.value)}>
                    {field.default === undefined ? <option value="">—</option> : null}
                    {field.enum.map((option) => (
                      <option key={String(option)} value={String(option)}>
                        {option === '\t' ? 'Tab' : String(option)}
                      </option>
                    ))}
                  </select>
                );
              }
              if (isSecret(field)) {
                // Key files span lines, which a password input cannot hold; the textarea is masked by CSS.
                if (/PEM|private key/i.test(field.description ?? '')) {
                  return <textarea {...p} className="secret" rows={3} spellCheck={false} autoComplete="off" placeholder={secretSet ? 'set' : ''} value={text} onChange={(e) => set(e.target.value)} />;
                }
                return <input {...p} type="password" autoComplete="new-password" placeholder={secretSet ? 'set' : ''} value={text} onChange={(e) => set(e.target.value)} />;
              }
              const numeric = field.type === 'integer' || field.type === 'number';
              return (
                <input
                  {...p}
                  type={numeric ? 'number' : field.format === 'uri' ? 'url' : 'text'}
                  inputMode={numeric ? 'numeric' : undefined}
                  step={field.type === 'number' ? 'any' : undefined}
                  required={required.has(key) && !secretSet}
                  value={text}
                  onChange={(e) => set(e.target.value)}
                />
              );
            }}
          </Field>
        );
      })}
    </>
  );
}

/** Form values → the config the API takes: empty fields left out (the server applies defaults), numbers as numbers. */
export function toConfig(schema: JsonSchema, values: Values): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.properties ?? {})) {
    const value = values[key];
    if (value === undefined || value === '') continue;
    if (typeof value === 'boolean') config[key] = value;
    else if (field.type === 'integer' || field.type === 'number') config[key] = Number(value);
    else config[key] = value;
  }
  return config;
}

/** A stored config → form values; secrets start empty (their stored value is never sent to the browser). */
export function fromConfig(schema: JsonSchema, config: Record<string, unknown> = {}): Values {
  const values: Values = {};
  for (const [key, field] of Object.entries(schema.properties ?? {})) {
    const value = config[key];
    if (value === undefined || value === null || isSecret(field)) continue;
    values[key] = typeof value === 'boolean' ? value : String(value);
  }
  return values;
}
