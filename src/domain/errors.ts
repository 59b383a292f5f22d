/**
 * The closed set of error codes Outflow reports. They are part of the CLI's `--json` output and of the
 * run history, so they are never renamed.
 */
export type ErrorCode =
  // the user must change a setting or the input
  | 'invalid_input'
  | 'invalid_settings'
  | 'invalid_filter'
  | 'folder_missing'
  | 'folder_not_writable'
  | 'list_not_found'
  | 'limit_exceeded'
  | 'privacy_terms_not_accepted'
  // credentials and trust
  | 'auth_failed'
  | 'token_expired'
  | 'terms_not_accepted'
  | 'host_key_mismatch'
  | 'permission_denied'
  // transient: the engine backs off and tries again
  | 'rate_limited'
  | 'upstream_unavailable'
  | 'timeout'
  | 'connection_lost'
  // the destination said no and did not say why in a way we understand
  | 'upstream_rejected'
  | 'host_unreachable'
  | 'disk_full'
  // store and API
  | 'not_found'
  | 'conflict'
  // an edit made from an older read of the resource (If-Match), or raced by another edit while it was checked
  | 'precondition_failed'
  | 'edit_conflict'
  | 'home_locked'
  // the metadata store's schema: written by a newer version (a downgrade), or an upgrade that failed and was rolled back
  | 'schema_too_new'
  | 'upgrade_failed'
  | 'cancelled'
  // the process executing a run died or stopped (SIGKILL, power loss, a server shutdown): it is resumed
  | 'interrupted'
  | 'internal';

export interface ErrorOptions {
  cause?: unknown;
}

/** Base of every error Outflow raises on purpose. Messages say what failed, where, and what to do. */
export class OutflowError extends Error {
  readonly code: ErrorCode;
  /**
   * The input the error is about, as a path into what was sent (`listId`, `segments`, `config.host`): the API
   * reports it as an issue of that path, so a form shows the message next to that field. Set by the use case
   * that knows which input it checked (see {@link aboutField}).
   */
  field: string | undefined;
  /** A step that fixes it, which interfaces offer as an action (the web app's button); the message says it too. */
  remedy: Remedy | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.field = undefined;
    this.remedy = undefined;
  }
}

/** What a person can do about an error, named so that the web app can offer it as a button. */
export type Remedy = { action: 'refresh-segment'; segment: string } | { action: 'move-export'; export: string };

/** Attaches the step that fixes `error`; returns it to throw. */
export function withRemedy<E extends OutflowError>(error: E, remedy: Remedy): E {
  error.remedy = remedy;
  return error;
}

/** Names the input `error` is about, unless a more precise one was named already; returns the error to rethrow. */
export function aboutField(error: unknown, field: string): unknown {
  if (error instanceof OutflowError && error.field === undefined && !(error instanceof ValidationError && error.issues.length > 0)) error.field = field;
  return error;
}

/** The user must edit a connection, an export, a segment or the input: retrying changes nothing. */
export class ConfigError extends OutflowError {}

/** A credential was refused or has expired: an admin must act on the connection. */
export class AuthError extends OutflowError {}

/** A passing condition (throttling, an outage, a dropped connection). The engine backs off and retries. */
export class RetryableError extends OutflowError {
  readonly retryAfterMs: number | undefined;
  /** The HTTP status the destination answered, when it answered (not for timeouts or network failures). */
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions & { retryAfterMs?: number; status?: number } = {}) {
    super(code, message, options);
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }
}

/** The destination refused a request for a reason we cannot classify; keeps its status and trace id. */
export class UpstreamError extends OutflowError {
  readonly status: number | undefined;
  readonly traceId: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: ErrorOptions & { status?: number; traceId?: string } = {},
  ) {
    super(code, message, options);
    this.status = options.status;
    this.traceId = options.traceId;
  }
}

export class NotFoundError extends OutflowError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('not_found', message, options);
  }
}

export class ConflictError extends OutflowError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('conflict', message, options);
  }
}

/** A run of the export is already queued or running; `runId` names it. */
export class RunConflictError extends ConflictError {
  constructor(
    message: string,
    readonly runId: string,
  ) {
    super(message);
  }
}

/**
 * An edit refused because the resource changed under it; nothing was saved. `precondition`: the editor said
 * which version they read (an ETag in If-Match) and it is no longer the current one (HTTP 412). Otherwise another
 * edit was saved between this edit's read and its write (HTTP 409). `etag` is the current version's.
 */
export class StaleEditError extends OutflowError {
  constructor(
    message: string,
    readonly etag: string,
    readonly precondition: boolean,
  ) {
    super(precondition ? 'precondition_failed' : 'edit_conflict', message);
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

export class ValidationError extends OutflowError {
  readonly issues: ValidationIssue[];

  constructor(message: string, issues: ValidationIssue[] = [], options: ErrorOptions = {}) {
    super('invalid_input', message, options);
    this.issues = issues;
  }
}

export class PermissionError extends OutflowError {
  constructor(message: string) {
    super('permission_denied', message);
  }
}


/**
 * Too many failed sign-ins: refused, even when this attempt is right, until `retryAfterSeconds` pass. A
 * RetryableError with code `rate_limited`, so the API answers 429 with Retry-After like any other throttle.
 */
export class RateLimitedError extends RetryableError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super('rate_limited', message, { retryAfterMs: retryAfterSeconds * 1000 });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
