import { pino, type Logger as PinoLogger } from 'pino';
import { redactUrls, redactUrlsDeep } from './redact-url.ts';

export type Logger = PinoLogger;

/**
 * Key names whose values never reach a log line, wherever they sit in the object. Secrets are marked in
 * each destination's schema too (see `secret()`); this list is the belt to that pair of braces.
 */
export const SECRET_KEY_NAMES = [
  'password',
  'privateKey',
  'passphrase',
  'apiKey',
  'clientSecret',
  'refreshToken',
  'accessToken',
  'developerToken',
  'authorization',
  'Authorization',
  'secret',
  'secrets',
  'token',
];

const redactPaths = SECRET_KEY_NAMES.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

/** A JSON logger that writes to a file, a stream (the home's rotating log), or else standard error. */
export function createLogger(options: { level?: string; file?: string; stream?: NodeJS.WritableStream; stdout?: boolean } = {}): Logger {
  const level = options.level ?? process.env.OUTFLOW_LOG_LEVEL ?? 'info';
  const destination =
    options.stream ??
    (options.file ? pino.destination({ dest: options.file, mkdir: true, sync: true }) : pino.destination({ fd: options.stdout ? 1 : 2, sync: true }));
  return pino(
    {
      level,
      redact: { paths: redactPaths, censor: '•••' },
      base: undefined,
      // A URL's user name, password and query never reach the log either (src/lib/redact-url.ts).
      formatters: { log: (object) => redactUrlsDeep(object) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactUrls(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

