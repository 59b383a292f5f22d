import { removeHomeNotify, setHomeNotify, showHomeNotify } from '../app/notify.ts';
import { listAuditEntries } from '../app/audit.ts';
import { createConnection, listConnections, removeConnection, showConnection, updateConnection, verifyConnection } from '../app/connections.ts';
import { attachEntity, createSegment, listEntities, listSegmentViews, loadEntity, previewSegment, refreshSegments, removeSegment, segmentView, updateSegment } from '../app/data.ts';
import { createExport, dryRunExport, exportManifest, listExports, removeExport, resumeRun, runExport, showExport, updateExport } from '../app/exports.ts';
import type { Home } from '../app/home.ts';
import { applyConfig, exportConfig, mapResolver, planConfig } from '../app/config-file/index.ts';
import { cancelRun, listRunItems, reapStaleRuns, rejectionsCsv, showRun, summarizeRun } from '../app/runs.ts';
import { STALE_AFTER_MS } from '../engine/run-export.ts';
import { ValidationError } from '../domain/errors.ts';
import { getRun } from '../store/metadata/runs.ts';
import { pauseExport, refreshAll, resumeExport, setExportSchedule, setSchedule, showSchedule, turnScheduleOff } from '../app/schedule.ts';
import { executeRun } from '../engine/run-export.ts';
import { sleep } from '../lib/rate-limit.ts';
import type { AtVersion, OutflowClient, RunWatch } from './client.ts';
import type { Precondition } from '../app/versions.ts';
import { showStatusWithoutServer } from '../app/status.ts';
import { backupHome } from '../app/backup.ts';
import { createToken, createUser, listTokens, listUsers, removeUser, resetPassword, revokeToken, setRole, unlockSignIns } from '../app/users.ts';

const FOLLOW_POLL_MS = 500;

/** The use cases, called on a home this process opened (no server owns it). */
export function localClient(home: Home): OutflowClient {
  const entityView = (e: Awaited<ReturnType<typeof listEntities>>[number]) => ({
    name: e.name,
    key: e.key,
    rows: e.rows,
    columns: e.columns,
    loadedAt: e.loadedAt,
    ...(e.attached ? { attached: e.attached } : {}),
  });
  return {
    where: 'local',
    createConnection: (input) => createConnection(home, input),
    listConnections: () => listConnections(home),
    showConnection: (name) => showConnection(home, name),
    updateConnection: (name, patch, version) => updateConnection(home, name, patch, preconditionOf(version)),
    removeConnection: (name, options) => removeConnection(home, name, { force: options.force }, preconditionOf(options)),
    verifyConnection: (name, options) => verifyConnection(home, name, options),

    createExport: (input) => createExport(home, input),
    updateExport: (name, patch, version) => updateExport(home, name, patch, preconditionOf(version)),
    listExports: () => listExports(home),
    showExport: (name) => showExport(home, name),
    removeExport: (name, version) => removeExport(home, name, preconditionOf(version)),
    exportManifest: (name) => exportManifest(home, name),
    runExport: async (name, watch: RunWatch, options) => summarizeRun(home, await runExport(home, name, watch.observer, watch.signal, 'manual', options)),
    dryRunExport: (name, options) => dryRunExport(home, name, options),
    // Without a server nobody would execute a queued run: this process runs it, so it cannot leave.
    queueExport: async () => {
      throw new ValidationError('`--detach` needs a server to execute the run: start `outflow serve` for this home (or set OUTFLOW_URL), or run without --detach.');
    },

    listRuns: (options) => listRunItems(home, options),
    showRun: (id) => showRun(home, id),
    runRejections: (id) => rejectionsCsv(home, id),
    resumeRun: async (id, watch) => summarizeRun(home, await resumeRun(home, id, watch.observer, watch.signal)),
    // Without a server, the run executes in the process that started it; only that process can stop it.
    // In a scale-out deployment the run executes in a worker, which the queue in Redis can reach.
    cancelRun: async (id) => {
      // BullMQ loads only here, not with every command.
      const { BullRunQueue, queueSettings } = await import('../queue/bull.ts');
      const settings = queueSettings();
      if (!settings) await cancelRun(home, id, () => false);
      else {
        const queue = new BullRunQueue(home, settings, { poll: false });
        try {
          await cancelRun(home, id, (runId, status) => queue.cancel(runId, status));
        } finally {
          await queue.stopAll();
        }
      }
      return showRun(home, id);
    },
    followRun: async (id, watch) => {
      const warned = new Set<string>();
      for (;;) {
        // A run whose process died is marked interrupted, so following it ends.
        await reapStaleRuns(home, STALE_AFTER_MS, id);
        const run = await getRun(home.db, id);
        watch.observer.onProgress?.({ rowsDone: run.rowsDone, rowsTotal: run.rowsTotal });
        for (const w of run.warnings) if (!warned.has(w) && warned.add(w)) watch.observer.onWarning?.(w);
        if (run.status !== 'queued' && run.status !== 'running') return summarizeRun(home, run);
        if (watch.signal.aborted) return summarizeRun(home, run);
        await sleep(FOLLOW_POLL_MS, watch.signal).catch(() => {});
      }
    },

    loadEntity: async (name, file, options) => entityView(await loadEntity(home, name, file, options)),
    listEntities: async () => (await listEntities(home)).map(entityView),
    attachEntity: async (name, options) => entityView(await attachEntity(home, name, options)),
    createSegment: async (input) => segmentView(home, await createSegment(home, input)),
    listSegments: () => listSegmentViews(home),
    updateSegment: async (name, patch) => segmentView(home, await updateSegment(home, name, patch)),
    refreshSegments: (name) => refreshSegments(home, name),
    previewSegment: (input) => previewSegment(home, input),
    removeSegment: async (name) => {
      await removeSegment(home, name);
      return { removed: name };
    },

    showNotify: () => showHomeNotify(home),
    setNotify: (input) => setHomeNotify(home, input),
    removeNotify: () => removeHomeNotify(home),

    listAudit: (query) => listAuditEntries(home, query),

    showSchedule: () => showSchedule(home),
    status: () => showStatusWithoutServer(home),
    setSchedule: (input) => setSchedule(home, input),
    turnScheduleOff: () => turnScheduleOff(home),
    // Without a server, the runs execute here, one after another, as the scheduled refresh always did.
    refresh: async (watch) => {
      const result = await refreshAll(home, (run) => executeRun(home, run.id, home.actor, watch.observer, watch.signal), watch.signal);
      return { segments: result.segments, runs: await Promise.all(result.runs.map(async (run) => summarizeRun(home, await getRun(home.db, run.id)))) };
    },
    setExportSchedule: (name, schedule) => setExportSchedule(home, name, schedule),
    pauseExport: (name) => pauseExport(home, name),
    resumeExport: (name) => resumeExport(home, name),
    createUser: (input) => createUser(home, input),
    listUsers: () => listUsers(home),
    removeUser: (name) => removeUser(home, name),
    setRole: (name, role) => setRole(home, name, role),
    resetPassword: (name) => resetPassword(home, name),
    unlockSignIns: (target) => unlockSignIns(home, target),
    createToken: (input) => createToken(home, input),
    listTokens: () => listTokens(home),
    revokeToken: (idOrName) => revokeToken(home, idOrName),
    exportConfig: () => exportConfig(home),
    planConfig: (r) => planConfig(home, { text: r.document, file: r.file, resolve: mapResolver(r.references), prune: r.prune }),
    applyConfig: (r) => applyConfig(home, { text: r.document, file: r.file, resolve: mapResolver(r.references), prune: r.prune }),
    backup: (input) => backupHome(home, input),
    close: () => home.close(),
  };
}

/** `--if-match` as the use cases take it: the one ETag given (or `*`), or no condition. */
function preconditionOf(version: AtVersion | undefined): Precondition | undefined {
  if (!version?.ifMatch) return undefined;
  return { ifMatch: version.ifMatch === '*' ? '*' : [version.ifMatch] };
}
