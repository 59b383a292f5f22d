import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { Logger } from '../../lib/logger.ts';
import type { Rate, RateLimiter } from '../../lib/rate-limit.ts';
import { OutflowError, type ErrorCode } from '../../domain/errors.ts';

/** Stable destination ids: stored in the metadata DB and typed on the CLI (`--type`). Never rename one. */
export type DestinationId = 'sftp' | 'microsoft-advertising' | 'campaign-monitor' | 'iterable' | 'autopilot';

/** Everything a destination may reach outside itself. Injected, so tests swap parts instead of mocking modules. */
export interface DestinationContext {
  /** The connection's display name, for messages ("… for connection `prod-iterable` …"). */
  connectionName: string;
  log: Logger;
  signal: AbortSignal;
  now: () => Date;
  fetch: typeof fetch;
  /** Paces every request to this connection's account; shared by all runs that use the connection. */
  limiter: RateLimiter;
  /** The key under which `limiter` counts this connection's requests. */
  limiterKey: string;
  /** Non-secret facts recorded on the connection by earlier checks (e.g. the SFTP host key fingerprint). */
  state: Readonly<Record<string, unknown>>;
  /** Records non-secret facts on the connection (e.g. the fingerprint seen during `verify`). */
  saveState(patch: Record<string, unknown>): Promise<void>;
  /** Replaces secrets on the connection, e.g. a rotated OAuth refresh token. Values are encrypted at rest. */
  saveSecrets(patch: Record<string, string>): Promise<void>;
  /** True while running `connection verify`: the check may record what it learned (host key, token). */
  verifying: boolean;
  /**
   * Adds a warning to the current run: kept on the run record, printed by `export run` and listed in its
   * `--json` summary. Outside a run (verify, saving an export) it goes to the log. For what the user should
   * fix but that does not stop the run, e.g. a mapped field the destination will not store.
   *
   * @example
   * ctx.warn(`Custom field \`colour\` is not defined on list \`${listId}\`; its values are not stored.`)
   */
  warn(message: string): void;
  /**
   * During `verify`: a host key fingerprint the admin explicitly accepts in place of the recorded one
   * (`--accept-host-key SHA256:…`). The server must present exactly this key.
   */
  acceptHostKey?: string;
  /**
   * How long one vendor request (HTTP call, SFTP request, stalled upload) may go unanswered before it fails
   * with `timeout`; unset: each client's default (60 s). Set by OUTFLOW_REQUEST_TIMEOUT_MS.
   */
  requestTimeoutMs?: number;
}

export type CheckResult = { ok: true; details?: Record<string, unknown> } | { ok: false; code: ErrorCode; message: string; details?: Record<string, unknown> };

export const ok = (details?: Record<string, unknown>): CheckResult => (details ? { ok: true, details } : { ok: true });
export const fail = (code: ErrorCode, message: string, details?: Record<string, unknown>): CheckResult =>
  details ? { ok: false, code, message, details } : { ok: false, code, message };

/**
 * Runs a check's probe and turns whatever it throws into a failed {@link CheckResult}, so `check()` never
 * throws: an Outflow error keeps its code and message, anything else becomes `internal` without its text
 * (which might echo a credential).
 *
 * @example
 * check: (conn, ctx) => probe('Iterable', ctx, async () => ok({ lists: (await client.getLists()).length }))
 */
export async function probe(vendor: string, ctx: DestinationContext, run: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof OutflowError) return fail(error.code, error.message);
    if (ctx.signal.aborted) return fail('cancelled', `Checking ${vendor} connection \`${ctx.connectionName}\` was cancelled.`);
    return fail('internal', `Checking ${vendor} connection \`${ctx.connectionName}\` failed unexpectedly (${error instanceof Error ? error.name : 'unknown error'}).`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// File exports (SFTP): the engine renders CSV parts and hands each one to the destination as a byte stream.

export interface FileFormat {
  delimiter: ',' | ';' | '\t' | '|';
  compression: 'gzip' | 'none';
  /** `quote`: text cells that a spreadsheet would run as a formula get a leading `'` (see the profile store's copyCsv). */
  formulaEscaping: FormulaEscaping;
}

export type FormulaEscaping = 'none' | 'quote';

/** A file uploaded under a temporary name, waiting for `commit` (rename) or `discard` (delete). */
export interface StagedFile {
  /** Where the file will be once committed, relative to the export folder. */
  name: string;
  path: string;
  tempPath: string;
  bytes: number;
}

export interface FileSink {
  /** Uploads `body` to a temporary name beside `name`; the file is invisible to readers until `commit`. */
  stage(name: string, body: Readable): Promise<StagedFile>;
  /**
   * Renames every staged file to its final name, in order. `resumed`: finishing the renames of an interrupted
   * run, so a file already renamed (its temporary name gone, its final name there) is skipped.
   */
  commit(files: Array<Pick<StagedFile, 'tempPath' | 'path'>>, options?: { resumed?: boolean }): Promise<void>;
  /**
   * Removes the temporary files that earlier runs of the same export (same `tempTag`) left behind, and those
   * of older versions named after `fileNames` prefixes; returns their paths. Best effort: never throws.
   */
  sweep?(fileNamePrefixes: string[]): Promise<string[]>;
  /** Removes staged files after a failure; never throws. */
  discard(files: StagedFile[]): Promise<void>;
  close(): Promise<void>;
}

export interface FileExportDefinition<Conn, Settings extends z.ZodObject = z.ZodObject> {
  kind: 'files';
  title: string;
  /** Per-export settings (the export's `--config` file, minus the keys the engine owns). */
  settings: Settings;
  format(connection: Conn): FileFormat;
  /** `tempTag` names the export in temporary file names, so its next run can find what a crash left. */
  open(connection: Conn, ctx: DestinationContext, options?: { tempTag?: string }): Promise<FileSink>;
}

// ---------------------------------------------------------------------------------------------------------
// Record exports (marketing destinations): the engine streams segment members, maps and validates fields,
// cuts batches at `limits`, paces and retries; the destination turns one batch into vendor requests.

export type FieldType = 'email' | 'string' | 'number' | 'boolean' | 'date';

export interface FieldSpec {
  title: string;
  type: FieldType;
  required?: boolean;
  /** For `email` fields: a value that already is a SHA-256 hex digest is passed through unchanged. */
  acceptsSha256?: boolean;
  description?: string;
}

/** One member after mapping: `fields` holds the declared targets, `extra` any other mapped target. */
export interface ExportRecord {
  /** The profile's primary key, used to report rejections. */
  key: string;
  fields: Record<string, unknown> & { email?: string };
  extra: Record<string, unknown>;
}

export interface Batch<State, Settings> {
  action: 'add' | 'remove';
  records: ExportRecord[];
  /** What `prepare` returned for this segment (an audience id, a list id, …). */
  target: State;
  segment: string;
  settings: Settings;
}

export interface Rejection {
  /** Position of the record in `batch.records`. */
  index: number;
  code: string;
  message: string;
}

/** Per-record outcome of one batch: every record not listed in `rejected` was accepted. */
export interface BatchOutcome {
  rejected: Rejection[];
}

export interface RecordLimits {
  /** Records per `send` call, at most the vendor's documented maximum. */
  batchSize: number;
  /** Upper bound of a batch's serialized size, when the vendor caps request bodies. */
  maxBatchBytes?: number;
  /** Refuse an export whose segments hold more profiles than this. */
  maxProfilesPerExport?: number;
  /** Batches in flight at once; pacing still comes from `rate`. */
  concurrency?: number;
}

export interface ConnectionLimits {
  /** Profiles across all exports of one connection (Autopilot's plan allowance); undefined: no limit. */
  maxProfiles?: number;
  /** Warn (but run) from this many profiles. */
  warnProfiles?: number;
}

export interface RecordExportDefinition<Conn, Settings extends z.ZodObject = z.ZodObject, State = unknown> {
  kind: 'records';
  title: string;
  settings: Settings;
  /** Targets the user maps columns onto; `email` is required for every marketing destination. */
  fields: Record<string, FieldSpec>;
  /** Where mapped targets that are not in `fields` go (custom fields, data fields); omit to refuse them. */
  extraFields?: { description: string };
  limits: RecordLimits;
  /** Whether `send` accepts `action: 'remove'` (mirror sync). */
  supportsRemove: boolean;
  /**
   * The id of what `prepare` returned (a list id, an audience id). Incremental sync keeps what it delivered
   * per target: a list deleted and created again has a new id, so its state starts empty and everyone is
   * sent. Omitted: one target per export and segment.
   */
  targetId?(state: State): string;
  /** Vendor request pacing for this connection. Override per connection with `requestsPerSecond`. */
  rate(connection: Conn): Rate;
  connectionLimits?(connection: Conn): ConnectionLimits;
  /**
   * Targets besides `email` that identify a member at the vendor (e.g. Iterable's `userId`). Mirror sync keeps
   * them with every delivered member, so a later removal names the member the way it was added.
   */
  identityFields?: string[];
  /**
   * What an export writes into, one label per list or audience, equal for two exports of the same connection
   * exactly when they write into the same one. Saving an export warns when another export of its connection
   * shares a label. Lists named after segments give one label per segment.
   *
   * @example
   * targets: ({ segments }) => segments.map((segment) => `list "${segment}"`)
   */
  targets?(input: { segments: string[]; settings: z.infer<Settings> }): string[];
  /**
   * Checks an export against the account when it is saved (e.g. that a list id exists and defines the mapped
   * custom fields), and its mapping against the connection (e.g. a target the connection's settings require).
   * `mapping` is the export's target → column mapping. Throws to refuse the export.
   */
  validate?(input: {
    connection: Conn;
    settings: z.infer<Settings>;
    mapping: Record<string, string>;
    session: RecordSession<State, z.infer<Settings>>;
    ctx: DestinationContext;
  }): Promise<void>;
  open(connection: Conn, ctx: DestinationContext): Promise<RecordSession<State, z.infer<Settings>>>;
}

/** A destination's live handle for one run: built by `open`, used for every segment of the run. */
export interface RecordSession<State, Settings> {
  /** Finds or creates what the segment's members go into (an audience or list named after it). */
  prepare(input: { segment: string; settings: Settings; members: number }): Promise<State>;
  send(batch: Batch<State, Settings>): Promise<BatchOutcome>;
  close?(): Promise<void>;
}

export type ExportDefinition<Conn> = FileExportDefinition<Conn, any> | RecordExportDefinition<Conn, any, any>;

export interface DestinationDefinition<Schema extends z.ZodObject = z.ZodObject> {
  id: DestinationId;
  title: string;
  docsUrl: string;
  connection: {
    schema: Schema;
    /** One cheap authenticated call. Reports a result and never throws. */
    check(connection: z.infer<Schema>, ctx: DestinationContext): Promise<CheckResult>;
  };
  export: ExportDefinition<z.infer<Schema>>;
}

/**
 * Declares a destination. Returns its input with the types attached, so the connection type flows from
 * the zod schema into `check`, `open` and `send` without casts.
 *
 * @example
 * export default defineDestination({
 *   id: 'iterable', title: 'Iterable', docsUrl: 'https://api.iterable.com/api/docs',
 *   connection: { schema: z.object({ apiKey: secret(z.string().min(1)) }), check: async (conn, ctx) => ok() },
 *   export: listMembership,
 * })
 */
export function defineDestination<Schema extends z.ZodObject>(definition: DestinationDefinition<Schema>): DestinationDefinition<Schema> {
  return definition;
}

/** Declares a record export kind; see {@link RecordExportDefinition}. */
export function defineRecordExport<Conn, Settings extends z.ZodObject, State>(
  definition: RecordExportDefinition<Conn, Settings, State>,
): RecordExportDefinition<Conn, Settings, State> {
  return definition;
}

/** Declares a file export kind; see {@link FileExportDefinition}. */
export function defineFileExport<Conn, Settings extends z.ZodObject>(
  definition: FileExportDefinition<Conn, Settings>,
): FileExportDefinition<Conn, Settings> {
  return definition;
}
