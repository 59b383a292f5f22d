import { PermissionError } from '../domain/errors.ts';
import type { Actor, Connection } from '../domain/model.ts';
import { assertAdmin, assertCanUse, assertNotViewer } from '../engine/services.ts';

// Who may do what to an export or a connection, written once. The use cases run these checks before they act;
// the views run the same checks to tell a client what the caller may do (`actions`), so the web app shows
// only the buttons that will work, and says why the others are unavailable, without rules of its own.

/** Whether the caller may take an action now and, when not, why (the message the refused request would get). */
export interface ActionView {
  allowed: boolean;
  reason?: string;
}

/** The connection of an export, or null when it was removed. */
type ExportConnection = Pick<Connection, 'name' | 'usableBy'> | null;

export const exportActionNames = ['run', 'edit', 'remove', 'schedule'] as const;
export type ExportAction = (typeof exportActionNames)[number];

/**
 * Viewers read; every action on an export needs a contributor or an administrator. One wording for all of them,
 * so a page that offers none of them to a viewer says why in one sentence.
 */
export function assertMayChangeExports(actor: Pick<Actor, 'role'>): void {
  assertNotViewer(actor, 'run or change exports');
}

/** Thrown by `run` on an export whose connection was removed: not a matter of role, so not a PermissionError. */
export class ConnectionRemovedRefusal extends Error {}

/**
 * Each check throws PermissionError when the actor may not take the action. `run` covers a run, a dry run, a
 * resume and a cancel; `schedule` covers the export's own schedule and pausing it.
 */
export const exportChecks: Record<ExportAction, (actor: Actor, connection: ExportConnection) => void> = {
  run(actor, connection) {
    if (!connection) {
      assertMayChangeExports(actor);
      throw new ConnectionRemovedRefusal('The connection of this export was removed: move the export to another connection, then run it.');
    }
    assertCanUse(actor, connection);
  },
  edit(actor, connection) {
    assertMayChangeExports(actor);
    // Nobody can tell any more whether a contributor could use a removed connection: repairing such an export
    // is for administrators.
    if (connection) assertCanUse(actor, connection);
    else assertAdmin(actor, 'repair an export whose connection was removed');
  },
  remove(actor, connection) {
    assertMayChangeExports(actor);
    if (connection) assertCanUse(actor, connection);
    else assertAdmin(actor, 'remove an export whose connection was removed');
  },
  // One wording for scheduling, pausing and resuming, so the reason a view gives is the refusal's word for word.
  schedule(actor, connection) {
    assertMayChangeExports(actor);
    if (connection) assertCanUse(actor, connection);
    else assertAdmin(actor, 'schedule or pause an export whose connection was removed');
  },
};

export const connectionActionNames = ['edit', 'verify', 'remove', 'signIn'] as const;
export type ConnectionAction = (typeof connectionActionNames)[number];

export const connectionChecks: Record<ConnectionAction, (actor: Actor) => void> = {
  edit: (actor) => assertAdmin(actor, 'edit connections'),
  verify: (actor) => assertAdmin(actor, 'verify connections'),
  remove: (actor) => assertAdmin(actor, 'remove connections'),
  signIn: (actor) => assertAdmin(actor, 'sign connections in'),
};

export const homeActionNames = ['createExport', 'createSegment', 'createConnection', 'setSchedule', 'manageUsers', 'readAudit', 'downloadRejections'] as const;
export type HomeAction = (typeof homeActionNames)[number];

/**
 * What a role may do in the home beyond one resource: create things, and the administrators' pages. The use cases
 * call these checks, and the session tells the web app their outcome (`can`), so that it shows the buttons and
 * pages a role has without rules of its own.
 */
export const homeChecks: Record<HomeAction, (actor: Pick<Actor, 'role'>) => void> = {
  // Which connections a contributor may pick is the wizard's list (connections usable by contributors).
  createExport: (actor) => assertMayChangeExports(actor),
  createSegment: (actor) => assertNotViewer(actor, 'create segments'),
  createConnection: (actor) => assertAdmin(actor, 'create connections'),
  setSchedule: (actor) => assertAdmin(actor, 'set the refresh schedule'),
  manageUsers: (actor) => assertAdmin(actor, 'list users'),
  readAudit: (actor) => assertAdmin(actor, 'read the audit log'),
  downloadRejections: (actor) => assertNotViewer(actor, 'download rejected records (they name customer profiles)'),
};

/** What a role may do in the home (the session's `can`). */
export function homeActions(actor: Pick<Actor, 'role'>): Record<HomeAction, ActionView> {
  return Object.fromEntries(homeActionNames.map((action) => [action, decide(() => homeChecks[action](actor))])) as Record<HomeAction, ActionView>;
}

/** Runs a check: allowed, or refused with the check's reason. */
export function decide(check: () => void): ActionView {
  try {
    check();
    return { allowed: true };
  } catch (error) {
    if (error instanceof PermissionError || error instanceof ConnectionRemovedRefusal) return { allowed: false, reason: error.message };
    throw error;
  }
}

/** What the actor may do to an export whose connection is `connection` (null: removed). */
export function exportActions(actor: Actor, connection: ExportConnection): Record<ExportAction, ActionView> {
  return Object.fromEntries(exportActionNames.map((action) => [action, decide(() => exportChecks[action](actor, connection))])) as Record<ExportAction, ActionView>;
}

/** What the actor may do to a connection. */
export function connectionActions(actor: Actor): Record<ConnectionAction, ActionView> {
  return Object.fromEntries(connectionActionNames.map((action) => [action, decide(() => connectionChecks[action](actor))])) as Record<ConnectionAction, ActionView>;
}
