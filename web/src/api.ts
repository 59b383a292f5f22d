// Every call the app makes goes through here, to the server's public REST API (/api/v1).

/** A step that fixes an error, which the app offers as a button (the API's `error.remedy`). */
export type Remedy = { action: 'refresh-segment'; segment: string } | { action: 'move-export'; export: string };

export interface Issue {
  path: string;
  message: string;
}

/** An error answer: RFC 9457 problem details `{type, title, status, detail, code, issues?, position?, runId?}`; `message` is its detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
    readonly position?: number,
    readonly runId?: string,
    readonly remedy?: Remedy,
  ) {
    super(message);
  }

  /** The message of the issue about `field` (a dotted path like `config.host`), if any. */
  about(field: string): string | undefined {
    // The server words these for people (the CLI shows the same words); the app shows them as they are.
    return this.issues.find((i) => i.path === field || i.path.endsWith(`.${field}`))?.message;
  }
}

// The CSRF token that sign-in returned; every cookie-authenticated write sends it back. Kept for this tab only.
const CSRF_KEY = 'outflow.csrf';
export function setCsrfToken(token: string | null): void {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

let onSignedOut: () => void = () => {};
/** Called when the API answers 401: the session ended, so the app shows sign-in again. */
export function onUnauthenticated(handler: () => void): void {
  onSignedOut = handler;
}

/** Where the REST API lives; links (downloads) use it too, so one change moves every call. */
export const API_BASE = '/api/v1';
export const apiUrl = (path: string) => `${API_BASE}${path}`;

/**
 * `ifMatch`: the ETag of the version the person saw (the `etag` of what was loaded). An edit or removal sends it,
 * so that a change someone else saved meanwhile is not overwritten: the server answers 412
 * `precondition_failed`, and the app offers to reload (see ErrorBanner's onReload).
 */
export async function api<T>(method: string, path: string, body?: unknown, options: { ifMatch?: string | undefined } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let response: Response;
  try {
    response = await fetch(apiUrl(path), { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check that `outflow serve` is running, then try again.');
  }
  const text = await response.text();
  const data = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const error = data as { code?: string; detail?: string; issues?: Issue[]; position?: number; runId?: string; remedy?: Remedy } | undefined;
    if (response.status === 401 && path !== '/session') onSignedOut();
    throw new ApiError(response.status, error?.code ?? 'http_error', error?.detail ?? `The server answered ${response.status}.`, error?.issues ?? [], error?.position, error?.runId, error?.remedy);
  }
  return data as T;
}

/**
 * Every item of a paged list (`{items, nextCursor}`), page after page, up to `max`: the app shows what it says
 * it shows, never only the server's first page. `path` may carry filters (`/runs?export=x`).
 */
export async function apiAll<T>(path: string, max = Number.POSITIVE_INFINITY): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: String(Math.min(1000, max - items.length)) });
    if (cursor) query.set('cursor', cursor);
    const page: { items: T[]; nextCursor: string | null } = await api('GET', `${path}${path.includes('?') ? '&' : '?'}${query}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const enc = encodeURIComponent;

// The shapes the app reads (see /api/openapi.json for all of them).
export type Role = 'admin' | 'contributor' | 'viewer';
export interface User {
  name: string;
  role: Role;
  mustChangePassword: boolean;
  /** What the user may do in the home, as the server decides it: the app offers what is allowed, and no rules of its own. */
  can: Record<'createExport' | 'createSegment' | 'createConnection' | 'setSchedule' | 'manageUsers' | 'readAudit' | 'downloadRejections', Action>;
}
export interface Session {
  user: User;
  csrfToken?: string;
}
export interface Verification {
  ok: boolean;
  at: string;
  by?: string;
  code?: string;
  message?: string;
}
export interface Connection {
  name: string;
  type: string;
  config?: Record<string, unknown>;
  usableBy: 'admins' | 'admins-and-contributors';
  privacyConsent?: { acceptedBy: string; acceptedAt: string };
  hostKeySha256?: string;
  lastVerification?: Verification;
  /** A problem a run met (e.g. a revoked Microsoft sign-in: code token_expired). */
  attention?: { code?: string; message?: string };
  /** Microsoft Advertising: who signed the connection in last, and when. */
  signedIn?: { at: string; by: string };
  /** Its API is on this machine: a local stand-in of the vendor (the demo's sandboxes), not the vendor. */
  sandbox?: true;
  createdBy?: string;
  createdAt?: string;
  /** What the signed-in user may do to it, as the server decides. */
  actions: { edit: Action; verify: Action; remove: Action; signIn: Action };
  /** The version shown (administrators): sent as If-Match with an edit or removal. */
  etag?: string;
}
/** Whether the signed-in user may take an action; when not, why (the server's words, those a refusal would carry). */
export interface Action {
  allowed: boolean;
  reason?: string;
}
export interface VerifyResult {
  connection: string;
  ok: boolean;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
}
export interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
  format?: string;
}
export interface FieldSpec {
  title: string;
  type: string;
  required?: boolean;
  description?: string;
}
export interface Destination {
  id: string;
  title: string;
  exports: string;
  docsUrl?: string;
  connection: JsonSchema;
  exportSettings: JsonSchema;
  fields?: Record<string, FieldSpec>;
  extraFields?: { description: string } | null;
}
export interface Export {
  name: string;
  connection: string;
  type: string;
  segments?: string[];
  entities?: string[];
  config: Record<string, unknown> & { mapping?: Record<string, string>; syncMode?: string };
  createdBy: string;
  createdAt: string;
  warnings?: string[];
  /** Its connection was removed: runs are refused until it is moved to another connection. */
  connectionRemoved?: true;
  /** What the signed-in user may do to it, as the server decides (run covers dry runs, resumes and cancels). */
  actions: { run: Action; edit: Action; remove: Action; schedule: Action };
  /** The version shown: sent as If-Match with an edit or removal. */
  etag?: string;
}
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export interface RunItem {
  id: string;
  export: string;
  status: RunStatus;
  trigger: string;
  startedBy: string;
  rows: number | null;
  rowsDone: number;
  sent: number;
  rejected: number;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error?: { code: string; message: string };
}
export interface Run extends Omit<RunItem, 'rowsDone'> {
  rowsDone?: number;
  notAttempted: number;
  entities: { name: string; rows: number; files?: { path: string; rows: number; bytes: number }[]; sent?: number; rejected?: number }[];
  rejections: { source: string; key: string; code: string; reason: string }[];
  rejectionsTotal?: number;
  warnings: string[];
  resumedFrom?: string;
  /** The run that continues this one, once it was resumed. */
  resumedBy?: string;
  /** Whether POST /runs/{id}/resume would accept it now (failed or cancelled, not superseded). */
  resumable: boolean;
}
export interface Segment {
  name: string;
  entity: string;
  filter: string;
  members: number | null;
  refreshedAt: string | null;
  createdBy: string;
  /** What the signed-in user may do to it, as the server decides. */
  actions: { edit: Action; refresh: Action; remove: Action };
  /** The version shown: sent as If-Match with an edit or removal. */
  etag?: string;
}
export interface Entity {
  name: string;
  key: string;
  rows: number;
  columns: { name: string; type: string }[];
}
export interface AccountUser extends User {
  createdBy: string;
  createdAt: string;
  /** The version shown: sent as If-Match with a role change or removal. */
  etag?: string;
}
export interface Token {
  id: string;
  name: string;
  user: string | null;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  role: string;
  via: string;
  address: string | null;
  action: string;
  target: string | null;
  outcome: string;
  details: Record<string, unknown>;
}
export interface FireTime {
  local: string;
  utc: string;
}
export interface ExportSchedule {
  name: string;
  paused: boolean;
  cron?: string;
  timeZone?: string;
  next: FireTime[];
}
export interface Schedule {
  enabled: boolean;
  days?: string;
  times?: string[];
  cron?: string[];
  timeZone?: string;
  next: FireTime[];
  lastFiredAt: string | null;
  updatedBy?: string;
  updatedAt?: string;
  exports: ExportSchedule[];
  /** The exports the scheduled refresh runs: those neither paused (manual only) nor on a schedule of their own. */
  refreshes: string[];
  /** The version shown (on or off): sent as If-Match with a change or turning it off. */
  etag?: string;
}
export interface DryRunReport {
  export: string;
  syncMode: string;
  fullResync: boolean;
  sources: { name: string; members: number; add: number; update: number; remove: number; reject: number; unchanged: number }[];
  members: number;
  add: number;
  update: number;
  remove: number;
  reject: number;
  unchanged: number;
  rejections: { source: string; key: string; code: string; reason: string }[];
  refusal: { code: string; message: string } | null;
  warnings: string[];
  notes: string[];
}
export interface ExportManifest {
  export: string;
  generatedAt: string;
  createdBy: string;
  createdAt: string;
  destination: { type: string; title: string; connection: string; account: Record<string, unknown>; settings: Record<string, unknown> };
  sources: { kind: 'segment' | 'entity'; name: string; entity: string; filter?: string; members?: number | null; refreshedAt?: string | null }[];
  syncMode: string;
  fields: { entity: string; column: string; target: string; title?: string }[];
  consent: { acceptedBy: string; acceptedAt: string } | null;
  usableBy: string | null;
  schedule: { mode: 'own' | 'refresh' | 'manual'; paused: boolean; cron?: string[]; days?: string; times?: string[]; timeZone?: string; next: FireTime[] };
  lastRuns: { id: string; status: string; trigger: string; startedBy: string; finishedAt: string | null; sent: number; rejected: number }[];
}
