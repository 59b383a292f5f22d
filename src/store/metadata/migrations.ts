import { sql, type Kysely, type Migration } from 'kysely';

// Types are chosen to mean the same on SQLite and PostgreSQL: timestamps are ISO-8601 text in UTC, JSON is text.
export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('secrets', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('usable_by', 'text', (c) => c.notNull())
        .addColumn('privacy_accepted_by', 'text', (c) => c.notNull())
        .addColumn('privacy_accepted_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('segments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('entity', 'text', (c) => c.notNull())
        .addColumn('filter', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('refreshed_at', 'text')
        .addColumn('members', 'bigint')
        .execute();

      await db.schema
        .createTable('exports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        // No foreign key: an admin may remove a connection that exports still name; their runs then fail
        // with a message saying so, and the export's history stays.
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('source_kind', 'text', (c) => c.notNull())
        .addColumn('sources', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('export_id', 'text', (c) => c.notNull())
        .addColumn('export_name', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('started_by', 'text', (c) => c.notNull())
        .addColumn('resumed_from', 'text')
        .addColumn('queued_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('heartbeat_at', 'text')
        .addColumn('rows_total', 'bigint')
        .addColumn('rows_done', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('sent', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('rejected', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('not_attempted', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('sources', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('checkpoint', 'text')
        .addColumn('warnings', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .execute();
      await db.schema.createIndex('runs_export_queued').on('runs').columns(['export_id', 'queued_at']).execute();
      await db.schema.createIndex('runs_status').on('runs').column('status').execute();

      await db.schema
        .createTable('run_rejections')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('record_key', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_rejections_pk', ['run_id', 'seq'])
        .execute();
    },
  },
  '0002_accounts': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        // scrypt$N$r$p$salt$hash: the parameters travel with the hash, so they can be raised later.
        .addColumn('password_hash', 'text', (c) => c.notNull())
        // 1 while the password is a generated one-time password (0/1 means the same on both databases).
        .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // No foreign key: removing a user revokes their tokens and keeps the rows as history.
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        // SHA-256 of the token: the token itself is shown once and never stored.
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();

      await db.schema
        .createTable('sessions')
        // SHA-256 of the session id in the cookie: a copy of this table cannot be replayed as cookies.
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('csrf_token_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('address', 'text')
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

      // Failed logins per key (`account:<name>` or `address:<ip>`) in a fixed window; kept in the store so
      // every server process sharing the metadata database sees the same counts.
      await db.schema
        .createTable('login_failures')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('window_started_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // Append-only: nothing in Outflow updates or deletes an audit entry. `seq` orders entries made in the same
  // millisecond; `details` is JSON with names of what changed, never secret values.
  '0003_audit': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('via', 'text', (c) => c.notNull())
        .addColumn('address', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
    },
  },
  // The refresh schedule. One row per owner: `home` (the scheduled refresh of every segment and export) or an
  // export's id (its own schedule, and whether it is paused). `crons` is a JSON array of 5-field expressions read
  // in `time_zone`; `last_slot` is the last fire time (UTC) that was handled, so a restart runs a missed slot once.
  '0004_schedule': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('schedules')
        .addColumn('owner', 'text', (c) => c.primaryKey())
        .addColumn('crons', 'text')
        .addColumn('time_zone', 'text')
        .addColumn('days', 'text')
        .addColumn('times', 'text')
        .addColumn('last_slot', 'text')
        .addColumn('paused_at', 'text')
        .addColumn('paused_by', 'text')
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // Alert webhooks. The URL carries a secret (Slack's path token, a query key): it is sealed in the secret box
  // like connection secrets, and a masked copy is kept for display.
  '0005_notify': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('notify_targets')
        .addColumn('scope', 'text', (c) => c.primaryKey())
        .addColumn('url_sealed', 'text', (c) => c.notNull())
        .addColumn('url_shown', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // Web sign-ins in progress (OAuth authorization code + PKCE through the server's callback): keyed by the
  // SHA-256 of the `state` the browser carries, so a copy of this table cannot answer a callback; the PKCE
  // verifier is sealed in the secret box. Rows are taken (deleted) by the callback: single use. In the
  // metadata store, not in memory, so any server process sharing the database can take the callback.
  '0006_oauth_sign_ins': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('oauth_sign_ins')
        .addColumn('state_hash', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('verifier_sealed', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // A cancel asked of a run that another process executes (`outflow run cancel` from a second terminal while
  // `outflow export run` runs directly on the home, or a worker of another server): the executing process
  // polls it and stops.
  '0007_run_cancel_request': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('runs').addColumn('cancel_requested_at', 'text').execute();
    },
  },
  // Sign-ins are throttled with growing delays after each failure instead of being locked for a fixed window:
  // what matters is when the last counted attempt was, not when a window started.
  '0008_login_throttle': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('login_failures').renameColumn('window_started_at', 'last_attempt_at').execute();
    },
  },
  // Idempotency-Key answers (IETF draft "The Idempotency-Key HTTP Header Field"): one row per caller, operation
  // and key. In the metadata store so that a retry reaching another server sharing the database, or the same
  // server after a restart, finds the first answer. `state` is `pending` while the first request runs; the
  // request's fingerprint and the answer are sealed in the secret box (answers may carry a new token or
  // one-time password, and request bodies connection secrets). Rows older than 24 h are purged.
  '0009_idempotency_keys': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_sealed', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('response_sealed', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('completed_at', 'text')
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'operation', 'key'])
        .execute();
      await db.schema.createIndex('idempotency_keys_created').on('idempotency_keys').column('created_at').execute();
    },
  },
  // The web app's pictures. A segment's member count at each refresh (the segments row keeps only the latest),
  // so its history can be drawn; a home that upgrades starts its history with the count it already has. Runs get
  // an index on `queued_at` alone: the overview aggregates the runs of a time window across all exports.
  '0010_segment_refreshes': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('segment_refreshes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // No foreign key: removing a segment removes its history in the same use case (see removeSegment).
        .addColumn('segment_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('members', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('segment_refreshes_segment_at').on('segment_refreshes').columns(['segment_id', 'at']).execute();
      await sql`INSERT INTO segment_refreshes (id, segment_id, at, members) SELECT 'sref_' || id, id, refreshed_at, members FROM segments WHERE refreshed_at IS NOT NULL AND members IS NOT NULL`.execute(db);
      await db.schema.createIndex('runs_queued').on('runs').column('queued_at').execute();
    },
  },
  // Optimistic concurrency: every edit of a connection, segment, export or user advances its `version`, and an
  // edit made from an older read (If-Match with an older ETag) is refused by a compare-and-set on it. Rows that
  // exist start at 1, as new ones do.
  '0011_edit_versions': {
    async up(db: Kysely<any>) {
      for (const table of ['connections', 'segments', 'exports', 'users']) {
        await db.schema.alterTable(table).addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      }
    },
  },
  // Optimistic concurrency for the home's settings: the refresh schedule and the alert webhook. They are one per
  // home and may be absent (turned off), so their version lives in a row of its own that is never removed (written by the first change): an
  // ETag read before a turn-off and a new setting never matches the new setting (a version on the setting's own
  // row would start again at 1 when it is set again).
  '0012_setting_versions': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('setting_versions')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      // No rows: a setting's row is written by its first change (until then it is at version 1).
    },
  },
};
