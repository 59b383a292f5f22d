import { appendAudit, listAudit, type AuditEntry, type AuditQuery } from '../store/metadata/audit.ts';
import { homeChecks } from './permissions.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Home } from './home.ts';

/**
 * Records what the acting user did. Use cases call this after a change succeeded; `details` names what
 * changed (`{ changed: ["apiKey", "folder"] }`), never a secret value.
 */
export async function audit(
  home: Home,
  action: string,
  target: { type: string; name?: string | null },
  details: Record<string, unknown> = {},
  outcome: AuditEntry['outcome'] = 'ok',
): Promise<void> {
  await appendAudit(home.db, {
    at: home.now().toISOString(),
    actor: home.actor.name,
    role: home.actor.role,
    via: home.actor.via ?? 'cli',
    address: home.actor.address ?? null,
    action,
    targetType: target.type,
    target: target.name ?? null,
    outcome,
    details: home.auditContext ? { ...details, ...home.auditContext } : details,
  });
}

/** The audit log, newest first (administrators only). `since` takes an ISO date or date-time. */
export async function listAuditEntries(home: Home, query: AuditQuery = {}): Promise<AuditEntry[]> {
  homeChecks.readAudit(home.actor);
  for (const key of ['since', 'until'] as const) {
    const value = query[key];
    if (value !== undefined && Number.isNaN(Date.parse(value))) {
      throw new ValidationError(`--${key} must be a date such as 2026-11-01 or 2026-11-01T08:00:00Z, not "${value}".`);
    }
  }
  const normalize = (v: string | undefined) => (v === undefined ? undefined : new Date(v).toISOString());
  return listAudit(home.db, { ...query, since: normalize(query.since), until: normalize(query.until) });
}

/** The names of the keys whose values differ between two configs (for "apiKey changed" audit details). */
export function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}
