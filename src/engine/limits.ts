import type { RecordExportDefinition } from '../destinations/kit/define.ts';
import { ConfigError } from '../domain/errors.ts';
import { listExports } from '../store/metadata/exports.ts';
import { listSegments } from '../store/metadata/segments.ts';
import type { Db } from '../store/metadata/db.ts';

const fmt = (n: number) => n.toLocaleString('en-US');

/** The export being checked: `id` is absent while it is being created. */
export interface LimitSubject {
  id?: string;
  name: string;
  connectionId: string;
}

/**
 * Refuses an export over the destination's limits: profiles per export, and profiles across all exports of
 * the connection (Autopilot's allowance, Iterable's optional cap). Runs call it with the members they are
 * about to send, saves with the counts of the segments' last refresh, so both refuse with the same message.
 * Returns the warnings to show when the connection is close to its allowance.
 */
export async function checkRecordLimits(
  db: Db,
  exp: LimitSubject,
  vendor: string,
  kind: RecordExportDefinition<unknown>,
  connection: Record<string, unknown>,
  segments: Array<{ name: string; members: number }>,
): Promise<string[]> {
  const total = segments.reduce((sum, s) => sum + s.members, 0);
  const perExport = kind.limits.maxProfilesPerExport;
  if (perExport !== undefined && total > perExport) {
    const sizes = segments.map((s) => `"${s.name}" has ${fmt(s.members)}`).join(', ');
    throw new ConfigError(
      'limit_exceeded',
      `Export "${exp.name}" is over ${vendor}'s limit of ${fmt(perExport)} profiles per export: segment ${sizes} (${fmt(total)} in all). Narrow the segment or split it across several exports; nothing was sent.`,
    );
  }
  const limits = kind.connectionLimits?.(connection);
  if (!limits?.maxProfiles && !limits?.warnProfiles) return [];

  const segmentSizes = new Map((await listSegments(db)).map((s) => [s.name, s.members ?? 0]));
  const others = (await listExports(db, { connectionId: exp.connectionId })).filter((e) => e.id !== exp.id && e.sourceKind === 'segments');
  const otherTotal = others.reduce((sum, e) => sum + e.sources.reduce((s, name) => s + (segmentSizes.get(name) ?? 0), 0), 0);
  const combined = total + otherTotal;
  const detail = `this export: ${fmt(total)}${others.length ? `; other exports of the connection: ${fmt(otherTotal)}` : ''}`;
  if (limits.maxProfiles !== undefined && combined > limits.maxProfiles) {
    throw new ConfigError(
      'limit_exceeded',
      `The connection's exports would hold ${fmt(combined)} profiles (${detail}); ${vendor} allows at most ${fmt(limits.maxProfiles)} per connection. Narrow the segments or remove an export; nothing was sent.`,
    );
  }
  if (limits.warnProfiles !== undefined && combined >= limits.warnProfiles) {
    return [`The connection's exports hold ${fmt(combined)} profiles (${detail}), close to ${vendor}'s limit of ${fmt(limits.maxProfiles ?? limits.warnProfiles)}.`];
  }
  return [];
}
