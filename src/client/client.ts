import type { NotifyView } from '../app/notify.ts';
import type { CheckResult } from '../destinations/kit/define.ts';
import type { ConnectionView, ContributorConnectionView, CreateConnectionInput, UpdateConnectionPatch } from '../app/connections.ts';
import type { CreatedExportView, CreateExportInput, ExportManifest, ExportView, RunOptions, UpdateExportPatch } from '../app/exports.ts';
import type { DryRunReport } from '../engine/run-export.ts';
import type { RunFilter, RunListItem, RunSummary } from '../app/runs.ts';
import type { SegmentView } from '../app/data.ts';
import type { AuditEntry, AuditQuery } from '../store/metadata/audit.ts';
import type { EntityInfo } from '../store/profile/profile-store.ts';
import type { RunObserver } from '../engine/run-export.ts';
import type { ExportScheduleView, ScheduleView, SetScheduleInput } from '../app/schedule.ts';

/** What `outflow refresh` prints: each segment's count (or why it failed) and each export's run as it ended. */
export interface RefreshSummary {
  segments: Array<{ name: string; members?: number; error?: string }>;
  runs: RunSummary[];
}
import type { CreatedToken, TokenView, UserView } from '../app/users.ts';
import type { Role } from '../domain/model.ts';
import type { StatusView } from '../app/status.ts';
import type { ConfigPlan } from '../app/config-file/index.ts';

/** A configuration file to plan or apply, its references already resolved by the CLI (never by a server). */
export interface ConfigRequest {
  document: string;
  file: string;
  references: Record<string, string>;
  prune: boolean;
}
import type { BackupResult } from '../app/backup.ts';

/** An edit or removal only over the version with this ETag (`--if-match`, from `show --json`); refused when someone changed it since. */
export interface AtVersion {
  ifMatch?: string | undefined;
}

/** How a command watches a run it started or follows: progress and warnings as they come; abort to cancel. */
export interface RunWatch {
  observer: RunObserver;
  signal: AbortSignal;
}

export type EntityView = Pick<EntityInfo, 'name' | 'key' | 'rows' | 'columns' | 'loadedAt' | 'attached'>;

/**
 * Everything the CLI asks of Outflow. Two implementations: `localClient` calls the use cases on a home this
 * process opened, `remoteClient` calls a server's REST API. The CLI prints the same either way, because both
 * return the use cases' own views.
 */
export interface OutflowClient {
  /** `local` when this process works on the home itself, else the server's address. */
  readonly where: 'local' | string;

  createConnection(input: CreateConnectionInput): Promise<ConnectionView>;
  /** Contributors see less of a connection than administrators (src/app/connections.ts). */
  listConnections(): Promise<Array<ConnectionView | ContributorConnectionView>>;
  showConnection(name: string): Promise<ConnectionView | ContributorConnectionView>;
  updateConnection(name: string, patch: UpdateConnectionPatch, version?: AtVersion): Promise<ConnectionView>;
  removeConnection(name: string, options: { force?: boolean } & AtVersion): Promise<{ removed: string; orphanedExports: string[] }>;
  verifyConnection(name: string, options?: { acceptHostKey?: string }): Promise<CheckResult & { connection: string }>;

  createExport(input: CreateExportInput): Promise<CreatedExportView>;
  updateExport(name: string, patch: UpdateExportPatch, version?: AtVersion): Promise<CreatedExportView>;
  listExports(): Promise<ExportView[]>;
  showExport(name: string): Promise<ExportView>;
  removeExport(name: string, version?: AtVersion): Promise<{ removed: string }>;
  /** Which fields leave, to where, under whose consent, how often, and what the last runs sent. */
  exportManifest(name: string): Promise<ExportManifest>;
  /** Runs the export and follows it to the end; `fullResync` sends everyone once and rebuilds the delivered state. */
  runExport(name: string, watch: RunWatch, options?: RunOptions): Promise<RunSummary>;
  /** What a run would do now; sends nothing and changes nothing. */
  dryRunExport(name: string, options?: RunOptions): Promise<DryRunReport>;
  /** Queues a run for the server's worker pool and returns at once; needs a server (`outflow serve`). */
  queueExport(name: string, options?: RunOptions): Promise<RunSummary>;

  listRuns(options: RunFilter): Promise<RunListItem[]>;
  showRun(id: string): Promise<RunSummary & { rejectionsTotal: number }>;
  /** Every rejected record of a run as CSV text (header first), streamed in chunks; viewers are refused. */
  runRejections(id: string): Promise<AsyncIterable<string>>;
  resumeRun(id: string, watch: RunWatch): Promise<RunSummary>;
  cancelRun(id: string): Promise<RunSummary>;
  /** Waits for a run to end, reporting its progress; aborting stops following, not the run. */
  followRun(id: string, watch: RunWatch): Promise<RunSummary>;

  loadEntity(name: string, file: string, options: { key?: string; delimiter?: string }): Promise<EntityView>;
  listEntities(): Promise<EntityView[]>;
  /** Registers an existing table or view of the PostgreSQL profile store's database as an entity, read live. */
  attachEntity(name: string, options: { table: string; key?: string }): Promise<EntityView>;
  createSegment(input: { name: string; entity?: string; where: string }): Promise<SegmentView>;
  listSegments(): Promise<SegmentView[]>;
  updateSegment(name: string, patch: { where?: string; entity?: string }): Promise<SegmentView>;
  refreshSegments(name?: string): Promise<Array<{ name: string; members: number }>>;
  previewSegment(input: { entity?: string; where: string }): Promise<{ entity: string; members: number }>;
  removeSegment(name: string): Promise<{ removed: string }>;

  showNotify(): Promise<NotifyView | null>;
  setNotify(input: { url: string; on?: unknown[] }): Promise<NotifyView>;
  removeNotify(): Promise<{ removed: boolean }>;

  listAudit(query: AuditQuery): Promise<AuditEntry[]>;

  showSchedule(): Promise<ScheduleView>;
  /** The run queue and the workers executing runs (`outflow status`). */
  status(): Promise<StatusView>;
  setSchedule(input: SetScheduleInput): Promise<ScheduleView>;
  turnScheduleOff(): Promise<ScheduleView>;
  /** One refresh now; waits for every run it started to end. */
  refresh(watch: RunWatch): Promise<RefreshSummary>;
  /** `null` takes the export's own schedule away. */
  setExportSchedule(name: string, schedule: { cron: string; timeZone: string } | null): Promise<ExportScheduleView>;
  pauseExport(name: string): Promise<ExportScheduleView>;
  resumeExport(name: string): Promise<ExportScheduleView>;
  createUser(input: { name: string; role: string }): Promise<{ name: string; role: Role; password: string }>;
  listUsers(): Promise<UserView[]>;
  removeUser(name: string): Promise<{ removed: string; tokensRevoked: number; sessionsEnded: number }>;
  setRole(name: string, role: string): Promise<UserView>;
  resetPassword(name: string): Promise<{ name: string; role: Role; password: string }>;
  unlockSignIns(target: { user?: string; address?: string }): Promise<{ user: string | null; address: string | null; cleared: number }>;
  createToken(input: { user?: string; name?: string }): Promise<CreatedToken>;
  listTokens(): Promise<TokenView[]>;
  revokeToken(idOrName: string): Promise<TokenView>;
  /** Backs the home up into `target` (a folder on the machine holding the home: the server's, through one). */
  backup(input: { target: string; withoutKey?: boolean }): Promise<BackupResult>;

  /** The home's configuration as a YAML file, secrets as references. */
  exportConfig(): Promise<{ yaml: string; variables: string[] }>;
  planConfig(request: ConfigRequest): Promise<ConfigPlan>;
  applyConfig(request: ConfigRequest): Promise<ConfigPlan>;

  close(): Promise<void>;
}
