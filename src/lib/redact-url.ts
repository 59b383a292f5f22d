/**
 * URLs as Outflow shows them: without the user name and password (`https://user:pass@host`) or the query and
 * fragment, which often carry a key (`?api_key=…`). A connection's base URL may hold either (a proxy with basic
 * auth, a gateway that wants a key in the query); no manifest, view, error or log line repeats them. What was
 * left out is marked, so that the reader knows there is more than they see.
 */
const HIDDEN = '•••';

/** `https://•••@proxy.example.com/api?•••` for `https://u:p@proxy.example.com/api?key=k`; other text unchanged. */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return redactUrlText(value);
  }
  if (!/^(https?|wss?|ftp|sftp):$/.test(url.protocol)) return value;
  if (!url.username && !url.password && !url.search && !url.hash) return value;
  const userinfo = url.username || url.password ? `${HIDDEN}@` : '';
  const rest = url.search || url.hash ? `?${HIDDEN}` : '';
  return `${url.protocol}//${userinfo}${url.host}${url.pathname === '/' && !value.includes(`${url.host}/`) ? '' : url.pathname}${rest}`;
}

const URL_IN_TEXT = /\b(?:https?|wss?|ftp|sftp):\/\/[^\s"'<>`]+/gi;

/** Every URL in `text` redacted as by {@link redactUrl}: for error messages and log lines. */
export function redactUrls(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (match) => {
    // A URL at the end of a sentence keeps its full stop outside.
    const trail = /[.,;:)\]]+$/.exec(match)?.[0] ?? '';
    return redactUrl(match.slice(0, match.length - trail.length)) + trail;
  });
}

/** What the URL parser refused, redacted by pattern: userinfo before the host, anything after `?` or `#`. */
function redactUrlText(value: string): string {
  return value.replace(/^([a-z][\w+.-]*:\/\/)[^/@\s]*@/i, `$1${HIDDEN}@`).replace(/[?#].*$/, `?${HIDDEN}`);
}

/** Copies `value` (objects and arrays, a few levels deep) with every string's URLs redacted. */
export function redactUrlsDeep<T>(value: T, depth = 4): T {
  if (typeof value === 'string') return redactUrls(value) as T;
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactUrlsDeep(v, depth - 1)) as T;
  if (value instanceof Error) {
    // As pino's error serializer writes it, with the URLs of the message and the stack redacted.
    const code = (value as { code?: unknown }).code;
    return { type: value.name, message: redactUrls(value.message), ...(value.stack ? { stack: redactUrls(value.stack) } : {}), ...(code !== undefined ? { code } : {}) } as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactUrlsDeep(v, depth - 1)])) as T;
}
