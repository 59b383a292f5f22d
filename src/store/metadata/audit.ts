import type { Selectable } from 'kysely';
import { newId } from '../../lib/ids.ts';
import type { AuditLogTable, Db } from './db.ts';
import { fromJson, toJson } from './json.ts';

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  role: string;
  /** `cli` (the CLI working directly on the home) or `api` (through the server). */
  via: string;
  address: string | null;
  /** `<resource>.<verb>`, e.g. `connection.update`, `run.start`, `session.login_failed`. */
  action: string;
  targetType: string;
  target: string | null;
  outcome: 'ok' | 'denied' | 'failed';
  details: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

function toEntry(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    role: row.role,
    via: row.via,
    address: row.address,
    action: row.action,
    targetType: row.target_type,
    target: row.target,
    outcome: row.outcome as AuditEntry['outcome'],
    details: fromJson(row.details, {}),
  };
}

/** Appends one entry. There is deliberately no update or delete: the log is append-only. */
export async function appendAudit(db: Db, entry: NewAuditEntry): Promise<AuditEntry> {
  const id = newId('aud');
  await db
    .insertInto('audit_log')
    .values({
      id,
      at: entry.at,
      actor: entry.actor,
      role: entry.role,
      via: entry.via,
      address: entry.address,
      action: entry.action,
      target_type: entry.targetType,
      target: entry.target,
      outcome: entry.outcome,
      details: toJson(entry.details),
    })
    .execute();
  return { id, ...entry };
}

export interface AuditQuery {
  since?: string;
  until?: string;
  actor?: string;
  action?: string;
  limit?: number;
  /** Only entries older than this one (ids sort by time): the API's next page. */
  beforeId?: string;
}

/** Newest first. `action` matches a whole action or a prefix ending in `.` (`connection.` for all of them). */
export async function listAudit(db: Db, query: AuditQuery = {}): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll();
  if (query.since) q = q.where('at', '>=', query.since);
  if (query.until) q = q.where('at', '<', query.until);
  if (query.actor) q = q.where('actor', '=', query.actor);
  if (query.action) q = query.action.endsWith('.') ? q.where('action', 'like', `${query.action}%`) : q.where('action', '=', query.action);
  if (query.beforeId) q = q.where('id', '<', query.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(query.limit ?? 100).execute();
  return rows.map(toEntry);
}
