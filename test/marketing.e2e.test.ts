import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome } from '../src/app/home.ts';
import { resumeRun, runExport } from '../src/app/exports.ts';
import { sha256Hex } from '../src/destinations/kit/fields.ts';
import { startAutopilotFake, type AutopilotFake } from '../src/destinations/autopilot/fake-autopilot.ts';
import { FAKE_API_KEY, FAKE_CLIENT_ID, FAKE_LIST_ID, startCampaignMonitorFake, type CampaignMonitorFake } from '../src/destinations/campaign-monitor/fake-campaign-monitor.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake, type MicrosoftAdvertisingFake } from '../src/destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import { outflow, tempDir, writeJson } from './support/cli.ts';

const ITERABLE_KEY = 'iterable-e2e-key-7f3a9c';
const OTHER_LIST_ID = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';

let home: string;
let work: string;
let iterable: IterableFake;
let autopilot: AutopilotFake;
let microsoft: MicrosoftAdvertisingFake;
let campaignMonitor: CampaignMonitorFake;

/** 1,200 customers; 3 have no usable e-mail (ids 5, 9, 13); segment `gold` holds the 400 with tier gold. */
beforeAll(async () => {
  home = tempDir('mkt-home');
  work = tempDir('mkt-work');
  const lines = ['profile_id,email,first_name,last_name,tier,plan'];
  for (let i = 1; i <= 1200; i++) {
    const email = i === 5 ? '' : i === 9 ? 'nobody-at-example' : i === 13 ? 'x@' : ` Member${i}@Example.com`;
    lines.push(`${i},${email},First${i},Last${i},${['gold', 'silver', 'bronze'][i % 3]},${i % 2 ? 'pro' : 'free'}`);
  }
  fs.writeFileSync(path.join(work, 'customers.csv'), lines.join('\n') + '\n');
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }] });
  autopilot = await startAutopilotFake({ requestsPerSecond: null });
  microsoft = await startMicrosoftAdvertisingFake();
  campaignMonitor = await startCampaignMonitorFake({
    rateLimit: null,
    clients: [
      {
        clientId: FAKE_CLIENT_ID,
        name: 'Outflow Test Client',
        lists: [
          { listId: FAKE_LIST_ID, title: 'Newsletter', customFields: ['website', 'plan'] },
          { listId: OTHER_LIST_ID, title: 'Offers' },
        ],
      },
    ],
  } as never);
  expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  expect((await outflow(home, 'segment', 'create', 'gold', '--where', "tier = 'gold'")).code).toBe(0);
  expect((await outflow(home, 'segment', 'refresh', '--json')).json()).toEqual([{ name: 'gold', members: 400 }]);
});

afterAll(async () => {
  await Promise.all([iterable?.close(), autopilot?.close(), microsoft?.close(), campaignMonitor?.close()]);
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

async function connect(type: string, name: string, config: Record<string, unknown>): Promise<void> {
  const result = await outflow(home, 'connection', 'create', '--type', type, '--name', name, '--config', writeJson(work, `${name}.json`, config), '--accept-privacy-terms');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

describe('marketing exports through the CLI', () => {
  it('refuses a connection without the privacy consent and saves nothing', async () => {
    const config = writeJson(work, 'no-consent.json', { apiKey: ITERABLE_KEY, baseUrl: iterable.url });
    const result = await outflow(home, 'connection', 'create', '--type', 'iterable', '--name', 'no-consent', '--config', config);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^error: Nothing was saved: .*--accept-privacy-terms/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect((await outflow(home, 'connection', 'list', '--json')).json().map((c: { name: string }) => c.name)).not.toContain('no-consent');
  });

  it('sends a segment to an Iterable list named after it, with per-record rejections in the summary', async () => {
    await connect('iterable', 'iterable-prod', { apiKey: ITERABLE_KEY, baseUrl: iterable.url });
    const shown = await outflow(home, 'connection', 'show', 'iterable-prod', '--json');
    expect(shown.json().config.apiKey).toBe('set');
    expect(shown.stdout).not.toContain(ITERABLE_KEY);
    expect((await outflow(home, 'connection', 'verify', 'iterable-prod', '--json')).json()).toMatchObject({ ok: true });

    const entities = await outflow(home, 'export', 'create', '--name', 'bad', '--connection', 'iterable-prod', '--entities', 'Customer');
    expect(entities.stderr).toMatch(/segments only/);
    const noEmail = await outflow(home, 'export', 'create', '--name', 'bad', '--connection', 'iterable-prod', '--segments', 'gold', '--config', writeJson(work, 'x.json', { mapping: { firstName: 'first_name' } }));
    expect(noEmail.stderr).toMatch(/needs the E-?mail.* field mapped/i);
    const wrongColumn = await outflow(home, 'export', 'create', '--name', 'bad', '--connection', 'iterable-prod', '--segments', 'gold', '--config', writeJson(work, 'y.json', { mapping: { email: 'mail' } }));
    expect(wrongColumn.stderr).toMatch(/no such column.*profile_id, email/);

    const config = writeJson(work, 'gold-iterable.json', { mapping: { email: 'email', plan: 'plan' }, syncMode: 'mirror' });
    expect((await outflow(home, 'export', 'create', '--name', 'gold-to-iterable', '--connection', 'iterable-prod', '--segments', 'gold', '--config', config)).code).toBe(0);
    expect(iterable.lists(ITERABLE_KEY).map((l) => l.name)).not.toContain('gold');

    iterable.rejectEmails(['member30@example.com']);
    const run = await outflow(home, 'export', 'run', 'gold-to-iterable', '--json');
    iterable.rejectEmails([]);
    expect(run.code).toBe(0);
    const summary = run.json();
    expect(summary).toMatchObject({ status: 'succeeded', sent: 398, rejected: 2, notAttempted: 0, entities: [{ name: 'gold', rows: 400, sent: 398, rejected: 2 }] });
    expect(summary.rejections.map((r: { key: string; code: string }) => [r.key, r.code])).toEqual([
      ['9', 'invalid_email'],
      ['30', 'invalid_email'],
    ]);
    expect(JSON.stringify(summary)).not.toContain('member30@');
    const list = iterable.lists(ITERABLE_KEY).find((l) => l.name === 'gold')!;
    expect(list.members).toHaveLength(398);
    expect(iterable.user('member3@example.com')?.dataFields).toEqual({ plan: 'pro' });
  });

  it('removes members who left the segment in mirror mode, without unsubscribing them from the channel', async () => {
    expect((await outflow(home, 'entity', 'load', 'Customer', writeTrimmed())).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'gold', '--json')).json()).toEqual([{ name: 'gold', members: 200 }]);
    const summary = (await outflow(home, 'export', 'run', 'gold-to-iterable', '--json')).json();
    expect(summary).toMatchObject({ status: 'succeeded', entities: [{ name: 'gold', rows: 200, removed: 198 }] });
    const unsubscribes = iterable.requests.filter((r) => r.path === '/api/lists/unsubscribe');
    expect(unsubscribes.length).toBeGreaterThan(0);
    for (const request of unsubscribes) expect(JSON.parse(request.body).channelUnsubscribe).toBe(false);
    const list = iterable.lists(ITERABLE_KEY).find((l) => l.name === 'gold')!;
    expect(list.members).toHaveLength(200);
    expect(iterable.user('member1200@example.com')?.unsubscribedChannelIds).toEqual([]);
  });

  it('uploads SHA-256 hashes to a Microsoft Customer Match audience named after the segment, never plain e-mails', async () => {
    await connect('microsoft-advertising', 'msads', {
      clientId: FAKE_DEFAULTS.clientId,
      clientSecret: FAKE_DEFAULTS.clientSecret,
      refreshToken: FAKE_DEFAULTS.refreshToken,
      developerToken: FAKE_DEFAULTS.developerToken,
      baseUrl: microsoft.baseUrl,
      authorityUrl: microsoft.authorityUrl,
      requestsPerSecond: 50,
    });
    const config = writeJson(work, 'ms.json', { mapping: { email: 'email' }, customerId: FAKE_DEFAULTS.customerId, accountId: FAKE_DEFAULTS.accountId });
    expect((await outflow(home, 'export', 'create', '--name', 'gold-to-ms', '--connection', 'msads', '--segments', 'gold', '--config', config)).code).toBe(0);
    const summary = (await outflow(home, 'export', 'run', 'gold-to-ms', '--json')).json();
    expect(summary).toMatchObject({ status: 'succeeded', sent: 200 });
    const audience = microsoft.audiences().find((a) => a.name === 'gold')!;
    const members = microsoft.members(audience.id);
    expect(members).toHaveLength(200);
    expect(members).toContain(sha256Hex('member603@example.com'));
    expect(members.every((m) => /^[0-9a-f]{64}$/.test(m))).toBe(true);
  });

  it('refuses an export over the connection limit before sending anything, naming the sizes and the limit', async () => {
    await connect('autopilot', 'autopilot-small', { apiKey: autopilot.apiKey, baseUrl: autopilot.url, maxProfiles: 150, warnProfiles: 100 });
    const config = writeJson(work, 'ap.json', { mapping: { email: 'email', firstName: 'first_name', lastName: 'last_name' } });
    // Known at save time (the segment has been refreshed): refused then, with the message a run gives.
    const refused = await outflow(home, 'export', 'create', '--name', 'gold-to-autopilot', '--connection', 'autopilot-small', '--segments', 'gold', '--config', config);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: The connection's exports would hold 200 profiles \(this export: 200\); Autopilot \(Journeys\) allows at most 150 per connection\./);
    expect((await outflow(home, 'export', 'list', '--json')).json().map((e: { name: string }) => e.name)).not.toContain('gold-to-autopilot');

    // A segment that has never been refreshed has no count yet: the run is the one that refuses it.
    expect((await outflow(home, 'segment', 'create', 'gold-later', '--where', "tier = 'gold'")).code).toBe(0);
    expect((await outflow(home, 'export', 'create', '--name', 'gold-to-autopilot', '--connection', 'autopilot-small', '--segments', 'gold-later', '--config', config)).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'gold-later', '--json')).json()).toEqual([{ name: 'gold-later', members: 200 }]);
    const before = autopilot.requests.length;
    const run = await outflow(home, 'export', 'run', 'gold-to-autopilot', '--json');
    expect(run.code).toBe(1);
    const summary = run.json();
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'limit_exceeded' });
    expect(summary.error.message).toBe("The connection's exports would hold 200 profiles (this export: 200); Autopilot (Journeys) allows at most 150 per connection. Narrow the segments or remove an export; nothing was sent.");
    expect(summary).toMatchObject({ sent: 0, notAttempted: 200 });
    expect(autopilot.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('warns on the run and still fills the Autopilot list when the bulk upload ignores _autopilot_list', async () => {
    const ignoring = await startAutopilotFake({ requestsPerSecond: null, bulkListKey: 'ignore' });
    try {
      await connect('autopilot', 'autopilot-ignoring', { apiKey: ignoring.apiKey, baseUrl: ignoring.url, requestsPerSecond: 100 });
      const config = writeJson(work, 'ap-ignoring.json', { mapping: { email: 'email' } });
      expect((await outflow(home, 'export', 'create', '--name', 'gold-to-ap-ignoring', '--connection', 'autopilot-ignoring', '--segments', 'gold', '--config', config)).code).toBe(0);
      const run = await outflow(home, 'export', 'run', 'gold-to-ap-ignoring', '--json');
      expect(run.code).toBe(0);
      const summary = run.json();
      expect(summary.status).toBe('succeeded');
      expect(summary.sent).toBeGreaterThan(100);
      expect(summary.sent + summary.rejected).toBe(summary.rows);
      expect(summary.warnings).toEqual([expect.stringContaining('ignored the _autopilot_list key')]);
      const list = [...ignoring.lists.values()].find((l) => l.title === 'gold')!;
      expect(ignoring.membersOf(list.list_id)).toHaveLength(summary.sent);
      expect((await outflow(home, 'run', 'show', summary.id, '--json')).json().warnings).toEqual(summary.warnings);
    } finally {
      await ignoring.close();
    }
  });

  it('checks a Campaign Monitor list id when the export is saved', async () => {
    await connect('campaign-monitor', 'cm', { apiKey: FAKE_API_KEY, baseUrl: campaignMonitor.url });
    const unknown = await outflow(home, 'export', 'create', '--name', 'gold-to-cm', '--connection', 'cm', '--segments', 'gold', '--config', writeJson(work, 'cm-bad.json', { mapping: { email: 'email' }, listId: 'no-such-list' }));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no-such-list/);
    const good = writeJson(work, 'cm.json', { mapping: { email: 'email', name: 'first_name' }, listId: FAKE_LIST_ID });
    expect((await outflow(home, 'export', 'create', '--name', 'gold-to-cm', '--connection', 'cm', '--segments', 'gold', '--config', good)).code).toBe(0);
    expect((await outflow(home, 'export', 'run', 'gold-to-cm', '--json')).json()).toMatchObject({ status: 'succeeded', sent: 200 });
  });

  it('requires userId in the mapping when the Iterable connection says the project identifies users by userId', async () => {
    await connect('iterable', 'iterable-by-user-id', { apiKey: ITERABLE_KEY, baseUrl: iterable.url, projectType: 'userId' });
    const create = (config: string) =>
      outflow(home, 'export', 'create', '--name', 'gold-by-user-id', '--connection', 'iterable-by-user-id', '--segments', 'gold', '--config', config);
    const missing = await create(writeJson(work, 'by-user-id-bad.json', { mapping: { email: 'email' } }));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: The Iterable project of this connection identifies users by userId .*"userId": "<column>"/);
    expect((await create(writeJson(work, 'by-user-id.json', { mapping: { email: 'email', userId: 'profile_id' } }))).code).toBe(0);
  });

  it('refuses to save a Campaign Monitor export that maps a custom field the list does not define', async () => {
    const config = writeJson(work, 'cm-colour.json', { mapping: { email: 'email', favouriteColour: 'tier', plan: 'plan' }, listId: FAKE_LIST_ID });
    const result = await outflow(home, 'export', 'create', '--name', 'cm-colour', '--connection', 'cm', '--segments', 'gold', '--config', config);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: The mapping sends custom field `favouriteColour` to list `\w+`, .*The list's custom fields: `website`, `plan`\./),
    ]);
    expect((await outflow(home, 'export', 'list', '--json')).json().map((e: { name: string }) => e.name)).not.toContain('cm-colour');
  });

  it('warns when a second export of a connection writes to the same list, keeping --json a single JSON value', async () => {
    const config = writeJson(work, 'cm-again.json', { mapping: { email: 'email', plan: 'plan' }, listId: FAKE_LIST_ID });
    const created = await outflow(home, 'export', 'create', '--name', 'gold-to-cm-again', '--connection', 'cm', '--segments', 'gold', '--config', config, '--json');
    expect(created.code).toBe(0);
    const warning = `Export "gold-to-cm" on connection "cm" already writes to list \`${FAKE_LIST_ID}\`: both exports' members end up there, and one in mirror mode removes members who left its own segments even while the other export still sends them.`;
    expect(created.json()).toMatchObject({ name: 'gold-to-cm-again', warnings: [warning] });
    expect(created.stderr).toBe(`warning: ${warning}\n`);

    // Lists named after segments: the same segment on the same connection is the same list; on another connection it is not.
    const iterableAgain = await outflow(home, 'export', 'create', '--name', 'gold-to-iterable-again', '--connection', 'iterable-prod', '--segments', 'gold', '--config', writeJson(work, 'it-again.json', { mapping: { email: 'email' } }));
    expect(iterableAgain.code).toBe(0);
    expect(iterableAgain.stderr).toBe('warning: Export "gold-to-iterable" on connection "iterable-prod" already writes to list "gold": both exports\' members end up there, and one in mirror mode removes members who left its own segments even while the other export still sends them.\n');
    expect(iterableAgain.stdout).toMatch(/^Saved export "gold-to-iterable-again"/);
    expect((await outflow(home, 'export', 'remove', 'gold-to-iterable-again')).code).toBe(0);

    const msConfig = writeJson(work, 'ms-again.json', { mapping: { email: 'email' }, customerId: FAKE_DEFAULTS.customerId, accountId: FAKE_DEFAULTS.accountId });
    const msAgain = await outflow(home, 'export', 'create', '--name', 'gold-to-ms-again', '--connection', 'msads', '--segments', 'gold', '--config', msConfig, '--json');
    expect(msAgain.json().warnings).toEqual([expect.stringContaining(`Export "gold-to-ms" on connection "msads" already writes to customer list "gold" in account ${FAKE_DEFAULTS.accountId}:`)]);
    expect((await outflow(home, 'export', 'remove', 'gold-to-ms-again')).code).toBe(0);

    const alone = await outflow(home, 'export', 'create', '--name', 'gold-to-cm-offers', '--connection', 'cm', '--segments', 'gold', '--config', writeJson(work, 'cm-other.json', { mapping: { email: 'email' }, listId: OTHER_LIST_ID }), '--json');
    expect(alone.json().warnings).toEqual([]);
    expect(alone.stderr).toBe('');
  });

  it('warns the run when a custom field the export was saved with is deleted from the list afterwards', async () => {
    const config = writeJson(work, 'cm-plan.json', { mapping: { email: 'email', plan: 'plan' }, listId: FAKE_LIST_ID });
    expect((await outflow(home, 'export', 'create', '--name', 'gold-to-cm-plan', '--connection', 'cm', '--segments', 'gold', '--config', config)).code).toBe(0);
    campaignMonitor.removeCustomField(FAKE_LIST_ID, 'plan');
    const run = await outflow(home, 'export', 'run', 'gold-to-cm-plan', '--json');
    expect(run.code).toBe(0);
    const summary = run.json();
    expect(summary).toMatchObject({ status: 'succeeded', sent: 200 });
    expect(summary.warnings).toEqual([expect.stringMatching(/^Custom field `plan` is mapped, but list `\w+` in Campaign Monitor does not define it/)]);
    expect(run.stderr).toContain(`warning: ${summary.warnings[0]}`);
    expect((await outflow(home, 'run', 'show', summary.id, '--json')).json().warnings).toEqual(summary.warnings);
  });

  it('lets a contributor use only connections opened to contributors', async () => {
    process.env.OUTFLOW_ROLE = 'contributor';
    try {
      const create = await outflow(home, 'connection', 'create', '--type', 'iterable', '--name', 'sneaky', '--config', writeJson(work, 's.json', { apiKey: 'k' }), '--accept-privacy-terms');
      expect(create.code).toBe(5);
      expect(create.stderr).toMatch(/Only administrators may create connections/);
      const run = await outflow(home, 'export', 'run', 'gold-to-iterable');
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/usable by administrators only/);
    } finally {
      delete process.env.OUTFLOW_ROLE;
    }
  });

  it('resumes a run that failed midway from its checkpoint, sending each member once', async () => {
    await connect('iterable', 'iterable-flaky', { apiKey: ITERABLE_KEY, baseUrl: iterable.url });
    expect((await outflow(home, 'segment', 'create', 'everyone', '--where', 'profile_id > 0')).code).toBe(0);
    await outflow(home, 'segment', 'refresh', 'everyone');
    await outflow(home, 'export', 'create', '--name', 'everyone-to-iterable', '--connection', 'iterable-flaky', '--segments', 'everyone', '--config', writeJson(work, 'e.json', { mapping: { email: 'email' } }));

    // The key is revoked for the second batch (the last members in key order, member1200 among them): its
    // subscribe call is refused, once. Picked by content, not by call order: Iterable's batches go up to three
    // at a time, and on a loaded machine the second batch's call can start before the first one's.
    let refused = false;
    const flaky: typeof fetch = async (input, init) => {
      if (!refused && String(input).includes('/api/lists/subscribe') && String(init?.body ?? '').toLowerCase().includes('member1200@example.com')) {
        refused = true;
        return new Response(JSON.stringify({ msg: 'Invalid API key', code: 'BadApiKey' }), { status: 401, headers: { 'content-type': 'application/json' } });
      }
      return fetch(input, init);
    };
    const outflowHome = await openHome({ dir: home, fetch: flaky });
    try {
      const failed = await runExport(outflowHome, 'everyone-to-iterable');
      expect(failed).toMatchObject({ status: 'failed', sent: 1000, error: { code: 'auth_failed' } });
      expect(failed.notAttempted).toBe(failed.rowsTotal! - 1000 - failed.rejected);
      const list = iterable.lists(ITERABLE_KEY).find((l) => l.name === 'everyone')!;
      expect(list.members).toHaveLength(1000);
      const subscribeBodies = iterable.requests.filter((r) => r.path === '/api/lists/subscribe').length;

      const resumed = await resumeRun(outflowHome, failed.id);
      expect(resumed).toMatchObject({ status: 'succeeded', resumedFrom: failed.id, sent: 1197, rejected: 3 });
      expect(iterable.lists(ITERABLE_KEY).find((l) => l.name === 'everyone')!.members).toHaveLength(1197);
      const sentAgain = iterable.requests.filter((r) => r.path === '/api/lists/subscribe').slice(subscribeBodies);
      const resentEmails = sentAgain.flatMap((r) => JSON.parse(r.body).subscribers.map((s: { email: string }) => s.email));
      expect(resentEmails).toHaveLength(197);
      expect(resentEmails).not.toContain('member1@example.com');
    } finally {
      await outflowHome.close();
    }
    const history = (await outflow(home, 'run', 'list', '--json', '--export', 'everyone-to-iterable')).json();
    expect(history.map((r: { status: string }) => r.status)).toEqual(['succeeded', 'failed']);
    // The last run of the chain reports every member once, in every view: its rejections are those of the
    // failed run it continues and its own, as its `rejected` counts them.
    const [last, first] = history as { id: string; rejected: number }[];
    expect(first!.rejected).toBeGreaterThan(0);
    expect(last!.rejected).toBeGreaterThanOrEqual(first!.rejected);
    const shown = (await outflow(home, 'run', 'show', last!.id, '--json')).json();
    expect(shown.rejectionsTotal).toBe(last!.rejected);
    expect(shown.rejections).toHaveLength(last!.rejected);
    const csv = (await outflow(home, 'run', 'rejections', last!.id)).stdout.trimEnd().split('\n');
    expect(csv).toHaveLength(1 + last!.rejected);
    expect(new Set(csv.slice(1)).size).toBe(last!.rejected);
    // The failed run keeps reporting its own.
    expect((await outflow(home, 'run', 'rejections', first!.id)).stdout.trimEnd().split('\n')).toHaveLength(1 + first!.rejected);
  });
});

/** The same customers, with tier gold kept only for ids 601-1200: half of `gold` leaves the segment. */
function writeTrimmed(): string {
  const file = path.join(work, 'customers.csv');
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  const trimmed = lines.map((line, i) => (i > 0 && i <= 600 ? line.replace(',gold,', ',silver,') : line));
  const out = path.join(work, 'customers-trimmed.csv');
  fs.writeFileSync(out, trimmed.join('\n') + '\n');
  return out;
}
