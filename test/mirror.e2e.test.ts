import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutopilotFake, type AutopilotFake } from '../src/destinations/autopilot/fake-autopilot.ts';
import { FAKE_API_KEY, FAKE_CLIENT_ID, FAKE_LIST_ID, startCampaignMonitorFake, type CampaignMonitorFake } from '../src/destinations/campaign-monitor/fake-campaign-monitor.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { sha256Hex } from '../src/destinations/kit/fields.ts';
import type { RecordedRequest } from '../src/destinations/kit/contract.case.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake, type MicrosoftAdvertisingFake } from '../src/destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import { outflow, tempDir, writeJson } from './support/cli.ts';

// Mirror sync against every marketing destination's fake: after the first run, a second run must send
// exactly the difference (joined, changed values, changed e-mail, left), an unchanged run nothing, and a
// list deleted and created again everyone.

const ITERABLE_KEY = 'iterable-mirror-key-51c2';
const NEW_CM_LIST = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

let home: string;
let work: string;
let iterable: IterableFake;
let autopilot: AutopilotFake;
let microsoft: MicrosoftAdvertisingFake;
let campaignMonitor: CampaignMonitorFake;

interface Profile {
  id: number;
  email: string;
  first: string;
  tier: string;
  plan: string;
}

/** Version 1: 20 gold members. */
const v1: Profile[] = Array.from({ length: 24 }, (_, i) => ({ id: i + 1, email: `member${i + 1}@example.com`, first: `First${i + 1}`, tier: i < 20 ? 'gold' : 'silver', plan: 'free' }));
/** Version 2: 3 and 4 left, 5's name and 6's plan changed, 7's e-mail changed, 21 and 22 joined. */
const v2: Profile[] = v1.map((p) => {
  if (p.id === 3 || p.id === 4) return { ...p, tier: 'silver' };
  if (p.id === 5) return { ...p, first: 'Renamed' };
  if (p.id === 6) return { ...p, plan: 'pro' };
  if (p.id === 7) return { ...p, email: 'new.address7@example.com' };
  if (p.id === 21 || p.id === 22) return { ...p, tier: 'gold' };
  return p;
});

function writeProfiles(name: string, profiles: Profile[]): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, ['profile_id,email,first_name,tier,plan', ...profiles.map((p) => `${p.id},${p.email},${p.first},${p.tier},${p.plan}`)].join('\n') + '\n');
  return file;
}

const goldEmails = (profiles: Profile[]) => profiles.filter((p) => p.tier === 'gold').map((p) => p.email).sort();

interface MirrorCase {
  id: string;
  type: string;
  connection: () => Record<string, unknown>;
  config: () => Record<string, unknown>;
  /** What the destination names a member by, from the e-mail address. */
  identity: (email: string) => string;
  /** Whether a changed name or plan must be sent again: Microsoft receives the e-mail hash only. */
  sendsValues: boolean;
  requests: () => RecordedRequest[];
  /** Members added (or updated) and removed by one request; null when the request carries no member. */
  members: (request: RecordedRequest) => { adds: string[]; removes: string[] } | null;
  /** Who is on the list now. */
  onList: () => string[];
  /** Deletes the list at the vendor; returns the export config change that points at its replacement, if any. */
  deleteList: () => Promise<Record<string, unknown> | null>;
}

const body = (r: RecordedRequest) => JSON.parse(r.body || '{}');

const CASES: MirrorCase[] = [
  {
    id: 'iterable',
    type: 'iterable',
    connection: () => ({ apiKey: ITERABLE_KEY, baseUrl: iterable.url }),
    config: () => ({ mapping: { email: 'email', firstName: 'first_name', plan: 'plan' }, syncMode: 'mirror' }),
    identity: (email) => email,
    sendsValues: true,
    requests: () => iterable.requests,
    members(r) {
      if (r.path === '/api/lists/subscribe') return { adds: body(r).subscribers.map((s: { email: string }) => s.email), removes: [] };
      if (r.path === '/api/lists/unsubscribe') return { adds: [], removes: body(r).subscribers.map((s: { email: string }) => s.email) };
      return null;
    },
    onList: () => iterable.lists(ITERABLE_KEY).find((l) => l.name === 'club')?.members ?? [],
    async deleteList() {
      const list = iterable.lists(ITERABLE_KEY).find((l) => l.name === 'club')!;
      const res = await fetch(`${iterable.url}/api/lists/${list.id}`, { method: 'DELETE', headers: { 'Api-Key': ITERABLE_KEY } });
      expect(res.status).toBe(200);
      return null;
    },
  },
  {
    id: 'campaign-monitor',
    type: 'campaign-monitor',
    connection: () => ({ apiKey: FAKE_API_KEY, baseUrl: campaignMonitor.url }),
    config: () => ({ mapping: { email: 'email', name: 'first_name', plan: 'plan' }, listId: FAKE_LIST_ID, syncMode: 'mirror' }),
    identity: (email) => email,
    sendsValues: true,
    requests: () => campaignMonitor.requests,
    members(r) {
      if (r.path.endsWith('/import.json')) return { adds: body(r).Subscribers.map((s: { EmailAddress: string }) => s.EmailAddress), removes: [] };
      if (r.path.endsWith('/unsubscribe.json')) return { adds: [], removes: [body(r).EmailAddress] };
      if (r.method === 'DELETE' && r.path.includes('/subscribers/')) return { adds: [], removes: [(r as { query?: Record<string, string> }).query?.email ?? ''] };
      return null;
    },
    onList: () => campaignMonitor.members(currentCmList, 'Active').map((m) => m.EmailAddress),
    async deleteList() {
      // A Campaign Monitor list created again has a new list id, which the export must be given.
      currentCmList = NEW_CM_LIST;
      return { listId: NEW_CM_LIST };
    },
  },
  {
    id: 'autopilot',
    type: 'autopilot',
    connection: () => ({ apiKey: autopilot.apiKey, baseUrl: autopilot.url }),
    config: () => ({ mapping: { email: 'email', firstName: 'first_name', plan: 'plan' }, syncMode: 'mirror' }),
    identity: (email) => email,
    sendsValues: true,
    requests: () => autopilot.requests,
    members(r) {
      if (r.method === 'POST' && r.path === '/v1/contacts') return { adds: body(r).contacts.map((c: { Email: string }) => c.Email), removes: [] };
      const single = /^\/v1\/list\/[^/]+\/contact\/([^/]+)$/.exec(r.path);
      if (single && r.method === 'DELETE') return { adds: [], removes: [decodeURIComponent(single[1]!)] };
      if (single && r.method === 'POST') return { adds: [decodeURIComponent(single[1]!)], removes: [] };
      return null;
    },
    onList: () => {
      const list = [...autopilot.lists.values()].find((l) => l.title === 'club');
      return list ? autopilot.membersOf(list.list_id) : [];
    },
    async deleteList() {
      const list = [...autopilot.lists.values()].find((l) => l.title === 'club')!;
      autopilot.lists.delete(list.list_id);
      return null;
    },
  },
  {
    id: 'microsoft-advertising',
    type: 'microsoft-advertising',
    connection: () => ({
      clientId: FAKE_DEFAULTS.clientId,
      clientSecret: FAKE_DEFAULTS.clientSecret,
      refreshToken: FAKE_DEFAULTS.refreshToken,
      developerToken: FAKE_DEFAULTS.developerToken,
      baseUrl: microsoft.baseUrl,
      authorityUrl: microsoft.authorityUrl,
      requestsPerSecond: 100,
    }),
    config: () => ({ mapping: { email: 'email' }, customerId: FAKE_DEFAULTS.customerId, accountId: FAKE_DEFAULTS.accountId, syncMode: 'mirror' }),
    identity: (email) => sha256Hex(email),
    // Customer Match has no update: a member is their hashed e-mail, so "changed" means a changed e-mail
    // (the old hash removed, the new one added); other columns are not sent and cannot change anything.
    sendsValues: false,
    requests: () => microsoft.requests,
    members(r) {
      if (!r.path.endsWith('/CustomerListUserData/Apply')) return null;
      const data = body(r).CustomerListUserData;
      return data.ActionType === 'Add' ? { adds: data.CustomerListItems, removes: [] } : { adds: [], removes: data.CustomerListItems };
    },
    onList: () => {
      const audience = microsoft.audiences().find((a) => a.name === 'club');
      return audience ? microsoft.members(audience.id) : [];
    },
    async deleteList() {
      microsoft.deleteAudience(microsoft.audiences().find((a) => a.name === 'club')!.id);
      return null;
    },
  },
];

let currentCmList = FAKE_LIST_ID;

beforeAll(async () => {
  home = tempDir('mirror-home');
  work = tempDir('mirror-work');
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }] });
  autopilot = await startAutopilotFake({ requestsPerSecond: null });
  microsoft = await startMicrosoftAdvertisingFake();
  campaignMonitor = await startCampaignMonitorFake({
    rateLimit: null,
    clients: [{ clientId: FAKE_CLIENT_ID, name: 'Mirror', lists: [{ listId: FAKE_LIST_ID, title: 'Club', customFields: ['plan'] }, { listId: NEW_CM_LIST, title: 'Club again', customFields: ['plan'] }] }],
  } as never);
});

afterAll(async () => {
  await Promise.all([iterable?.close(), autopilot?.close(), microsoft?.close(), campaignMonitor?.close()]);
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** What the requests made after `from` added and removed. */
function traffic(c: MirrorCase, from: number) {
  const adds: string[] = [];
  const removes: string[] = [];
  let memberRequests = 0;
  for (const request of c.requests().slice(from)) {
    const members = c.members(request);
    if (!members) continue;
    memberRequests += 1;
    adds.push(...members.adds);
    removes.push(...members.removes);
  }
  return { adds: adds.sort(), removes: removes.sort(), memberRequests };
}

describe('mirror sync sends exactly the difference', () => {
  it('joined, left, unchanged, changed-value and changed-e-mail members on every marketing destination', async () => {
    expect((await outflow(home, 'entity', 'load', 'Customer', writeProfiles('v1.csv', v1))).code).toBe(0);
    expect((await outflow(home, 'segment', 'create', 'club', '--where', "tier = 'gold'")).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'club', '--json')).json()).toEqual([{ name: 'club', members: 20 }]);
    for (const c of CASES) {
      const created = await outflow(home, 'connection', 'create', '--type', c.type, '--name', c.id, '--config', writeJson(work, `${c.id}.json`, c.connection()), '--accept-privacy-terms');
      expect(created.stderr).toBe('');
      expect((await outflow(home, 'export', 'create', '--name', `club-${c.id}`, '--connection', c.id, '--segments', 'club', '--config', writeJson(work, `${c.id}-export.json`, c.config()))).code).toBe(0);
      const first = await outflow(home, 'export', 'run', `club-${c.id}`, '--json');
      expect(first.json()).toMatchObject({ status: 'succeeded', sent: 20, entities: [{ name: 'club', rows: 20, sent: 20, added: 20, updated: 0, unchanged: 0 }] });
      expect(c.onList().sort()).toEqual(goldEmails(v1).map(c.identity).sort());
    }

    expect((await outflow(home, 'entity', 'load', 'Customer', writeProfiles('v2.csv', v2))).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'club', '--json')).json()).toEqual([{ name: 'club', members: 20 }]);
    for (const c of CASES) {
      const from = c.requests().length;
      // The dry run predicts the run, and sends nothing.
      const dry = await outflow(home, 'export', 'run', `club-${c.id}`, '--dry-run', '--json');
      expect(dry.code).toBe(0);
      const changed = c.sendsValues ? 2 : 0;
      expect(dry.json()).toMatchObject({ dryRun: true, members: 20, add: 2, update: 1 + changed, remove: 3, reject: 0, unchanged: 17 - changed, refusal: null });
      expect(traffic(c, from).memberRequests).toBe(0);

      const second = (await outflow(home, 'export', 'run', `club-${c.id}`, '--json')).json();
      expect(second).toMatchObject({ status: 'succeeded', entities: [{ name: 'club', rows: 20, added: 2, updated: 1 + changed, removed: 3, unchanged: 17 - changed }] });
      const sent = traffic(c, from);
      const expectedAdds = ['member21@example.com', 'member22@example.com', 'new.address7@example.com', ...(c.sendsValues ? ['member5@example.com', 'member6@example.com'] : [])];
      expect(sent.adds, c.id).toEqual(expectedAdds.map(c.identity).sort());
      // Who left, and the old address of the member whose e-mail changed.
      expect(sent.removes, c.id).toEqual(['member3@example.com', 'member4@example.com', 'member7@example.com'].map(c.identity).sort());
      expect(c.onList().sort(), c.id).toEqual(goldEmails(v2).map(c.identity).sort());
    }
    // The new values arrived where the destination keeps them.
    expect(iterable.user('member6@example.com')?.dataFields).toMatchObject({ plan: 'pro' });
    expect(campaignMonitor.member(FAKE_LIST_ID, 'member5@example.com')?.Name).toBe('Renamed');

    for (const c of CASES) {
      const from = c.requests().length;
      const unchanged = (await outflow(home, 'export', 'run', `club-${c.id}`, '--json')).json();
      expect(unchanged).toMatchObject({ status: 'succeeded', sent: 0, entities: [{ name: 'club', rows: 20, sent: 0, removed: 0, unchanged: 20 }] });
      expect(traffic(c, from).memberRequests, c.id).toBe(0);
    }
  });

  it('sends everyone to a list that was deleted and created again, and again with --full-resync', async () => {
    for (const c of CASES) {
      const patch = await c.deleteList();
      if (patch) expect((await outflow(home, 'export', 'update', `club-${c.id}`, '--config', writeJson(work, `${c.id}-patch.json`, patch))).code).toBe(0);
      const from = c.requests().length;
      const run = (await outflow(home, 'export', 'run', `club-${c.id}`, '--json')).json();
      expect(run, c.id).toMatchObject({ status: 'succeeded', sent: 20, entities: [{ name: 'club', added: 20, removed: 0 }] });
      expect(traffic(c, from).adds, c.id).toEqual(goldEmails(v2).map(c.identity).sort());
      expect(c.onList().sort(), c.id).toEqual(goldEmails(v2).map(c.identity).sort());

      const resyncFrom = c.requests().length;
      const resync = (await outflow(home, 'export', 'run', `club-${c.id}`, '--full-resync', '--json')).json();
      expect(resync, c.id).toMatchObject({ status: 'succeeded', sent: 20, entities: [{ name: 'club', updated: 20, unchanged: 0 }] });
      expect(traffic(c, resyncFrom).adds, c.id).toEqual(goldEmails(v2).map(c.identity).sort());
      // The state it rebuilt is exact: the next run has nothing to send.
      const afterFrom = c.requests().length;
      expect((await outflow(home, 'export', 'run', `club-${c.id}`, '--json')).json()).toMatchObject({ sent: 0, entities: [{ unchanged: 20 }] });
      expect(traffic(c, afterFrom).memberRequests, c.id).toBe(0);
    }
  });
});
