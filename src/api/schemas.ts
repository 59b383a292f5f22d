import { z } from '@hono/zod-openapi';
import { ConnectionConfigPatch, ExportConfig, ExportConfigPatch } from './destination-schemas.ts';

// The shapes the API returns and accepts. They mirror the CLI's --json output, so scripts can move from one
// to the other; the OpenAPI document is generated from these same schemas.

/**
 * A moment, as ISO 8601 with its offset (the API writes UTC, `…Z`; a schedule's local fire time keeps its zone's
 * offset). Checked, not only documented: the API tests parse every answer with these schemas.
 */
const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: '2026-11-30T05:00:00.000Z' });

/** Every error answer: RFC 9457 problem details with Outflow's members (src/api/errors.ts builds them). */
export const Problem = z
  .object({
    type: z.string().openapi({ description: 'The problem type: urn:outflow:problem:<code>', example: 'urn:outflow:problem:not_found' }),
    title: z.string().openapi({ description: "The problem type's summary, the same for every occurrence", example: 'Not found' }),
    status: z.number().int().openapi({ description: 'The HTTP status code', example: 404 }),
    detail: z.string().openapi({ description: 'What went wrong and what to do; the CLI and the web app show it as it is', example: 'No export named "nightly".' }),
    code: z.string().openapi({
      description:
        'One code per meaning: invalid_request (400, the request does not match the schema), invalid_input (422, well-formed but refused), invalid_filter, not_found, conflict, run_conflict, precondition_failed (412, If-Match names an older version), edit_conflict (409, another edit was saved while this one was checked), …',
      example: 'not_found',
    }),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional().openapi({ description: 'Each field that is wrong (dotted path) and what is wrong with it' }),
    position: z.number().int().min(0).optional().openapi({ description: 'invalid_filter: the 0-based character offset in the filter where it goes wrong' }),
    runId: z.string().optional().openapi({ description: 'A run already going on for this export (409)' }),
    etag: z
      .string()
      .optional()
      .openapi({ description: 'precondition_failed (412) and edit_conflict (409): the ETag of the current version of the resource, which someone else saved first', example: '"exp_0mwt1ab2c3d4e5f6.4"' }),
    remedy: z
      .union([z.object({ action: z.literal('refresh-segment'), segment: z.string() }), z.object({ action: z.literal('move-export'), export: z.string() })])
      .optional()
      .openapi({ description: 'A step that fixes it, which a client can offer as an action: refresh that segment, or move the export to another connection' }),
    limit: z.enum(['token', 'address']).optional().openapi({ description: 'rate_limited (429): which limit was reached, the caller\'s token or session, or its address' }),
    retryAfterSeconds: z.number().int().optional().openapi({ description: 'rate_limited (429): the same as the Retry-After header' }),
  })
  .openapi('Problem');

export const IdParam = z.object({
  id: z.string().min(1).max(200).openapi({ param: { name: 'id', in: 'path' }, description: 'The id or the name', example: 'Partner SFTP' }),
});

const Json = z.record(z.string(), z.unknown());
const UsableBy = z.enum(['admins', 'admins-and-contributors']);

/** Whether the caller may take one action now; when not, why (the message the refused request would get). */
const Action = z
  .object({
    allowed: z.boolean(),
    reason: z.string().optional().openapi({ description: 'Why the caller may not: the detail of the 403 (or 422) the request would get', example: 'Only administrators may edit connections. Ask an administrator.' }),
  })
  .openapi('Action');

const ResourceId = z.string().openapi({ description: 'Immutable; every path that takes the name takes it too', example: 'exp_0mwt1ab2c3d4e5f6' });

export const ConnectionView = z
  .object({
    id: ResourceId,
    name: z.string(),
    type: z.string(),
    config: Json.optional(),
    usableBy: UsableBy,
    privacyConsent: z.object({ acceptedBy: z.string(), acceptedAt: Timestamp }).optional(),
    hostKeySha256: z.string().optional(),
    lastVerification: z.unknown().optional(),
    attention: z.unknown().optional(),
    signedIn: z.object({ at: Timestamp, by: z.string() }).optional(),
    sandbox: z.literal(true).optional().openapi({ description: "Set when the connection's API is on this machine: a local stand-in of the vendor (the demo's sandboxes, `outflow sandbox`), not the vendor itself" }),
    createdBy: z.string().optional(),
    createdAt: Timestamp.optional(),
    updatedAt: Timestamp.optional(),
    actions: z
      .object({ edit: Action, verify: Action, remove: Action, signIn: Action })
      .openapi({
        description:
          'What the caller may do to the connection, decided by the server with the checks the requests make: a client shows the allowed actions and the reason for the others. Contributors see connections usable by contributors, without settings: name, type, who may use it, when it was created, and the outcome of its last verification.',
      }),
    etag: z.string().optional().openapi({ description: 'Administrators: the version shown, the same as the ETag header; send it as If-Match to edit or remove exactly this version', example: '"conn_0mwt1ab2c3d4e5f6.3"' }),
  })
  .openapi('Connection');

// Connection and export configs: one schema per destination type (destination-schemas.ts).
export { ConnectionCreate, ConnectionDraft } from './destination-schemas.ts';

export const ConnectionPatch = z
  .object({
    name: z.string().min(1).max(200).optional(),
    config: ConnectionConfigPatch.optional(),
    usableBy: UsableBy.optional(),
  })
  .strict()
  .openapi('ConnectionPatch');

export const VerifyBody = z.object({ acceptHostKey: z.string().max(200).optional() }).strict().openapi('VerifyRequest');

export const SignInStarted = z
  .object({ connection: z.string(), authorizationUrl: z.string(), redirectUri: z.string(), expiresAt: Timestamp })
  .openapi('SignInStarted');

export const CheckResultView = z
  .object({ connection: z.string(), ok: z.boolean(), code: z.string().optional(), message: z.string().optional(), details: Json.optional() })
  .openapi('VerifyResult');

const sourceList = z.array(z.string().min(1).max(200)).min(1).max(100);

export const ExportView = z
  .object({
    id: ResourceId,
    name: z.string(),
    connection: z.string(),
    type: z.string(),
    segments: z.array(z.string()).optional(),
    entities: z.array(z.string()).optional(),
    config: Json,
    createdBy: z.string(),
    createdAt: Timestamp,
    connectionRemoved: z.literal(true).optional().openapi({ description: 'Its connection was removed: runs are refused until the export is moved to another connection' }),
    actions: z
      .object({
        run: Action.openapi({ description: 'Run, dry run, resume and cancel its runs' }),
        edit: Action,
        remove: Action,
        schedule: Action.openapi({ description: 'Give it a schedule of its own, pause and resume its scheduled runs' }),
      })
      .openapi({ description: 'What the caller may do to the export, decided by the server with the checks the requests make: a client shows the allowed actions and the reason for the others' }),
    warnings: z.array(z.string()).optional(),
    etag: z.string().openapi({ description: 'The version shown, the same as the ETag header: send it as If-Match to edit or remove exactly this version', example: '"exp_0mwt1ab2c3d4e5f6.3"' }),
  })
  .openapi('Export');

/** A saved (created or edited) export: with what saving it warned about, always there (empty when nothing). */
export const SavedExportView = ExportView.extend({
  warnings: z.array(z.string()).openapi({ description: 'What saving found worth saying: another export writing into the same list, a mapped field the destination will not store' }),
}).openapi('SavedExport');

export const ExportCreate = z
  .object({
    name: z.string().min(1).max(200),
    connection: z.string().min(1).max(200),
    segments: sourceList.optional(),
    entities: sourceList.optional(),
    config: ExportConfig.optional(),
    schedule: z
      .object({ cron: z.string().max(200), timeZone: z.string().max(100).optional() })
      .strict()
      .nullable()
      .optional()
      .openapi({ description: 'A schedule of its own, saved with the export or not at all (the cron expression is checked first); null takes it away' }),
  })
  .strict()
  .openapi('ExportCreate');

export const ExportPatch = ExportCreate.partial()
  .extend({ config: ExportConfigPatch.optional() })
  .strict()
  .openapi('ExportPatch');

const FileResult = z.object({ path: z.string(), rows: z.number(), bytes: z.number() });

export const RunSummary = z
  .object({
    id: z.string(),
    export: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    trigger: z.string(),
    startedBy: z.string(),
    resumedFrom: z.string().optional(),
    resumedBy: z.string().optional().openapi({ description: 'The run that continues this one; set once it was resumed (it can then no longer be resumed).' }),
    resumable: z.boolean().openapi({
      description:
        'Whether resuming this run continues anything now: failed or cancelled, neither resumed yet nor older than a run of its export that succeeded, and not refused before it sent anything (POST /api/runs/{id}/resume then starts the export over, like a new run).',
    }),
    entities: z.array(
      z.object({
        name: z.string(),
        rows: z.number(),
        files: z.array(FileResult).optional(),
        sent: z.number().optional(),
        rejected: z.number().optional(),
        removed: z.number().optional(),
        added: z.number().optional(),
        updated: z.number().optional(),
        unchanged: z.number().optional(),
      }),
    ),
    rows: z.number().nullable(),
    rowsDone: z.number().optional(),
    sent: z.number(),
    rejected: z.number(),
    notAttempted: z.number(),
    rejections: z.array(z.object({ source: z.string(), key: z.string(), code: z.string(), reason: z.string() })),
    rejectionsTotal: z.number().optional(),
    warnings: z.array(z.string()),
    handover: z
      .object({ since: Timestamp, message: z.string() })
      .optional()
      .openapi({
        description:
          'Scale-out mode: the worker executing this running run stopped answering at `since`; another worker takes it over from its checkpoint (the run then ends failed/interrupted with `resumedBy`).',
      }),
    queuedAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .openapi('Run');

export const Rejection = z
  .object({
    source: z.string().openapi({ description: 'The segment (or entity) the record came from' }),
    key: z.string().openapi({ description: "The profile's key" }),
    code: z.string().openapi({ example: 'invalid_email' }),
    reason: z.string(),
  })
  .openapi('Rejection');

export const DryRunReport = z
  .object({
    export: z.string(),
    dryRun: z.literal(true),
    syncMode: z.string(),
    fullResync: z.boolean(),
    sources: z.array(
      z.object({ name: z.string(), members: z.number(), add: z.number(), update: z.number(), remove: z.number(), reject: z.number(), unchanged: z.number() }),
    ),
    members: z.number(),
    add: z.number(),
    update: z.number(),
    remove: z.number(),
    reject: z.number(),
    unchanged: z.number(),
    rejections: z.array(Rejection),
    refusal: z.object({ code: z.string(), message: z.string() }).nullable(),
    warnings: z.array(z.string()),
    notes: z.array(z.string()),
  })
  .openapi('DryRunReport');

const FullResync = z.enum(['true', 'false']).optional().openapi({ description: 'Send every member once and rebuild the delivered state (mirror and upsert).' });

/** `POST /api/v1/exports/{id}/runs` options. */
export const RunQuery = z.object({
  fullResync: FullResync,
  dryRun: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ deprecated: true, description: 'Use POST /api/v1/exports/{id}/dry-run. true answers 307 to it (nothing is queued).' }),
});

/** `POST /api/v1/exports/{id}/dry-run` options. */
export const DryRunQuery = z.object({ fullResync: FullResync });

export const RunListItem = z
  .object({
    id: z.string(),
    export: z.string(),
    status: z.string(),
    trigger: z.string(),
    startedBy: z.string(),
    rows: z.number().nullable(),
    rowsDone: z.number(),
    sent: z.number(),
    rejected: z.number(),
    queuedAt: Timestamp,
    startedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .openapi('RunListItem');

export const SegmentView = z
  .object({
    id: ResourceId,
    name: z.string(),
    entity: z.string(),
    filter: z.string(),
    members: z.number().nullable(),
    refreshedAt: Timestamp.nullable(),
    createdBy: z.string(),
    createdAt: Timestamp,
    actions: z
      .object({ edit: Action, refresh: Action, remove: Action })
      .openapi({
        description:
          "What the caller may do to the segment, decided by the server with the checks the requests make (contributors may not change or remove a segment another user's export uses): a client shows the allowed actions and the reason for the others",
      }),
    etag: z.string().openapi({ description: 'The version shown, the same as the ETag header: send it as If-Match to edit or remove exactly this version', example: '"seg_0mwt1ab2c3d4e5f6.3"' }),
  })
  .openapi('Segment');

export const SegmentPreview = z
  .object({ entity: z.string().min(1).max(200).optional(), where: z.string().min(1).max(10_000) })
  .strict()
  .openapi('SegmentPreview');
export const SegmentPreviewResult = z.object({ entity: z.string(), members: z.number().int() }).openapi('SegmentPreviewResult');
export const SegmentCreate = z
  .object({ name: z.string().min(1).max(200), entity: z.string().min(1).max(200).optional(), where: z.string().min(1).max(10_000) })
  .strict()
  .openapi('SegmentCreate');

export const SegmentPatch = z
  .object({ entity: z.string().min(1).max(200).optional(), where: z.string().min(1).max(10_000).optional() })
  .strict()
  .openapi('SegmentPatch');

export const SegmentRefreshResult = z.array(z.object({ name: z.string(), members: z.number() })).openapi('SegmentRefreshResult');

export const EntityView = z
  .object({
    name: z.string(),
    key: z.string(),
    rows: z.number(),
    columns: z.array(z.object({ name: z.string(), type: z.string() }).passthrough()),
    loadedAt: Timestamp.nullable().optional(),
    attached: z.string().optional().openapi({ description: 'The table or view an attached entity reads live (PostgreSQL profile store)' }),
  })
  .openapi('Entity');

export const EntitySamples = z
  .object({
    entity: z.string(),
    columns: z.array(z.object({ name: z.string(), type: z.string(), values: z.array(z.string()) })),
  })
  .openapi('EntitySamples');

const FireTimeSchema = z.object({ local: Timestamp, utc: Timestamp });

export const ExportManifestView = z
  .object({
    export: z.string(),
    generatedAt: Timestamp,
    createdBy: z.string(),
    createdAt: Timestamp,
    destination: z.object({
      type: z.string(),
      title: z.string(),
      connection: z.string(),
      account: Json.openapi({ description: "The connection's non-secret settings; credentials are left out" }),
      settings: Json.openapi({ description: "The export's destination settings (list, audience, account ids)" }),
    }),
    sources: z.array(
      z.object({
        kind: z.enum(['segment', 'entity']),
        name: z.string(),
        entity: z.string(),
        filter: z.string().optional(),
        members: z.number().nullable().optional(),
        refreshedAt: Timestamp.nullable().optional(),
      }),
    ),
    syncMode: z.string(),
    fields: z.array(z.object({ entity: z.string(), column: z.string(), target: z.string(), title: z.string().optional() })).openapi({ description: 'Every column that leaves, and where it lands' }),
    consent: z.object({ acceptedBy: z.string(), acceptedAt: Timestamp }).nullable().openapi({ description: 'Who accepted the destination’s data privacy terms for the connection, and when' }),
    usableBy: z.string().nullable(),
    schedule: z.object({
      mode: z.enum(['own', 'refresh', 'manual']),
      paused: z.boolean(),
      cron: z.array(z.string()).optional(),
      days: z.string().optional(),
      times: z.array(z.string()).optional(),
      timeZone: z.string().optional(),
      next: z.array(FireTimeSchema),
    }),
    lastRuns: z.array(
      z.object({ id: z.string(), status: z.string(), trigger: z.string(), startedBy: z.string(), finishedAt: Timestamp.nullable(), sent: z.number(), rejected: z.number() }),
    ),
  })
  .openapi('ExportManifest');

export const EntityAttach = z
  .object({
    table: z.string().min(1).max(300).openapi({ example: 'crm.customers', description: 'schema.table of a table or view in the profile store database' }),
    key: z.string().min(1).max(200).optional().openapi({ example: 'customer_id', description: 'Key column (default profile_id)' }),
  })
  .strict()
  .openapi('EntityAttach');

export const DestinationView = z
  .object({
    id: z.string(),
    title: z.string(),
    exports: z.string(),
    docsUrl: z.string().optional(),
    connection: Json,
    exportSettings: Json,
    fields: Json.optional(),
    extraFields: z.unknown().optional(),
    limits: Json.optional(),
  })
  .openapi('Destination');

export const AuditEntryView = z
  .object({
    id: z.string(),
    at: Timestamp,
    actor: z.string(),
    role: z.string(),
    via: z.string(),
    address: z.string().nullable(),
    action: z.string(),
    targetType: z.string(),
    target: z.string().nullable(),
    outcome: z.string(),
    details: Json,
  })
  .openapi('AuditEntry');

export const Removed = z.object({ removed: z.string() }).passthrough().openapi('Removed');

export const UserRemoved = z
  .object({ removed: z.string(), tokensRevoked: z.number().int(), sessionsEnded: z.number().int() })
  .openapi('UserRemoved');

export const Role = z.enum(['admin', 'contributor', 'viewer']);

export const UserView = z
  .object({
    id: ResourceId,
    name: z.string(),
    role: Role,
    mustChangePassword: z.boolean(),
    createdBy: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    etag: z.string().openapi({ description: 'The version shown, the same as the ETag header: send it as If-Match to edit or remove exactly this version', example: '"user_0mwt1ab2c3d4e5f6.3"' }),
  })
  .openapi('User');

// Documented as the enum, checked by the use case: its 422 names the valid roles the way the CLI does (a 400
// in zod's words would differ from what `outflow user create` prints on a home of its own).
const RoleInput = z.string().min(1).max(50).openapi({ enum: Role.options, description: 'admin | contributor | viewer; any other is refused (422)' });
export const UserCreate = z.object({ name: z.string().min(1).max(100), role: RoleInput }).strict().openapi('UserCreate');
export const UserPatch = z.object({ role: RoleInput }).strict().openapi('UserPatch');
export const OneTimePassword = z.object({ name: z.string(), role: Role, password: z.string() }).openapi('UserWithPassword');

export const TokenView = z
  .object({ id: z.string(), name: z.string(), user: z.string().nullable(), prefix: z.string(), createdBy: z.string(), createdAt: Timestamp, lastUsedAt: Timestamp.nullable() })
  .openapi('Token');
export const TokenCreate = z.object({ user: z.string().min(1).max(100).optional(), name: z.string().min(1).max(100).optional() }).strict().openapi('TokenCreate');
export const CreatedToken = z
  .object({ token: z.string(), id: z.string(), name: z.string(), user: z.string(), prefix: z.string(), createdAt: Timestamp })
  .openapi('CreatedToken');

export const LoginBody = z.object({ name: z.string().min(1).max(100), password: z.string().min(1).max(1000) }).strict().openapi('Login');
export const PasswordChange = z
  .object({ currentPassword: z.string().min(1).max(1000), newPassword: z.string().min(1).max(1000) })
  .strict()
  .openapi('PasswordChange');
export const SessionView = z
  .object({
    user: z.object({
      name: z.string(),
      role: Role,
      mustChangePassword: z.boolean(),
      can: z
        .object({
          createExport: Action,
          createSegment: Action,
          createConnection: Action,
          setSchedule: Action,
          manageUsers: Action,
          readAudit: Action,
          downloadRejections: Action,
        })
        .openapi({
          description:
            "What the user may do in the home beyond one resource (create exports, segments and connections; the schedule, users and audit log; download a run's rejected records), decided by the server with the checks those requests make, each refusal with its reason",
        }),
    }),
    csrfToken: z.string().optional(),
    expiresAt: Timestamp.optional().openapi({ description: 'When a browser session ends; absent for an API token, which lasts until it is revoked' }),
  })
  .openapi('Session');

const FireTime = z.object({
  local: Timestamp,
  utc: Timestamp,
});

export const ExportScheduleView = z
  .object({
    name: z.string(),
    paused: z.boolean(),
    cron: z.string().optional(),
    timeZone: z.string().optional(),
    next: z.array(FireTime),
  })
  .openapi('ExportSchedule');

export const ScheduleView = z
  .object({
    enabled: z.boolean(),
    days: z.string().optional(),
    times: z.array(z.string()).optional(),
    cron: z.array(z.string()).optional(),
    timeZone: z.string().optional(),
    next: z.array(FireTime).openapi({ description: 'The next 5 fire times of the refresh, in the zone and in UTC' }),
    lastFiredAt: Timestamp.nullable(),
    updatedBy: z.string().optional(),
    updatedAt: Timestamp.optional(),
    exports: z.array(ExportScheduleView).openapi({ description: 'Exports with a schedule of their own, or paused' }),
    refreshes: z.array(z.string()).openapi({ description: "The exports the home's refresh runs (names): every export neither paused nor on a schedule of its own" }),
    etag: z.string().openapi({ description: "The version of the home's refresh schedule (on or off), the same as the ETag header: send it as If-Match to change or turn off exactly this one", example: '"schedule.3"' }),
  })
  .openapi('Schedule');

export const ScheduleSet = z
  .object({
    days: z.string().max(100).optional().openapi({ example: 'mon-fri' }),
    times: z.array(z.string().max(10)).min(1).max(100).optional().openapi({ example: ['06:00', '18:00'] }),
    cron: z.string().max(200).optional().openapi({ example: '0 6 * * 1-5' }),
    timeZone: z.string().max(100).optional().openapi({ example: 'Europe/Paris' }),
  })
  .strict()
  .openapi('ScheduleSet');

export const ExportScheduleSet = z
  .object({
    cron: z.string().min(1).max(200).openapi({ example: '30 2 * * *' }),
    timeZone: z.string().max(100).optional().openapi({ example: 'America/New_York' }),
  })
  .strict()
  .openapi('ExportScheduleSet');

export const RefreshResultView = z
  .object({
    segments: z.array(z.object({ name: z.string(), members: z.number().optional(), error: z.string().optional() })),
    runs: z.array(RunSummary),
  })
  .openapi('RefreshResult');

const NotifyEvent = z.union([z.enum(['failed', 'recovered']), z.object({ 'rejections-above': z.number().min(0).max(100) }).strict()]);

export const NotifyView = z
  .object({
    url: z.string().openapi({ description: 'The webhook with its secret part masked', example: 'https://hooks.slack.com/services/***' }),
    on: z.array(NotifyEvent),
    updatedBy: z.string(),
    updatedAt: Timestamp,
    etag: z.string().openapi({ description: "The version of the home's alert setting, the same as the ETag header: send it as If-Match to change or remove exactly this one", example: '"notify.3"' }),
  })
  .openapi('Notify');

export const NotifyInput = z
  .object({
    url: z.string().min(1).max(2000).openapi({ description: 'The full webhook URL; stored encrypted, never shown again', example: 'https://hooks.slack.com/services/T000/B000/XXXX' }),
    on: z.array(z.unknown()).max(10).optional().openapi({ description: '"failed", "recovered", {"rejections-above": <percent>}; default ["failed", "recovered"]' }),
  })
  .strict()
  .openapi('NotifyInput');

export const StatusWorkerView = z
  .object({
    id: z.string(),
    host: z.string(),
    pid: z.number().int(),
    concurrency: z.number().int(),
    runs: z.array(z.object({ id: z.string(), export: z.string().nullable() })).openapi({ description: 'The runs it executes now' }),
    startedAt: Timestamp,
    seenAt: Timestamp.openapi({ description: 'When it last said it was alive' }),
  })
  .openapi('StatusWorker');

export const StatusView = z
  .object({
    mode: z.enum(['embedded', 'distributed']).openapi({ description: '`embedded`: the server executes runs itself; `distributed`: `outflow worker` processes take them from the queue in Redis' }),
    queue: z
      .object({ waiting: z.number().int(), active: z.number().int(), delayed: z.number().int() })
      .openapi({ description: 'Runs waiting for a worker, executing, and waiting for a retry' }),
    workers: z.array(StatusWorkerView),
    limiter: z
      .array(
        z.object({
          key: z.string(),
          connection: z.string().nullable().openapi({ description: 'The connection, for accounts whose connection the caller may see' }),
          type: z.string().nullable(),
          backend: z.enum(['memory', 'redis']),
          requestsPerSecond: z.number().nullable(),
          waitMs: z.number().openapi({ description: 'How long a request asked for now would wait for its turn' }),
          pausedUntil: z.string().nullable().openapi({ description: "Until when a vendor's 429 (Retry-After) holds every request to the account" }),
        }),
      )
      .openapi({ description: 'How each destination account is paced now' }),
    note: z.string().optional(),
  })
  .openapi('Status');

/** `GET /api/v1/overview`: the web app's landing page (src/app/overview.ts). */
const Count = z.number().int().min(0);
export const Overview = z
  .object({
    days: z.number().int().openapi({ description: 'The window in days, today (UTC) included', example: 30 }),
    from: Timestamp.openapi({ description: 'Start of the window: midnight UTC, days - 1 days ago' }),
    to: Timestamp.openapi({ description: 'End of the window: now' }),
    runsByDay: z
      .array(z.object({ day: z.string().openapi({ example: '2026-11-30' }), succeeded: Count, failed: Count, cancelled: Count, active: Count.openapi({ description: 'Still queued or running' }) }))
      .openapi({ description: 'Runs by the UTC day they were queued and how they ended: every day of the window, oldest first' }),
    totals: z.object({ runs: Count, succeeded: Count, failed: Count, cancelled: Count, active: Count, sent: Count, rejected: Count }).openapi({ description: 'The window at once' }),
    destinations: z
      .array(
        z.object({
          type: z.string().nullable().openapi({ description: 'Destination type; null for runs whose connection was removed since', example: 'iterable' }),
          title: z.string().openapi({ example: 'Iterable' }),
          runs: Count,
          sent: Count.openapi({ description: 'Rows delivered in the window (a resumed run counts only what it added)' }),
          rejected: Count,
        }),
      )
      .openapi({ description: 'Rows sent and rejected per destination type in the window, most sent first' }),
    attention: z
      .array(
        z.object({
          export: z.string(),
          reason: z.enum(['failed', 'sign-in', 'connection-removed', 'connection-problem', 'verify', 'paused']),
          message: z.string().openapi({ example: 'Its last run failed (auth_failed).' }),
          at: Timestamp.nullable(),
          runId: z.string().optional().openapi({ description: 'The failed run' }),
        }),
      )
      .openapi({ description: 'Exports that need someone: last run failed, connection to sign in again, fix, verify or replace, paused. At most 50; attentionTotal counts them all' }),
    attentionTotal: Count,
    nextRefresh: z
      .object({
        utc: Timestamp,
        local: Timestamp.openapi({ description: "The schedule's zone's wall clock with its offset", example: '2026-11-30T06:00:00+01:00' }),
        timeZone: z.string().openapi({ example: 'Europe/Amsterdam' }),
        scope: z.enum(['home', 'export']).openapi({ description: "`home`: the home's scheduled refresh; `export`: one export's own schedule" }),
        export: z.string().optional(),
      })
      .nullable()
      .openapi({ description: 'The soonest scheduled refresh; null when nothing is scheduled' }),
  })
  .openapi('Overview');

export const SegmentRefresh = z
  .object({ at: Timestamp, members: z.number().int().min(0) })
  .openapi('SegmentRefresh');
