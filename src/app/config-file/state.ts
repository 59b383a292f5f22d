import { stringify } from 'yaml';
import { listConnections, readConnectionSecrets } from '../../store/metadata/connections.ts';
import { listExports } from '../../store/metadata/exports.ts';
import { getNotify } from '../../store/metadata/notify.ts';
import { HOME_SCHEDULE, listSchedules, type ScheduleRecord } from '../../store/metadata/schedules.ts';
import { listSegments } from '../../store/metadata/segments.ts';
import type { Connection, Export, Segment } from '../../domain/model.ts';
import type { EntityInfo } from '../../store/profile/profile-store.ts';
import type { Home } from '../home.ts';
import type { ConfigDocument } from './document.ts';

/** What a home holds now, as the planner compares it with a file; secrets decrypted, never shown. */
export interface HomeState {
  entities: EntityInfo[];
  segments: Segment[];
  connections: Array<Connection & { secrets: Record<string, string> }>;
  exports: Array<Export & { schedule: ScheduleRecord | null; notifyUrl: string | null }>;
  schedule: ScheduleRecord | null;
  notify: { url: string; on: unknown[] } | null;
}

export async function readHomeState(home: Home): Promise<HomeState> {
  const schedules = await listSchedules(home.db);
  const connections = await listConnections(home.db, home.box);
  const exportsWithState = [];
  for (const exp of await listExports(home.db)) {
    const notify = exp.config.notify === undefined ? null : await getNotify(home.db, home.box, `export:${exp.id}`);
    exportsWithState.push({ ...exp, schedule: schedules.find((s) => s.owner === exp.id) ?? null, notifyUrl: notify?.url ?? null });
  }
  const homeNotify = await getNotify(home.db, home.box, 'home');
  return {
    entities: await home.profiles.listEntities(),
    segments: await listSegments(home.db),
    connections: await Promise.all(connections.map(async (c) => ({ ...c, secrets: await readConnectionSecrets(home.db, home.box, c.id) }))),
    exports: exportsWithState,
    schedule: schedules.find((s) => s.owner === HOME_SCHEDULE && s.crons && s.crons.length > 0) ?? null,
    notify: homeNotify ? { url: homeNotify.url, on: homeNotify.on } : null,
  };
}

/**
 * The environment variable `config export` names for a secret: `OUTFLOW_<CONNECTION>_<SETTING>`, upper case,
 * anything but letters and digits as `_` (`Iterable EU` / `apiKey` → `OUTFLOW_ITERABLE_EU_API_KEY`).
 */
export function secretVariable(...parts: string[]): string {
  const words = parts.map((part) =>
    part
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/[^A-Za-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .toUpperCase(),
  );
  return ['OUTFLOW', ...words.filter(Boolean)].join('_');
}

export function scheduleEntry(record: ScheduleRecord): NonNullable<ConfigDocument['schedule']> {
  if (record.days && record.times) return { days: record.days, times: record.times, ...(record.timeZone ? { timeZone: record.timeZone } : {}) };
  return { cron: record.crons![0]!, ...(record.timeZone ? { timeZone: record.timeZone } : {}) };
}

/** The home's configuration as a file's document: secrets replaced by `${env:…}` references. */
export function stateToDocument(state: HomeState): { document: ConfigDocument; variables: string[] } {
  const variables: string[] = [];
  const reference = (...parts: string[]) => {
    const name = secretVariable(...parts);
    variables.push(name);
    return `\${env:${name}}`;
  };
  const byId = new Map(state.connections.map((c) => [c.id, c]));
  const document: ConfigDocument = {
    version: 1,
    ...(state.entities.some((e) => e.attached) ? { entities: state.entities.filter((e) => e.attached).map((e) => ({ name: e.name, table: e.attached!, key: e.key })) } : {}),
    segments: state.segments.map((s) => ({ name: s.name, entity: s.entity, where: s.filter })),
    connections: state.connections.map((c) => ({
      name: c.name,
      type: c.type,
      usableBy: c.usableBy,
      // Consent was recorded when the connection was made (by c.consent.acceptedBy); an apply records it again
      // for whoever applies the file, which must say so.
      acceptPrivacyTerms: true,
      config: { ...c.config, ...Object.fromEntries(c.secretKeys.map((key) => [key, reference(c.name, key)])) },
    })),
    exports: state.exports.map((e) => {
      const { notify, ...config } = e.config;
      return {
        name: e.name,
        connection: byId.get(e.connectionId)?.name ?? '(removed)',
        ...(e.sourceKind === 'segments' ? { segments: e.sources } : { entities: e.sources }),
        config: notify && typeof notify === 'object' ? { ...config, notify: { ...(notify as object), url: reference(e.name, 'notify', 'url') } } : config,
        ...(e.schedule?.crons?.length ? { schedule: { cron: e.schedule.crons[0]!, ...(e.schedule.timeZone ? { timeZone: e.schedule.timeZone } : {}) } } : {}),
        ...(e.schedule?.pausedAt ? { paused: true } : {}),
      };
    }),
    schedule: state.schedule ? scheduleEntry(state.schedule) : 'off',
    notify: state.notify ? { url: reference('notify', 'url'), on: state.notify.on as Array<string | Record<string, number>> } : 'off',
  };
  return { document, variables };
}

export function documentToYaml(document: ConfigDocument, variables: string[]): string {
  const header = [
    '# yaml-language-server: $schema=./outflow.schema.json',
    '# Outflow configuration: `outflow plan --file <this file>` shows what applying it would change, `outflow apply` makes it so.',
    ...(variables.length > 0
      ? ['# Secrets are never written here: set these environment variables (or use ${file:<path>}) before planning:', ...variables.map((v) => `#   ${v}`)]
      : []),
  ];
  return `${header.join('\n')}\n${stringify(document, { lineWidth: 0 })}`;
}
