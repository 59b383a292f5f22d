import { randomUUID } from 'node:crypto';
import { isLoopbackHost } from '../lib/loopback.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { getDestination } from '../destinations/index.ts';
import type { CheckResult, DestinationDefinition } from '../destinations/kit/define.ts';
import { maskSecrets, secretKeys, splitSecrets } from '../destinations/kit/secret.ts';
import { ConfigError, ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Actor, Connection, UsableBy } from '../domain/model.ts';
import { connectionActions, homeChecks, type ActionView, type ConnectionAction } from './permissions.ts';
import { assertAdmin, assertNotViewer, destinationContext, resolveConnectionConfig } from '../engine/services.ts';
import { audit, changedKeys } from './audit.ts';
import { permit } from './refusals.ts';
import * as store from '../store/metadata/connections.ts';
import { listExports } from '../store/metadata/exports.ts';
import { listSegments } from '../store/metadata/segments.ts';
import { checkRecordLimits } from '../engine/limits.ts';
import type { Home } from './home.ts';
import { checkName, refuseUnknownKeys, zodIssues } from './validation.ts';
import { checkPrecondition, etagOf, removalVersion, writeVersion, type Precondition } from './versions.ts';
import { redactUrl, redactUrls } from '../lib/redact-url.ts';

/** A connection as it may be shown anywhere: secrets appear as `"set"`, never their value. */
export interface ConnectionView {
  /** Immutable: the REST paths take it as well as the name, which a rename changes. */
  id: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
  usableBy: UsableBy;
  privacyConsent: { acceptedBy: string; acceptedAt: string };
  hostKeySha256?: string;
  lastVerification?: unknown;
  attention?: unknown;
  /** Microsoft Advertising: who signed the connection in last, and when (`connection authorize` or the web app). */
  signedIn?: { at: string; by: string };
  /** Its API is on this machine: a local stand-in of the vendor (the demo's sandboxes), not the vendor. */
  sandbox?: true;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** What the caller may do to it (src/app/permissions.ts); a refused action carries the reason the request would get. */
  actions: Record<ConnectionAction, ActionView>;
  /** The version shown (also the ETag header): send it as If-Match to edit or remove exactly this version. */
  etag: string;
}

export function toConnectionView(connection: Connection, actor: Actor): ConnectionView {
  const destination = getDestination(connection.type);
  const withSecrets = { ...connection.config, ...Object.fromEntries(connection.secretKeys.map((k) => [k, 'set'])) };
  return {
    id: connection.id,
    name: connection.name,
    type: connection.type,
    // A base URL's user name, password and query are shown to nobody (src/lib/redact-url.ts).
    config: Object.fromEntries(Object.entries(maskSecrets(destination.connection.schema, withSecrets)).map(([k, v]) => [k, typeof v === 'string' ? redactUrl(v) : v])),
    usableBy: connection.usableBy,
    privacyConsent: connection.consent,
    ...(connection.state.hostKeySha256 ? { hostKeySha256: String(connection.state.hostKeySha256) } : {}),
    ...(connection.state.lastVerification ? { lastVerification: connection.state.lastVerification } : {}),
    ...(connection.state.attention ? { attention: connection.state.attention } : {}),
    ...(connection.state.signedIn ? { signedIn: connection.state.signedIn as { at: string; by: string } } : {}),
    ...(talksToSandbox(connection.config) ? { sandbox: true as const } : {}),
    createdBy: connection.createdBy,
    createdAt: connection.createdAt,
    updatedAt: connection.updatedAt,
    actions: connectionActions(actor),
    etag: etagOf(connection),
  };
}

/**
 * A connection whose API base URL is on this machine talks to a stand-in of the vendor, such as the demo's
 * sandboxes (`outflow sandbox`): people must not mistake what it received for a real audience or list. SFTP
 * is left out: a file server on the same machine is a real destination.
 */
function talksToSandbox(config: Record<string, unknown>): boolean {
  return Object.values(config).some((value) => {
    if (typeof value !== 'string' || !/^https?:\/\//.test(value)) return false;
    try {
      return isLoopbackHost(new URL(value).hostname);
    } catch {
      return false;
    }
  });
}

export interface CreateConnectionInput {
  type: string;
  name: string;
  config: unknown;
  acceptPrivacyTerms: boolean;
  usableBy?: UsableBy;
}

/**
 * Everything saving a connection checks (role, consent, name, settings), without saving. `pending` names
 * settings the caller obtains afterwards: `connection authorize` checks before the browser sign-in, so an
 * admin never signs in only to have the token thrown away over a missing flag or a typo in the config.
 */
export async function checkNewConnection(home: Home, input: CreateConnectionInput, pending: string[] = []): Promise<void> {
  const { name } = validateNewConnection(home, input, pending);
  if (await store.findConnectionByName(home.db, home.box, name)) {
    throw new ConflictError(`A connection named "${name}" already exists. Choose another name, or remove the old one first.`);
  }
}

function validateNewConnection(home: Home, input: CreateConnectionInput, pending: string[] = []) {
  assertAdmin(home.actor, 'create connections');
  if (!input.acceptPrivacyTerms) {
    throw new ConfigError(
      'privacy_terms_not_accepted',
      'Nothing was saved: a connection sends customer data to a third party, so it needs the data-privacy terms accepted. Confirm that you may share this data with the destination and pass --accept-privacy-terms.',
    );
  }
  const name = input.name.trim();
  if (!name) throw new ValidationError('A connection needs a display name (--name).');
  checkName(name, 'connection');
  const destination = getDestination(input.type);
  if (!isObject(input.config)) throw new ValidationError('The connection config must be a JSON object.');
  refuseUnknownKeys(input.config, Object.keys(destination.connection.schema.shape), `${destination.title} connection config`);
  const config = readSecretFiles(destination.connection.schema, input.config);
  const schema = pending.length > 0 && destination.connection.schema instanceof z.ZodObject
    ? destination.connection.schema.partial(Object.fromEntries(pending.map((key) => [key, true])) as Record<string, true> & Record<number, never>)
    : destination.connection.schema;
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw new ValidationError(`The ${destination.title} connection config is invalid: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}.`, issues);
  }
  return { name, destination, data: parsed.data as Record<string, unknown> };
}

/**
 * A `<secret>File` setting the schema declares (SFTP's `privateKeyFile`) is read when the connection is saved
 * and its content kept as `<secret>`, encrypted like any secret, so a key need not be pasted into JSON. The
 * path is not kept: the connection must not change when the file does, or break when it is removed.
 */
function readSecretFiles(schema: z.ZodObject, config: Record<string, unknown>): Record<string, unknown> {
  const secrets = new Set(secretKeys(schema));
  const result = { ...config };
  for (const [key, value] of Object.entries(config)) {
    const target = key.endsWith('File') ? key.slice(0, -'File'.length) : '';
    if (!target || !secrets.has(target) || !(key in schema.shape) || value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(`${key} must be the path of a file.`);
    if (config[target] !== undefined) throw new ValidationError(`Set ${target} or ${key}, not both.`);
    const file = path.resolve(value.replace(/^~(?=\/|$)/, os.homedir()));
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message);
      throw new ValidationError(`Cannot read the ${key} ${file}: ${why}. Nothing was saved; check the path (relative paths start from the current directory).`);
    }
    if (text.trim() === '') throw new ValidationError(`The ${key} ${file} is empty. Nothing was saved.`);
    delete result[key];
    result[target] = text;
  }
  return result;
}

export async function createConnection(home: Home, input: CreateConnectionInput): Promise<ConnectionView> {
  await permit(home, 'connection.create', { type: 'connection', name: input.name }, () => homeChecks.createConnection(home.actor));
  const { name, destination, data } = validateNewConnection(home, input);
  const { plain, secrets } = splitSecrets(destination.connection.schema, data);
  const connection = await store.createConnection(home.db, home.box, {
    name,
    type: destination.id,
    config: plain,
    secrets,
    usableBy: input.usableBy ?? 'admins',
    consent: { acceptedBy: home.actor.name, acceptedAt: home.now().toISOString() },
    createdBy: home.actor.name,
  });
  home.log.info({ connection: name, type: destination.id, by: home.actor.name }, 'connection created');
  await audit(home, 'connection.create', { type: 'connection', name }, { destination: destination.id, usableBy: connection.usableBy, settings: Object.keys(plain).sort(), secrets: Object.keys(secrets).sort() });
  await audit(home, 'connection.consent', { type: 'connection', name }, { acceptedBy: connection.consent.acceptedBy, acceptedAt: connection.consent.acceptedAt });
  return toConnectionView(connection, home.actor);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a whole connection config with the destination's schema; create and update share it. */
function parseConnectionConfig(destination: DestinationDefinition, config: Record<string, unknown>) {
  const parsed = destination.connection.schema.safeParse(config);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw new ValidationError(`The ${destination.title} connection config is invalid: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}.`, issues);
  }
  return splitSecrets(destination.connection.schema, parsed.data as Record<string, unknown>);
}

export interface UpdateConnectionPatch {
  name?: string;
  /**
   * Merged over the current settings, key by key; `null` removes a key (its default applies again). Secret
   * fields are write-only: omitted means unchanged, a value replaces the stored one.
   */
  config?: unknown;
  usableBy?: UsableBy;
}

/**
 * Settings whose change leaves an earlier `connection verify` valid: pacing, limits and file format. Any other
 * change (where to connect, as whom, with which credential, which folder or account) clears the verification.
 */
const KEEPS_VERIFICATION = new Set(['requestsPerSecond', 'maxProfiles', 'warnProfiles', 'compression', 'delimiter', 'readyTimeoutMs']);

/** SFTP settings that decide which server we trust: a change forgets the recorded host key unless one is pinned. */
const SFTP_IDENTITY = ['host', 'port', 'username', 'password', 'privateKey'];

/** Edits a connection (administrators). Validated like a create; a refused edit changes nothing. */
export async function updateConnection(home: Home, name: string, patch: UpdateConnectionPatch, precondition?: Precondition): Promise<ConnectionView> {
  await permit(home, 'connection.update', { type: 'connection', name }, () => assertAdmin(home.actor, 'edit connections'));
  const connection = await store.getConnectionByName(home.db, home.box, name);
  checkPrecondition(precondition, connection, `Connection "${connection.name}"`);
  const destination = getDestination(connection.type);
  const newName = patch.name === undefined ? undefined : patch.name.trim();
  if (newName === '') throw new ValidationError('A connection needs a display name (--name).');
  if (newName !== undefined) checkName(newName, 'connection');

  let config: Record<string, unknown> | undefined;
  let secrets: Record<string, string> | undefined;
  let state: Record<string, unknown> | undefined;
  /** Settings whose value really changes (a key sent again with its current value is not a change). */
  let changed: string[] = [];
  if (patch.config !== undefined) {
    if (!isObject(patch.config)) throw new ValidationError('The connection config must be a JSON object.');
    refuseUnknownKeys(patch.config, Object.keys(destination.connection.schema.shape), `${destination.title} connection config`);
    const before = { ...connection.config, ...(await store.readConnectionSecrets(home.db, home.box, connection.id)) };
    const merged = Object.fromEntries(Object.entries({ ...before, ...readSecretFiles(destination.connection.schema, patch.config) }).filter(([, value]) => value !== null));
    ({ plain: config, secrets } = parseConnectionConfig(destination, merged));
    const after: Record<string, unknown> = { ...config, ...secrets };
    changed = changedKeys(before, after);
    const clearVerification = changed.some((key) => !KEEPS_VERIFICATION.has(key));
    const forgetHostKey = destination.id === 'sftp' && after.hostKeySha256 === undefined && changed.some((key) => SFTP_IDENTITY.includes(key));
    if (clearVerification || forgetHostKey) {
      state = { ...connection.state };
      if (clearVerification) delete state.lastVerification;
      if (forgetHostKey) delete state.hostKeySha256;
    }
  }

  if (config !== undefined) await checkAllowance(home, connection, destination, { ...config, ...secrets });

  // Only if nobody saved another edit since `connection` was read: the settings were merged over what it had.
  const updated = await writeVersion(precondition, connection, `Connection "${connection.name}"`, () =>
    store.updateConnection(
      home.db,
      home.box,
      connection.id,
      {
        ...(newName !== undefined ? { name: newName } : {}),
        ...(config !== undefined ? { config, secrets } : {}),
        ...(patch.usableBy !== undefined ? { usableBy: patch.usableBy } : {}),
        ...(state !== undefined ? { state } : {}),
      },
      connection.version,
    ),
  );
  // Names of changed settings only: values (secret or not) stay out of the log.
  home.log.info({ connection: updated.name, previousName: connection.name, settings: changed, by: home.actor.name }, 'connection updated');
  await audit(home, 'connection.update', { type: 'connection', name: connection.name }, {
    ...(newName !== undefined && newName !== connection.name ? { name: newName } : {}),
    ...(patch.usableBy !== undefined ? { usableBy: patch.usableBy } : {}),
    ...(patch.config !== undefined ? { changed } : {}),
  });
  return toConnectionView(updated, home.actor);
}

/**
 * A lowered allowance (Autopilot's or Iterable's `maxProfiles`) would make the connection's exports fail on
 * their next run: refuse it now, with the message that run would give (counts from the last refresh).
 */
async function checkAllowance(home: Home, connection: Connection, destination: DestinationDefinition, config: Record<string, unknown>): Promise<void> {
  const kind = destination.export;
  if (kind.kind !== 'records' || !kind.connectionLimits) return;
  const sizes = new Map((await listSegments(home.db)).map((s) => [s.name, s.members]));
  for (const exp of await listExports(home.db, { connectionId: connection.id })) {
    if (exp.sourceKind !== 'segments') continue;
    const counted = exp.sources.flatMap((name) => (sizes.get(name) == null ? [] : [{ name, members: sizes.get(name)! }]));
    await checkRecordLimits(home.db, exp, destination.title, kind, config, counted);
  }
}

/** What a contributor sees of a connection's last verification and of a problem a run met: the outcome, not the details. */
export type ContributorConnectionView = Pick<ConnectionView, 'id' | 'name' | 'type' | 'usableBy' | 'createdAt' | 'actions' | 'sandbox'> & {
  lastVerification?: { ok: boolean; at: string; code?: string };
  attention?: { code?: string };
};

/**
 * What the caller may see of a connection: administrators everything but secret values; contributors only
 * connections usable by contributors, and of those the name, type, who may use them, when it was created and
 * whether it works (its last verification's outcome, a sign-in it needs), so that they can tell a working
 * connection from a broken one before they pick it; not its settings or who set it up.
 */
function visibleView(home: Home, connection: Connection): ConnectionView | ContributorConnectionView | null {
  if (home.actor.role === 'admin') return toConnectionView(connection, home.actor);
  if (connection.usableBy !== 'admins-and-contributors') return null;
  const verification = connection.state.lastVerification as { ok?: unknown; at?: unknown; code?: unknown } | undefined;
  const attention = connection.state.attention as { code?: unknown } | undefined;
  return {
    id: connection.id,
    name: connection.name,
    type: connection.type,
    usableBy: connection.usableBy,
    createdAt: connection.createdAt,
    ...(verification
      ? { lastVerification: { ok: verification.ok === true, at: String(verification.at), ...(typeof verification.code === 'string' ? { code: verification.code } : {}) } }
      : {}),
    ...(attention ? { attention: typeof attention.code === 'string' ? { code: attention.code } : {} } : {}),
    // Whoever picks the connection for an export must know it is not the real vendor.
    ...(talksToSandbox(connection.config) ? { sandbox: true as const } : {}),
    actions: connectionActions(home.actor),
  };
}

export async function listConnections(home: Home): Promise<Array<ConnectionView | ContributorConnectionView>> {
  assertNotViewer(home.actor, 'see connections');
  return (await store.listConnections(home.db, home.box)).flatMap((c) => visibleView(home, c) ?? []);
}

export async function showConnection(home: Home, name: string): Promise<ConnectionView | ContributorConnectionView> {
  assertNotViewer(home.actor, 'see connections');
  const view = visibleView(home, await store.getConnectionByName(home.db, home.box, name));
  // A connection a contributor may not use is not theirs to know about: the same answer as a missing one.
  if (!view) throw new NotFoundError(`No connection named "${name}" that contributors may use. See \`outflow connection list\`.`);
  return view;
}

/**
 * Runs the destination's check: connect, authenticate, one cheap read (and for SFTP a probe write). Records
 * the outcome, and what the check learned (the SFTP host key), on the connection.
 */
export async function verifyConnection(home: Home, name: string, options: { acceptHostKey?: string } = {}): Promise<CheckResult & { connection: string }> {
  await permit(home, 'connection.verify', { type: 'connection', name }, () => assertAdmin(home.actor, 'verify connections'));
  const connection = await store.getConnectionByName(home.db, home.box, name);
  const destination = getDestination(connection.type);
  const config = await resolveConnectionConfig(home, connection);
  const acceptHostKey = options.acceptHostKey?.trim();
  if (acceptHostKey !== undefined) {
    if (connection.type !== 'sftp') throw new ValidationError(`--accept-host-key applies to SFTP connections only; "${name}" is ${connection.type}.`);
    if (!/^(SHA256:)?[A-Za-z0-9+/]{43}=?$/.test(acceptHostKey)) {
      throw new ValidationError(
        `--accept-host-key needs the server's SHA-256 host key fingerprint as OpenSSH prints it (SHA256: and 43 base64 characters, e.g. from \`ssh-keygen -l -E sha256 -f <host key>.pub\` on the server).`,
      );
    }
    if (config.hostKeySha256) {
      throw new ValidationError(
        `Connection "${name}" pins its host key (hostKeySha256), and the pin decides which key is trusted; --accept-host-key does not apply. Re-create the connection with the new pin.`,
      );
    }
  }
  const ctx = destinationContext(home, connection, { verifying: true, ...(acceptHostKey ? { acceptHostKey } : {}) });
  let result: CheckResult;
  try {
    result = await destination.connection.check(config, ctx);
  } catch (error) {
    // check() must not throw; if one does, report it like a failed check rather than crash the command.
    result = { ok: false, code: 'internal', message: error instanceof Error ? error.message : String(error) };
  }
  // Whatever a check says about an address, a base URL's user name, password and query are not repeated.
  if (!result.ok) result = { ...result, message: redactUrls(result.message) };
  const at = home.now().toISOString();
  await store.updateConnectionState(home.db, connection.id, {
    lastVerification: result.ok ? { ok: true, at, by: home.actor.name } : { ok: false, at, by: home.actor.name, code: result.code, message: result.message },
    ...(result.ok ? { attention: null } : {}),
  });
  home.log.info({ connection: name, ok: result.ok, code: result.ok ? undefined : result.code }, 'connection verified');
  await audit(home, 'connection.verify', { type: 'connection', name }, result.ok ? {} : { code: result.code }, result.ok ? 'ok' : 'failed');
  return { ...result, connection: name };
}

/**
 * Verifies settings before they are saved (the form's Verify): the same check as a saved connection's, on a
 * draft that is never stored. Nothing is written: what the check learns (an SFTP host key) is returned in the
 * details, and the secrets typed are used once and forgotten. Administrators only, like creating one.
 */
export async function verifyConnectionDraft(home: Home, input: { type: string; name?: string; config: unknown }): Promise<CheckResult & { connection: string }> {
  const name = input.name?.trim() || 'new connection';
  await permit(home, 'connection.verify', { type: 'connection', name }, () => assertAdmin(home.actor, 'verify connections'));
  const { destination, data } = validateNewConnection(home, { type: input.type, name, config: input.config, acceptPrivacyTerms: true });
  const draft: Connection = {
    id: `draft-${randomUUID()}`,
    name,
    type: destination.id,
    config: data,
    secretKeys: [],
    state: {},
    usableBy: 'admins',
    consent: { acceptedBy: home.actor.name, acceptedAt: home.now().toISOString() },
    createdBy: home.actor.name,
    createdAt: home.now().toISOString(),
    updatedAt: home.now().toISOString(),
    version: 0,
  };
  const state: Record<string, unknown> = {};
  const ctx = {
    ...destinationContext(home, draft, { verifying: true }),
    state,
    // A draft has no row: keep what the check learns in memory and report it.
    saveState: async (patch: Record<string, unknown>) => void Object.assign(state, patch),
    saveSecrets: async () => undefined,
  };
  let result: CheckResult;
  try {
    result = await destination.connection.check(data, ctx);
  } catch (error) {
    result = { ok: false, code: 'internal', message: error instanceof Error ? error.message : String(error) };
  }
  const learned = typeof state.hostKeySha256 === 'string' ? { hostKeySha256: state.hostKeySha256 } : {};
  const details = { ...(result.details ?? {}), ...learned };
  home.log.info({ connection: name, draft: true, ok: result.ok, code: result.ok ? undefined : result.code }, 'connection settings verified before saving');
  await audit(home, 'connection.verify', { type: 'connection', name }, { draft: true, ...(result.ok ? {} : { code: result.code }) }, result.ok ? 'ok' : 'failed');
  return { ...result, ...(Object.keys(details).length ? { details } : {}), connection: name };
}

export async function removeConnection(
  home: Home,
  name: string,
  options: { force?: boolean } = {},
  precondition?: Precondition,
): Promise<{ removed: string; orphanedExports: string[] }> {
  await permit(home, 'connection.remove', { type: 'connection', name }, () => assertAdmin(home.actor, 'remove connections'));
  const connection = await store.getConnectionByName(home.db, home.box, name);
  checkPrecondition(precondition, connection, `Connection "${connection.name}"`);
  const exports = await listExports(home.db, { connectionId: connection.id });
  if (exports.length > 0 && !options.force) {
    throw new ConflictError(
      `Connection "${name}" is used by export(s) ${exports.map((e) => `"${e.name}"`).join(', ')}. Remove those exports first, or pass --force to remove the connection anyway (their runs will then fail until they get a new connection).`,
    );
  }
  await writeVersion(precondition, connection, `Connection "${connection.name}"`, () =>
    store.removeConnection(home.db, connection.id, removalVersion(precondition, connection)),
  );
  home.log.info({ connection: name, by: home.actor.name }, 'connection removed');
  await audit(home, 'connection.remove', { type: 'connection', name }, exports.length ? { orphanedExports: exports.map((e) => e.name) } : {});
  return { removed: name, orphanedExports: exports.map((e) => e.name) };
}

/**
 * After a successful sign-in (`connection authorize`): the sign-in problem that set `attention` is solved, so
 * it is cleared, and the connection is verified again so `connection list` shows today's state, not the
 * verification from before the token was revoked.
 */
export async function afterSignIn(home: Home, name: string): Promise<CheckResult & { connection: string }> {
  const connection = await store.getConnectionByName(home.db, home.box, name);
  await store.updateConnectionState(home.db, connection.id, { attention: null });
  return verifyConnection(home, name);
}
