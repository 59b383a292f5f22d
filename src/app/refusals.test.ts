import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import { PermissionError } from '../domain/errors.ts';
import type { Actor } from '../domain/model.ts';
import { listAuditEntries } from './audit.ts';
import { openHome, type Home } from './home.ts';
import { removeHomeNotify } from './notify.ts';
import { REFUSAL_COALESCE_MS } from './refusals.ts';

let dir: string;
let home: Home;
let clock: Date;

beforeEach(async () => {
  dir = tempDir('refusals');
  clock = new Date('2026-12-06T10:00:00.000Z');
  const opened = await openHome({ dir, env: {}, actor: { name: 'owner', role: 'admin' } });
  home = { ...opened, now: () => clock };
});
afterEach(async () => {
  await home.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const as = (actor: Actor): Home => ({ ...home, actor: { ...actor, via: 'api', address: '198.51.100.4' } });

describe('refused writes in the audit log', () => {
  it('records who was refused what and why, once per actor, action and target within the window, then with the repeats counted', async () => {
    const cy = as({ name: 'cy', role: 'contributor' });
    for (let i = 0; i < 5; i++) {
      await expect(removeHomeNotify(cy)).rejects.toBeInstanceOf(PermissionError);
      clock = new Date(clock.getTime() + 1000);
    }
    await expect(removeHomeNotify(as({ name: 'vi', role: 'viewer' }))).rejects.toBeInstanceOf(PermissionError);
    let denied = (await listAuditEntries(home, { action: 'notify.off' })).reverse();
    expect(denied).toEqual([
      expect.objectContaining({ actor: 'cy', role: 'contributor', via: 'api', address: '198.51.100.4', action: 'notify.off', targetType: 'notify', outcome: 'denied', details: { reason: 'Only administrators may turn the alert webhook off. Ask an administrator.' } }),
      expect.objectContaining({ actor: 'vi', outcome: 'denied' }),
    ]);

    clock = new Date(clock.getTime() + REFUSAL_COALESCE_MS);
    await expect(removeHomeNotify(cy)).rejects.toBeInstanceOf(PermissionError);
    denied = await listAuditEntries(home, { action: 'notify.off', actor: 'cy' });
    expect(denied).toHaveLength(2);
    expect(denied[0]!.details).toEqual({ reason: expect.any(String), repeats: 4, repeatsSince: '2026-12-06T10:00:00.000Z' });
    // What is allowed is recorded as before, as done.
    await removeHomeNotify(home);
    expect((await listAuditEntries(home, { action: 'notify.off', actor: 'owner' }))[0]).toMatchObject({ outcome: 'ok' });
  });
});
