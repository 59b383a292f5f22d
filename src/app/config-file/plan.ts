import { sql, type ControlledTransaction } from 'kysely';
import type { MetadataSchema } from '../../store/metadata/db.ts';
import { getDestination } from '../../destinations/index.ts';
import { secretKeys } from '../../destinations/kit/secret.ts';
import { ConflictError, OutflowError, ValidationError } from '../../domain/errors.ts';
import { checkCron, compileDaysTimes } from '../../engine/schedule-spec.ts';
import { parseNotifyConfig } from '../../engine/notify.ts';
import { splitExportConfig } from '../../engine/run-export.ts';
import { assertNotViewer } from '../../engine/services.ts';
import { FilterError } from '../../store/profile/filter.ts';
import { createConnection, removeConnection, updateConnection } from '../connections.ts';
import { attachEntity, createSegment, refreshSegments, removeSegment, updateSegment } from '../data.ts';
import { createExport, removeExport, updateExport } from '../exports.ts';
import type { Home } from '../home.ts';
import { removeHomeNotify, setHomeNotify } from '../notify.ts';
import { pauseExport, resumeExport, setExportSchedule, setSchedule, turnScheduleOff } from '../schedule.ts';
import type { ConfigDocument, ConnectionEntry, ExportEntry } from './document.ts';
import {
  ConfigFileError,
  hasReference,
  parseConfigText,
  problemAt,
  resolveReferences,
  type ConfigProblem,
  type ConfigSource,
  type DocPath,
  type ReferenceResolver,
} from './source.ts';
import { readHomeState, scheduleEntry, type HomeState } from './state.ts';

export type ItemKind = 'entity' | 'segment' | 'connection' | 'export' | 'schedule' | 'notify';

export interface FieldChange {
  field: string;
  from?: unknown;
  to?: unknown;
  /** A secret, or a value from a reference: the plan says it changes, never what it is. */
  secret?: boolean;
}

export interface PlannedChange {
  kind: ItemKind;
  name: string;
  action: 'create' | 'update' | 'remove';
  fields: FieldChange[];
}

/** What applying a file would do (plan), or did (apply). */
export interface ConfigPlan {
  file: string;
  /** sha256 of the file: recorded in the audit log of an apply. */
  hash: string;
  changes: PlannedChange[];
  /** What stops the file from being applied; nothing is applied while there is one. */
  problems: ConfigProblem[];
  /** In the home, not in the file: kept, unless `prune`. */
  unlisted: Array<{ kind: ItemKind; name: string }>;
  warnings: string[];
  /** True once an apply committed the changes. */
  applied: boolean;
}

export interface ConfigInput {
  /** The file's text, as read. */
  text: string;
  /** Its name, for messages (`outflow.yaml:12:5: …`). */
  file: string;
  /** Turns `${env:…}` and `${file:…}` into values: the CLI's environment, never the server's. */
  resolve: ReferenceResolver;
  /** Remove what the home has and the file does not list (in the sections the file has). */
  prune?: boolean;
}

/** What applying the file would change, and what would be refused: the apply itself, rolled back. */
export function planConfig(home: Home, input: ConfigInput): Promise<ConfigPlan> {
  return reconcile(home, input, 'plan');
}

/** Makes the file real, all or nothing: one metadata transaction; any problem changes nothing. */
export function applyConfig(home: Home, input: ConfigInput): Promise<ConfigPlan> {
  return reconcile(home, input, 'apply');
}

/** Homes with an apply (or plan) in progress in this process; PostgreSQL homes also take an advisory lock. */
const busy = new WeakSet<object>();

async function reconcile(home: Home, input: ConfigInput, mode: 'plan' | 'apply'): Promise<ConfigPlan> {
  assertNotViewer(home.actor, mode === 'plan' ? 'plan configuration changes' : 'apply configuration files');
  let source: ConfigSource;
  let raw: ConfigDocument;
  let document: ConfigDocument;
  try {
    ({ source, document: raw } = parseConfigText(input.text, input.file));
    document = resolveReferences(source, raw, input.resolve);
  } catch (error) {
    if (error instanceof ConfigFileError) return { file: input.file, hash: '', changes: [], problems: error.problems, unlisted: [], warnings: [], applied: false };
    throw error;
  }
  if (busy.has(home.metadata)) throw new ConflictError('Another apply or plan is running on this home; try again when it has finished.');
  busy.add(home.metadata);
  try {
    return await inTransaction(home, source, raw, document, input, mode);
  } finally {
    busy.delete(home.metadata);
  }
}

async function inTransaction(home: Home, source: ConfigSource, raw: ConfigDocument, document: ConfigDocument, input: ConfigInput, mode: 'plan' | 'apply'): Promise<ConfigPlan> {
  const trx = await home.db.startTransaction().execute();
  const effects: Array<{ what: string; effect: (home: Home) => Promise<unknown> }> = [];
  const scoped: Home = {
    ...home,
    db: trx,
    actor: { ...home.actor, via: 'apply' },
    auditContext: { file: source.file, fileSha256: source.hash },
    deferred: { afterCommit: (what, effect) => void effects.push({ what, effect }) },
  };
  const plan: ConfigPlan = { file: source.file, hash: source.hash, changes: [], problems: [], unlisted: [], warnings: [], applied: false };
  let committed = false;
  try {
    if (home.metadata.dialect === 'postgres') {
      // Servers sharing one PostgreSQL database: one apply at a time, released with the transaction.
      const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext('outflow:config-apply')) as ok`.execute(trx);
      if (!rows[0]?.ok) throw new ConflictError('Another apply is running on this home (on another server); try again when it has finished.');
    }
    const state = await readHomeState(scoped);
    const planner = new Planner(scoped, source, raw, document, state, plan, mode, Boolean(input.prune));
    await planner.run(trx);
    if (mode === 'apply' && plan.problems.length === 0) {
      await trx.commit().execute();
      committed = true;
      plan.applied = true;
    }
  } finally {
    if (!committed) await trx.rollback().execute();
  }
  // The profile store's part of the apply (segment memberships, dropped state) once the metadata is committed.
  for (const { what, effect } of committed ? effects : []) {
    try {
      await effect(home);
    } catch (error) {
      plan.warnings.push(`Applied, but could not ${what}: ${(error as Error).message} Run \`outflow segment refresh\` (or apply again) once the cause is fixed.`);
    }
  }
  return plan;
}

/** One item of the file (or of the home, for removals), checked and made real inside its own savepoint. */
interface Step {
  kind: ItemKind;
  name: string;
  /** Where in the file; problems point here. */
  at: DocPath;
  /** Where validation issues' paths start (a config object). */
  configAt?: DocPath;
  action: PlannedChange['action'];
  fields: FieldChange[];
  /**
   * Depends on an entity attachment the plan does not make (attachments are outside the transaction): planned,
   * but checked only when applied.
   */
  afterAttach?: boolean;
  run(home: Home): Promise<unknown>;
}

class Planner {
  private steps: Step[] = [];
  private savepoints = 0;
  /** Entities the file attaches or re-attaches. */
  private attaching = new Set<string>();

  constructor(
    private home: Home,
    private source: ConfigSource,
    /** The document before references were resolved: what a field shows when it came from a reference. */
    private raw: ConfigDocument,
    private doc: ConfigDocument,
    private state: HomeState,
    private plan: ConfigPlan,
    private mode: 'plan' | 'apply',
    private prune: boolean,
  ) {}

  async run(trx: ControlledTransaction<MetadataSchema>): Promise<void> {
    this.checkReferences();
    if (this.plan.problems.length > 0) return;
    this.planEntities();
    this.planConnections();
    this.planSegments();
    this.planExports();
    this.planRemovals();
    this.planSchedule();
    this.planNotify();
    for (const step of this.steps) {
      this.plan.changes.push({ kind: step.kind, name: step.name, action: step.action, fields: step.fields });
      // Attachments live in the profile store, outside the transaction: made only by apply, before the rest.
      if ((step.kind === 'entity' || step.afterAttach) && this.mode === 'plan') {
        if (step.afterAttach) this.plan.warnings.push(`${step.kind} "${step.name}" depends on an entity the file attaches: it is checked when applied.`);
        continue;
      }
      const name = `item_${++this.savepoints}`;
      const savepoint = await trx.savepoint(name).execute();
      try {
        await step.run(this.home);
        await savepoint.releaseSavepoint(name).execute();
      } catch (error) {
        await savepoint.rollbackToSavepoint(name).execute();
        this.plan.problems.push(this.problemOf(step, error));
      }
    }
  }

  private problemOf(step: Step, error: unknown): ConfigProblem {
    if (!(error instanceof OutflowError)) throw error;
    let at = step.at;
    if (error instanceof FilterError) at = [...step.at, 'where'];
    else if (error instanceof ValidationError && step.configAt) {
      const issuePath = error.issues.find((issue) => issue.path)?.path;
      if (issuePath) at = [...step.configAt, ...issuePath.split('.')];
    }
    const verb = step.action === 'create' ? 'create' : step.action === 'remove' ? 'remove' : 'change';
    return problemAt(this.source, at, `cannot ${verb} ${step.kind} "${step.name}": ${error.message.split('\n')[0]}`);
  }

  /** A name the file uses must be in the file or in the home (and in the file, when --prune removes the rest). */
  private checkReferences(): void {
    const has = (list: Array<{ name: string }> | undefined, name: string) => (list ?? []).some((item) => item.name === name);
    const pruned = (list: Array<{ name: string }> | undefined, name: string) => this.prune && list !== undefined && !has(list, name);
    (this.doc.segments ?? []).forEach((s, i) => {
      const entity = s.entity ?? 'Customer';
      if (!has(this.doc.entities, entity) && !this.state.entities.some((e) => e.name === entity)) {
        this.plan.problems.push(problemAt(this.source, ['segments', i, 'entity'], `entity "${entity}" is neither in the file nor in the home (load or attach it first)`));
      }
    });
    (this.doc.connections ?? []).forEach((c, i) => {
      for (const key of Object.keys(c.config)) {
        if (key.endsWith('File')) {
          const target = key.slice(0, -'File'.length);
          this.plan.problems.push(problemAt(this.source, ['connections', i, 'config', key], `write ${target}: \${file:<path>} instead of ${key}: a file reference keeps the file's content out of the plan`, { key: true }));
        }
      }
    });
    (this.doc.exports ?? []).forEach((e, i) => {
      if (!has(this.doc.connections, e.connection) && !this.state.connections.some((c) => c.name === e.connection)) {
        this.plan.problems.push(problemAt(this.source, ['exports', i, 'connection'], `connection "${e.connection}" is neither in the file nor in the home`));
      } else if (pruned(this.doc.connections, e.connection)) {
        this.plan.problems.push(problemAt(this.source, ['exports', i, 'connection'], `connection "${e.connection}" is not in the file, so --prune would remove it`));
      }
      (e.segments ?? []).forEach((name, j) => {
        if (!has(this.doc.segments, name) && !this.state.segments.some((s) => s.name === name)) {
          this.plan.problems.push(problemAt(this.source, ['exports', i, 'segments', j], `segment "${name}" is neither in the file nor in the home`));
        } else if (pruned(this.doc.segments, name)) {
          this.plan.problems.push(problemAt(this.source, ['exports', i, 'segments', j], `segment "${name}" is not in the file, so --prune would remove it`));
        }
      });
    });
  }

  private planEntities(): void {
    (this.doc.entities ?? []).forEach((entry, i) => {
      const current = this.state.entities.find((e) => e.name === entry.name);
      const key = entry.key ?? 'profile_id';
      if (current && current.attached === entry.table && current.key === key) return;
      this.attaching.add(entry.name);
      this.steps.push({
        kind: 'entity',
        name: entry.name,
        at: ['entities', i],
        action: current ? 'update' : 'create',
        fields: [
          ...(current?.attached !== entry.table ? [{ field: 'table', from: current?.attached, to: entry.table }] : []),
          ...(current?.key !== key ? [{ field: 'key', from: current?.key, to: key }] : []),
        ],
        run: (home) => attachEntity(home, entry.name, { table: entry.table, key }),
      });
    });
  }

  private planConnections(): void {
    (this.doc.connections ?? []).forEach((entry, i) => {
      const at: DocPath = ['connections', i];
      const rawConfig = this.raw.connections![i]!.config;
      const current = this.state.connections.find((c) => c.name === entry.name);
      if (!current) {
        this.steps.push({
          kind: 'connection',
          name: entry.name,
          at,
          configAt: [...at, 'config'],
          action: 'create',
          fields: [
            { field: 'type', to: entry.type },
            ...Object.keys(entry.config).sort().map((key) => this.field(`config.${key}`, undefined, entry.config[key], isSecretKey(entry, key) || hasReference(rawConfig[key]))),
          ],
          run: (home) => {
            if (entry.acceptPrivacyTerms !== true) {
              throw new ValidationError(
                'a connection sends customer data to a third party: state your data-privacy consent with `acceptPrivacyTerms: true` (it is recorded for you as the administrator applying the file)',
                [{ path: 'acceptPrivacyTerms', message: 'required' }],
              );
            }
            return createConnection(home, { name: entry.name, type: entry.type, config: entry.config, acceptPrivacyTerms: true, usableBy: entry.usableBy ?? 'admins' });
          },
        });
        return;
      }
      if (current.type !== entry.type) {
        this.plan.problems.push(problemAt(this.source, [...at, 'type'], `connection "${entry.name}" is a ${current.type} connection; its type cannot change. Give the new one another name (and remove the old one with --prune).`));
        return;
      }
      const { fields, patch } = this.configChanges({ ...current.config, ...current.secrets }, normalizeConnectionConfig(entry), entry.config, (key) => isSecretKey(entry, key) || hasReference(rawConfig[key]));
      const usableBy = entry.usableBy ?? 'admins';
      if (usableBy !== current.usableBy) fields.push({ field: 'usableBy', from: current.usableBy, to: usableBy });
      if (fields.length === 0) return;
      this.steps.push({
        kind: 'connection',
        name: entry.name,
        at,
        configAt: [...at, 'config'],
        action: 'update',
        fields,
        run: (home) =>
          updateConnection(home, entry.name, {
            ...(Object.keys(patch).length > 0 ? { config: patch } : {}),
            ...(usableBy !== current.usableBy ? { usableBy } : {}),
          }),
      });
    });
  }

  private planSegments(): void {
    (this.doc.segments ?? []).forEach((entry, i) => {
      const at: DocPath = ['segments', i];
      const entity = entry.entity ?? 'Customer';
      const current = this.state.segments.find((s) => s.name === entry.name);
      if (!current) {
        this.steps.push({
          kind: 'segment',
          name: entry.name,
          at,
          afterAttach: this.attaching.has(entity),
          action: 'create',
          fields: [this.field('entity', undefined, entity), this.field('where', undefined, entry.where)],
          run: async (home) => {
            await createSegment(home, { name: entry.name, entity, where: entry.where });
            // A new segment gets its members once it exists for good, so its exports can run at once.
            home.deferred?.afterCommit(`refresh segment "${entry.name}"`, (outside) => refreshSegments(outside, entry.name));
          },
        });
        return;
      }
      const fields = [
        ...(current.entity !== entity ? [this.field('entity', current.entity, entity)] : []),
        ...(current.filter !== entry.where ? [this.field('where', current.filter, entry.where)] : []),
      ];
      if (fields.length === 0) return;
      this.steps.push({ kind: 'segment', name: entry.name, at, afterAttach: this.attaching.has(entity), action: 'update', fields, run: (home) => updateSegment(home, entry.name, { where: entry.where, entity }) });
    });
  }

  private planExports(): void {
    (this.doc.exports ?? []).forEach((entry, i) => {
      const at: DocPath = ['exports', i];
      const rawConfig = this.raw.exports![i]!.config;
      const current = this.state.exports.find((e) => e.name === entry.name);
      const secretField = (key: string) => key === 'notify' || hasReference(rawConfig[key]);
      const scheduleFields = this.exportScheduleFields(entry, current);
      const afterAttach =
        (entry.entities ?? []).some((name) => this.attaching.has(name)) ||
        (entry.segments ?? []).some((name) => this.steps.some((step) => step.kind === 'segment' && step.name === name && step.afterAttach));
      if (!current) {
        this.steps.push({
          kind: 'export',
          name: entry.name,
          at,
          configAt: [...at, 'config'],
          afterAttach,
          action: 'create',
          fields: [
            this.field('connection', undefined, entry.connection),
            ...(entry.segments ? [this.field('segments', undefined, entry.segments)] : []),
            ...(entry.entities ? [this.field('entities', undefined, entry.entities)] : []),
            ...Object.keys(entry.config).sort().map((key) => this.field(`config.${key}`, undefined, entry.config[key], secretField(key))),
            ...scheduleFields,
          ],
          run: async (home) => {
            await createExport(home, { name: entry.name, connection: entry.connection, segments: entry.segments, entities: entry.entities, config: entry.config });
            await this.applyExportSchedule(home, entry, null);
          },
        });
        return;
      }
      const connection = this.state.connections.find((c) => c.id === current.connectionId)?.name;
      const fields: FieldChange[] = [];
      if (connection !== entry.connection) fields.push(this.field('connection', connection ?? '(removed)', entry.connection));
      const sourceKind = entry.entities?.length ? 'entities' : 'segments';
      const sources = (sourceKind === 'entities' ? entry.entities : entry.segments) ?? [];
      if (current.sourceKind !== sourceKind || !same(current.sources, sources)) fields.push(this.field(sourceKind, current.sources, sources));
      const { notify: storedNotify, ...stored } = normalizeExportConfig(current.config);
      const { notify: wantedNotify, ...wanted } = normalizeExportConfig(entry.config);
      const settings = this.configChanges(stored, wanted, entry.config, secretField);
      fields.push(...settings.fields);
      const patch = settings.patch;
      // The webhook's URL is a secret: compared with the stored one, shown only as changed.
      const notifyBefore = current.notifyUrl ? { ...(storedNotify as object), url: current.notifyUrl } : undefined;
      const notifyAfter = wantedNotify === undefined ? undefined : { ...(wantedNotify as object), on: parseNotifyOn(wantedNotify) };
      if (!same(notifyBefore, notifyAfter)) {
        fields.push(this.field('config.notify', notifyBefore, notifyAfter, true));
        patch.notify = entry.config.notify ?? null;
      }
      const definitionChanged = fields.length > 0;
      fields.push(...scheduleFields);
      if (fields.length === 0) return;
      this.steps.push({
        kind: 'export',
        name: entry.name,
        at,
        configAt: [...at, 'config'],
        afterAttach,
        action: 'update',
        fields,
        run: async (home) => {
          if (definitionChanged) {
            await updateExport(home, entry.name, {
              ...(connection !== entry.connection ? { connection: entry.connection } : {}),
              ...(sourceKind === 'entities' ? { entities: sources } : { segments: sources }),
              ...(Object.keys(patch).length > 0 ? { config: patch } : {}),
            });
          }
          await this.applyExportSchedule(home, entry, current);
        },
      });
    });
  }

  private exportScheduleFields(entry: ExportEntry, current: HomeState['exports'][number] | undefined): FieldChange[] {
    const fields: FieldChange[] = [];
    const stored = current?.schedule?.crons?.length ? { cron: current.schedule.crons[0], timeZone: current.schedule.timeZone } : null;
    const wanted = entry.schedule ? normalizeCron(entry.schedule) : null;
    if (!same(stored, wanted)) fields.push(this.field('schedule', stored ?? undefined, wanted ?? undefined));
    const paused = Boolean(current?.schedule?.pausedAt);
    if (paused !== Boolean(entry.paused) && (current || entry.paused)) fields.push(this.field('paused', paused, Boolean(entry.paused)));
    return fields;
  }

  private async applyExportSchedule(home: Home, entry: ExportEntry, current: HomeState['exports'][number] | null): Promise<void> {
    const stored = current?.schedule?.crons?.length ? { cron: current.schedule.crons[0], timeZone: current.schedule.timeZone } : null;
    const wanted = entry.schedule ? normalizeCron(entry.schedule) : null;
    if (!same(stored, wanted)) await setExportSchedule(home, entry.name, entry.schedule ?? null);
    const paused = Boolean(current?.schedule?.pausedAt);
    if (!paused && entry.paused) await pauseExport(home, entry.name);
    if (paused && !entry.paused) await resumeExport(home, entry.name);
  }

  /** Items of a section the file has but does not list: removed with --prune, else reported as kept. */
  private planRemovals(): void {
    const sections = [
      { kind: 'export' as const, listed: this.doc.exports, home: this.state.exports, remove: (home: Home, name: string) => removeExport(home, name) },
      { kind: 'segment' as const, listed: this.doc.segments, home: this.state.segments, remove: (home: Home, name: string) => removeSegment(home, name) },
      { kind: 'connection' as const, listed: this.doc.connections, home: this.state.connections, remove: (home: Home, name: string) => removeConnection(home, name) },
    ];
    for (const section of sections) {
      if (section.listed === undefined) continue;
      for (const item of section.home) {
        if (section.listed.some((entry) => entry.name === item.name)) continue;
        if (!this.prune) {
          this.plan.unlisted.push({ kind: section.kind, name: item.name });
          continue;
        }
        this.steps.push({ kind: section.kind, name: item.name, at: [`${section.kind}s`], action: 'remove', fields: [], run: (home) => section.remove(home, item.name) });
      }
    }
  }

  private planSchedule(): void {
    const wanted = this.doc.schedule;
    if (wanted === undefined) return;
    const stored = this.state.schedule ? scheduleEntry(this.state.schedule) : 'off';
    const normalized = wanted === 'off' ? 'off' : normalizeHomeSchedule(wanted);
    if (same(stored, normalized)) return;
    this.steps.push({
      kind: 'schedule',
      name: 'refresh',
      at: ['schedule'],
      configAt: ['schedule'],
      action: wanted === 'off' ? 'remove' : stored === 'off' ? 'create' : 'update',
      fields: [this.field('schedule', stored, normalized)],
      run: (home) => (wanted === 'off' ? turnScheduleOff(home) : setSchedule(home, wanted)),
    });
  }

  private planNotify(): void {
    const wanted = this.doc.notify;
    if (wanted === undefined) return;
    const stored = this.state.notify;
    if (wanted === 'off') {
      if (stored) this.steps.push({ kind: 'notify', name: 'alerts', at: ['notify'], action: 'remove', fields: [], run: (home) => removeHomeNotify(home) });
      return;
    }
    const on = parseNotifyOn(wanted);
    if (stored && stored.url === wanted.url && same(stored.on, on)) return;
    this.steps.push({
      kind: 'notify',
      name: 'alerts',
      at: ['notify'],
      configAt: ['notify'],
      action: stored ? 'update' : 'create',
      fields: [
        ...(stored?.url !== wanted.url ? [{ field: 'url', secret: true, ...(stored ? { from: '(set)' } : {}), to: '(set)' }] : []),
        ...(!same(stored?.on, on) ? [this.field('on', stored?.on, on)] : []),
      ],
      run: (home) => setHomeNotify(home, wanted),
    });
  }

  /**
   * The settings that differ between the home and the file, and the patch that makes the home match: what the
   * file leaves out goes back to its default (`null`), as if the item were made from the file.
   */
  private configChanges(stored: Record<string, unknown>, wanted: Record<string, unknown>, written: Record<string, unknown>, secret: (key: string) => boolean) {
    const fields: FieldChange[] = [];
    const patch: Record<string, unknown> = {};
    for (const key of [...new Set([...Object.keys(stored), ...Object.keys(wanted)])].sort()) {
      if (same(stored[key], wanted[key])) continue;
      fields.push(this.field(`config.${key}`, stored[key], wanted[key], secret(key)));
      patch[key] = key in written ? written[key] : null;
    }
    return { fields, patch };
  }

  private field(field: string, from: unknown, to: unknown, secret = false): FieldChange {
    if (secret) return { field, secret: true, ...(from !== undefined ? { from: '(set)' } : {}), ...(to !== undefined ? { to: '(set)' } : {}) };
    return { field, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  }
}

function isSecretKey(entry: ConnectionEntry, key: string): boolean {
  try {
    return secretKeys(getDestination(entry.type).connection.schema).includes(key);
  } catch {
    return false;
  }
}

/** The file's connection settings as the store would keep them (defaults filled), to compare with the home. */
function normalizeConnectionConfig(entry: ConnectionEntry): Record<string, unknown> {
  const parsed = getDestination(entry.type).connection.schema.safeParse(entry.config);
  // Invalid settings are compared as written; the update then reports what is wrong with them.
  return parsed.success ? (parsed.data as Record<string, unknown>) : entry.config;
}

function normalizeExportConfig(config: Record<string, unknown>): Record<string, unknown> {
  try {
    const { mapping, syncMode } = splitExportConfig(config);
    return { ...config, mapping, syncMode };
  } catch {
    return config;
  }
}

function normalizeCron(schedule: { cron: string; timeZone?: string }): { cron: string; timeZone: string } | { cron: string; timeZone?: string } {
  try {
    const spec = checkCron(schedule.cron, schedule.timeZone);
    return { cron: spec.crons[0]!, timeZone: spec.timeZone };
  } catch {
    return schedule;
  }
}

function normalizeHomeSchedule(schedule: Exclude<NonNullable<ConfigDocument['schedule']>, 'off'>): unknown {
  try {
    if ('cron' in schedule) return normalizeCron(schedule);
    const spec = compileDaysTimes(schedule.days, schedule.times, schedule.timeZone);
    return { days: spec.days, times: spec.times, timeZone: spec.timeZone };
  } catch {
    return schedule;
  }
}

function parseNotifyOn(value: unknown): unknown {
  try {
    return parseNotifyConfig(value, 'notify').on;
  } catch {
    return (value as { on?: unknown }).on;
  }
}

/** Deep equality of JSON values, key order aside. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
  return value;
}
