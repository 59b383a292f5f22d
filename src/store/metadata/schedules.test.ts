import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataBackends } from '../../../test/support/postgres.ts';
import type { MetadataStore } from './db.ts';
import { createExport, removeExport } from './exports.ts';
import { claimSlot, getSchedule, HOME_SCHEDULE, listSchedules, saveSchedule } from './schedules.ts';

const backends = await metadataBackends('outflow_schedules_test');

describe.each(backends)('schedules on %s', (_name, open, available) => {
  let store: MetadataStore;
  beforeAll(async () => {
    if (available) store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });
  const test = available ? it : it.skip;

  test('keeps fields a change leaves out, and lets one claimant take a slot', async () => {
    const at = '2026-11-02T00:00:00.000Z';
    await saveSchedule(store.db, HOME_SCHEDULE, { crons: ['0 6,18 * * 1-5'], timeZone: 'Europe/Paris', days: 'mon-fri', times: ['06:00', '18:00'], lastSlot: at }, 'ada', at);
    await saveSchedule(store.db, HOME_SCHEDULE, { pausedAt: null }, 'bob', '2026-11-02T01:00:00.000Z');
    expect(await getSchedule(store.db, HOME_SCHEDULE)).toMatchObject({ crons: ['0 6,18 * * 1-5'], timeZone: 'Europe/Paris', times: ['06:00', '18:00'], lastSlot: at, updatedBy: 'bob' });

    const slot = '2026-11-02T05:00:00.000Z';
    // Two servers read the same last slot; only the first claim wins, so the slot fires once.
    const claims = await Promise.all([claimSlot(store.db, HOME_SCHEDULE, at, slot), claimSlot(store.db, HOME_SCHEDULE, at, slot)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await getSchedule(store.db, HOME_SCHEDULE))!.lastSlot).toBe(slot);
    expect(await claimSlot(store.db, HOME_SCHEDULE, at, '2026-11-02T17:00:00.000Z')).toBe(false);
  });

  test("removes an export's schedule and pause state with the export", async () => {
    const exp = await createExport(store.db, { name: 'nightly', connectionId: 'con_x', sourceKind: 'segments', sources: ['gold'], config: {}, createdBy: 'ada' });
    await saveSchedule(store.db, exp.id, { pausedAt: '2026-11-02T00:00:00.000Z', pausedBy: 'ada' }, 'ada', '2026-11-02T00:00:00.000Z');
    expect((await listSchedules(store.db)).map((s) => s.owner)).toContain(exp.id);
    await removeExport(store.db, exp.id);
    expect(await getSchedule(store.db, exp.id)).toBeNull();
  });
});
