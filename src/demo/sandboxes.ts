import fs from 'node:fs';
import path from 'node:path';
import { startAutopilotFake, type AutopilotFake } from '../destinations/autopilot/fake-autopilot.ts';
import { FAKE_API_KEY, FAKE_CLIENT_ID, FAKE_LIST_ID, startCampaignMonitorFake, type CampaignMonitorFake } from '../destinations/campaign-monitor/fake-campaign-monitor.ts';
import { startIterableFake, type IterableFake } from '../destinations/iterable/fake-iterable.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake, type MicrosoftAdvertisingFake } from '../destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import { generateEd25519KeyPair, startFakeSftpServer, type FakeSftpServer } from '../destinations/sftp/fake-sftp-server.ts';
import { ConfigError } from '../domain/errors.ts';

/**
 * The demo's sandboxes: local stand-ins for an SFTP host and the four marketing vendors, the fakes the tests
 * run against (each behaves as its vendor documents: authentication, batch caps, 429s, partial failures). The
 * demo starts them and points its connections at them; `outflow sandbox` starts them again on the same ports,
 * with the same credentials and the same SFTP host key, so that those connections work after the demo has
 * ended. What a sandbox received lives in its memory only (the SFTP sandbox's files excepted): a restarted
 * sandbox starts empty.
 */

/** Credentials the sandboxes accept. Not secrets: anyone on this machine may read them in the README. */
export const SANDBOX_CREDENTIALS = {
  sftp: { username: 'partner', password: 'demo-password' },
  iterable: { apiKey: 'sandbox-iterable-api-key' },
  campaignMonitor: { apiKey: FAKE_API_KEY, clientId: FAKE_CLIENT_ID, listId: FAKE_LIST_ID },
  microsoft: FAKE_DEFAULTS,
  autopilot: { apiKey: 'sandbox-autopilot-api-key' },
} as const;

/** Where the demo records its sandboxes' ports, inside its home. */
const SETTINGS_FILE = path.join('demo', 'sandboxes.json');
const HOST_KEY_FILE = path.join('demo', 'sftp-host-key');

export interface SandboxPorts {
  sftp: number;
  iterable: number;
  campaignMonitor: number;
  microsoft: number;
  autopilot: number;
}

export interface Sandboxes {
  ports: SandboxPorts;
  sftp: FakeSftpServer;
  iterable: IterableFake;
  campaignMonitor: CampaignMonitorFake;
  microsoft: MicrosoftAdvertisingFake;
  autopilot: AutopilotFake;
  /** The sandboxes' addresses, one line each, for the terminal. */
  describe(): string[];
  close(): Promise<void>;
}

/**
 * Starts the five sandboxes for the demo home `home`: on the ports it recorded when `reuse` is set (the
 * `outflow sandbox` command), else on free ports, which it then records.
 */
export async function startSandboxes(home: string, options: { reuse: boolean }): Promise<Sandboxes> {
  const settingsFile = path.join(home, SETTINGS_FILE);
  const hostKeyFile = path.join(home, HOST_KEY_FILE);
  let ports: Partial<SandboxPorts> = {};
  let hostKey: string;
  if (options.reuse) {
    if (!fs.existsSync(settingsFile) || !fs.existsSync(hostKeyFile)) {
      throw new ConfigError('invalid_settings', `${home} has no sandboxes recorded: it was not made by \`outflow demo\` (or by an older one). Run \`npm run demo\` first, then start its sandboxes with \`outflow sandbox --home ${home}\`.`);
    }
    ports = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as SandboxPorts;
    hostKey = fs.readFileSync(hostKeyFile, 'utf8');
  } else {
    hostKey = generateEd25519KeyPair().private;
    fs.mkdirSync(path.dirname(hostKeyFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(hostKeyFile, hostKey, { mode: 0o600 });
  }
  const sftpRoot = path.join(home, 'demo', 'sftp-server');
  fs.mkdirSync(path.join(sftpRoot, 'exports'), { recursive: true, mode: 0o700 });

  const started: Array<{ close(): Promise<void> }> = [];
  const track = <T extends { close(): Promise<void> }>(fake: T): T => {
    started.push(fake);
    return fake;
  };
  try {
    const sftp = track(await startFakeSftpServer({ root: sftpRoot, ...SANDBOX_CREDENTIALS.sftp, private: true, hostKey, port: ports.sftp }));
    const iterable = track(await startIterableFake({ projects: [{ apiKey: SANDBOX_CREDENTIALS.iterable.apiKey }], port: ports.iterable }));
    const campaignMonitor = track(
      await startCampaignMonitorFake({
        apiKeys: [SANDBOX_CREDENTIALS.campaignMonitor.apiKey],
        clients: [
          {
            clientId: SANDBOX_CREDENTIALS.campaignMonitor.clientId,
            name: 'Outflow sandbox client',
            lists: [{ listId: SANDBOX_CREDENTIALS.campaignMonitor.listId, title: 'Newsletter (sandbox)', customFields: ['country', 'city'] }],
          },
        ],
        port: ports.campaignMonitor,
      }),
    );
    // The connection keeps the refresh token it was made with: a sandbox started again knows only that one.
    const microsoft = track(await startMicrosoftAdvertisingFake({ rotateRefreshTokens: false, port: ports.microsoft }));
    const autopilot = track(await startAutopilotFake({ apiKey: SANDBOX_CREDENTIALS.autopilot.apiKey, port: ports.autopilot }));
    const actual: SandboxPorts = {
      sftp: sftp.port,
      iterable: Number(new URL(iterable.url).port),
      campaignMonitor: Number(new URL(campaignMonitor.url).port),
      microsoft: Number(new URL(microsoft.baseUrl).port),
      autopilot: Number(new URL(autopilot.url).port),
    };
    if (!options.reuse) fs.writeFileSync(settingsFile, `${JSON.stringify(actual, null, 2)}\n`, { mode: 0o600 });
    return {
      ports: actual,
      sftp,
      iterable,
      campaignMonitor,
      microsoft,
      autopilot,
      describe: () => [
        `SFTP sandbox                   sftp://${sftp.host}:${sftp.port} (user ${sftp.username}), files in ${sftpRoot}`,
        `Iterable sandbox               ${iterable.url}`,
        `Campaign Monitor sandbox       ${campaignMonitor.url}`,
        `Microsoft Advertising sandbox  ${microsoft.baseUrl}`,
        `Autopilot sandbox              ${autopilot.url}`,
      ],
      close: async () => {
        await Promise.all(started.map((fake) => fake.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((fake) => fake.close()));
    throw error;
  }
}
