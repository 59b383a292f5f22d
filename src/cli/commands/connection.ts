import type { Command } from 'commander';
import { SIGN_IN_CODES } from '../../app/connection-health.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { UsableBy } from '../../domain/model.ts';
import type { ConnectionView } from '../../app/connections.ts';
import { ExitCode, exitCodes } from '../exit.ts';
import { printJson, printTable, type Io } from '../output.ts';
import { IF_MATCH_HELP, ifMatchOption, integerOption, readJsonConfig, withClient, withHome } from './common.ts';
import { outflowCommand } from '../../lib/shell.ts';

function usableBy(value: string | undefined): UsableBy | undefined {
  if (value === undefined) return undefined;
  if (value === 'admins' || value === 'admins-and-contributors') return value;
  throw new ValidationError(`--usable-by must be "admins" or "admins-and-contributors", not "${value}".`);
}

export function registerConnectionCommands(program: Command, io: Io): void {
  const connection = program.command('connection').description('Connections to destination accounts (administrators)');

  connection
    .command('create')
    .description('Save a connection; its credentials are encrypted and never shown again')
    .requiredOption('--type <type>', 'sftp | microsoft-advertising | campaign-monitor | iterable | autopilot')
    .requiredOption('--name <name>', 'display name, unique')
    .requiredOption('--config <file>', 'JSON settings file, or - for standard input')
    .option('--accept-privacy-terms', 'record that you accept the data-privacy terms for sending data to this destination')
    .option('--usable-by <who>', 'admins | admins-and-contributors', 'admins')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const config = readJsonConfig(opts.config);
      const view = await withClient(command, (client) =>
        client.createConnection({ type: opts.type, name: opts.name, config, acceptPrivacyTerms: Boolean(opts.acceptPrivacyTerms), usableBy: usableBy(opts.usableBy) }),
      );
      if (opts.json) printJson(io, view);
      else io.out(`Created connection "${view.name}" (${view.type}). Check it with \`${outflowCommand('connection', 'verify', view.name)}\`.`);
    });

  connection
    .command('update <name>')
    .description('Edit a connection: --config is merged over the current settings (secrets: omitted means unchanged)')
    .option('--config <file>', 'JSON with the settings to change (null removes one), or - for standard input')
    .option('--name <name>', 'new display name')
    .option('--usable-by <who>', 'admins | admins-and-contributors')
    .option('--if-match <etag>', IF_MATCH_HELP)
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      if (opts.config === undefined && opts.name === undefined && opts.usableBy === undefined) {
        throw new ValidationError('Nothing to change: pass --config, --name or --usable-by.');
      }
      const ifMatch = ifMatchOption(opts.ifMatch);
      const config = readJsonConfig(opts.config);
      const view = await withClient(command, (client) => client.updateConnection(name, { name: opts.name, config, usableBy: usableBy(opts.usableBy) }, { ifMatch }));
      if (opts.json) printJson(io, view);
      else io.out(`Updated connection "${view.name}".${view.lastVerification ? '' : ` Check it with \`outflow connection verify "${view.name}"\`.`}`);
    });

  connection
    .command('verify <name>')
    .description('Connect, authenticate and make one cheap read (SFTP: a probe write); records the SFTP host key')
    .option('--accept-host-key <fingerprint>', "SFTP: trust this new host key (SHA256:…) in place of the recorded one, after confirming it with the server's administrator")
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      const result = await withClient(command, (client) => client.verifyConnection(name, { acceptHostKey: opts.acceptHostKey }));
      if (opts.json) printJson(io, result);
      else if (result.ok) io.out(`Connection "${name}" works.${result.details?.hostKeySha256 ? ` Host key ${String(result.details.hostKeySha256)} recorded.` : ''}`);
      else io.err(`error: connection "${name}" failed verification (${result.code}): ${result.message}`);
      if (!result.ok) throw new ExitCode(exitCodes.runFailed);
    });

  connection
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const views = await withClient(command, (client) => client.listConnections());
      if (opts.json) printJson(io, views);
      else
        printTable(
          io,
          views.map((v) => ({ name: v.name, type: v.sandbox ? `${v.type} (sandbox)` : v.type, usableBy: v.usableBy, status: connectionStatus(v), created: v.createdAt })),
          'No connections yet: an administrator creates one with `outflow connection create`.',
        );
    });

  connection
    .command('show <name>')
    .option('--json', 'machine-readable output (the default: a connection is shown as JSON)')
    .action(async (name: string, _opts, command: Command) => {
      const view = await withClient(command, (client) => client.showConnection(name));
      printJson(io, view);
    });

  connection
    .command('remove <name>')
    .option('--force', 'remove even if exports use it')
    .option('--if-match <etag>', IF_MATCH_HELP)
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      const ifMatch = ifMatchOption(opts.ifMatch);
      const result = await withClient(command, (client) => client.removeConnection(name, { force: Boolean(opts.force), ifMatch }));
      if (opts.json) printJson(io, result);
      else io.out(`Removed connection "${name}".${result.orphanedExports.length ? ` Exports without a connection now: ${result.orphanedExports.join(', ')}.` : ''}`);
    });

  connection
    .command('authorize <name>')
    .description('Microsoft Advertising: sign in with a browser (OAuth with PKCE) and store the refresh token')
    .option('--config <file>', 'for a new connection: JSON settings (clientId, developerToken, …), or -')
    .option('--accept-privacy-terms', 'for a new connection: accept the data-privacy terms')
    .option('--usable-by <who>', 'for a new connection: admins | admins-and-contributors', 'admins')
    .option('--port <port>', 'loopback port for the redirect (default: any free port)', integerOption(0, 65_535), 0)
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      // The sign-in stores a credential with the connection's client secret, which never leaves the server's
      // machine: there it works on the home's metadata directly (a running server shares it), never remotely.
      if (process.env.OUTFLOW_URL) {
        throw new ValidationError('`outflow connection authorize` runs on the machine of the Outflow server (it needs the connection\'s stored client secret); run it there, without OUTFLOW_URL.');
      }
      // Loaded here, not at start-up: they bring the stores (see src/cli/main.ts).
      const [{ checkNewConnection, createConnection, showConnection }, { storeSignIn }, { authorizeMicrosoftAdvertising }, { assertAdmin }, { findConnectionByName, readConnectionSecrets }] = await Promise.all([
        import('../../app/connections.ts'),
        import('../../app/oauth.ts'),
        import('../../destinations/microsoft-advertising/authorize.ts'),
        import('../../engine/services.ts'),
        import('../../store/metadata/connections.ts'),
      ]);
      await withHome(command, async (home) => {
        assertAdmin(home.actor, 'authorize connections');
        const existing = await findConnectionByName(home.db, home.box, name);
        const settings = (existing ? existing.config : readJsonConfig(opts.config)) as Record<string, unknown> | undefined;
        if (existing && existing.type !== 'microsoft-advertising') throw new ValidationError(`Connection "${name}" is ${existing.type}; only Microsoft Advertising connections sign in with a browser.`);
        if (!settings || typeof settings.clientId !== 'string') {
          throw new ValidationError(`No connection "${name}" yet: pass --config with at least clientId and developerToken to create it.`);
        }
        const newConnection = existing
          ? undefined
          : { type: 'microsoft-advertising', name, config: settings, acceptPrivacyTerms: Boolean(opts.acceptPrivacyTerms), usableBy: usableBy(opts.usableBy) };
        // Consent, name and settings are checked before the browser opens: failing after the sign-in would
        // throw the admin's fresh token away.
        if (newConnection) await checkNewConnection(home, newConnection, ['refreshToken']);
        // A confidential (web) app registration needs its client secret for the code exchange.
        const secrets = existing ? await readConnectionSecrets(home.db, home.box, existing.id) : settings;
        const { refreshToken } = await authorizeMicrosoftAdvertising({
          clientId: settings.clientId,
          clientSecret: typeof secrets?.clientSecret === 'string' ? secrets.clientSecret : undefined,
          authorityUrl: typeof settings.authorityUrl === 'string' ? settings.authorityUrl : undefined,
          connectionName: name,
          port: opts.port,
          onAuthorizeUrl: (url) => io.err(`Open this address in a browser and sign in with the Microsoft Advertising user:\n\n  ${url}\n\nWaiting for the sign-in to finish…`),
        });
        if (!existing) await createConnection(home, { ...newConnection!, config: { ...settings, refreshToken } });
        // Stores the token, records who signed in, audits connection.authorize and verifies, as the web app's sign-in does.
        const check = await storeSignIn(home, name, refreshToken, 'cli');
        if (opts.json) printJson(io, { ...(await showConnection(home, name)), verification: check });
        else io.out(existing ? `Signed in: connection "${name}" has a new refresh token.` : `Signed in and created connection "${name}".`);
        if (!check.ok) {
          if (!opts.json) io.err(`error: connection "${name}" signed in but failed verification (${check.code}): ${check.message}`);
          throw new ExitCode(exitCodes.runFailed);
        }
        if (!opts.json) io.out(`Verified: connection "${name}" works.`);
      });
    });
}

/**
 * One word or two for `connection list`. A problem a run ran into (`attention`, e.g. a revoked token) outranks
 * an older successful verification: showing "verified" for a connection that can no longer sign in is how an
 * admin learns about it a day late.
 */
export function connectionStatus(view: Pick<ConnectionView, 'type' | 'attention' | 'lastVerification'>): string {
  const attention = view.attention as { code?: string } | undefined;
  if (attention) return attention.code && SIGN_IN_CODES.has(attention.code) ? (view.type === 'microsoft-advertising' ? 'needs sign-in' : 'credentials refused') : `attention: ${attention.code ?? 'see show'}`;
  const last = view.lastVerification as { ok?: boolean; code?: string } | undefined;
  if (!last) return 'not verified';
  return last.ok ? 'verified' : `failed: ${last.code ?? 'see show'}`;
}
