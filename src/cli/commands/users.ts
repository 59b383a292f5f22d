import type { Command } from 'commander';
import { printJson, printTable, type Io } from '../output.ts';
import { withClient } from './common.ts';

// Only `user create`, `user reset-password` and `token create` ever print a password or token, and only once: everything else
// prints views that cannot hold one (see the secrets scan in users.test.ts).

export function registerUserCommands(program: Command, io: Io): void {
  const user = program.command('user').description('Accounts and their roles (administrators)');

  user
    .command('create <name>')
    .description('Create a user; prints a one-time password, once')
    .requiredOption('--role <role>', 'admin | contributor | viewer')
    .option('--json', 'machine-readable output: {"name", "role", "password"}')
    .action(async (name: string, opts, command: Command) => {
      const created = await withClient(command, (client) => client.createUser({ name, role: opts.role }));
      if (opts.json) printJson(io, created);
      else {
        io.out(`Created user "${created.name}" (${created.role}).`);
        io.out(`One-time password, shown only now: ${created.password}`);
      }
    });

  user
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const users = await withClient(command, (client) => client.listUsers());
      if (opts.json) printJson(io, users);
      else printTable(io, users.map((u) => ({ name: u.name, role: u.role, createdBy: u.createdBy, created: u.createdAt })), 'No users yet. Create one with `outflow user create <name> --role …`.');
    });

  user
    .command('remove <name>')
    .description("Remove a user; revokes their tokens and ends their sessions")
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      const result = await withClient(command, (client) => client.removeUser(name));
      if (opts.json) printJson(io, result);
      else io.out(`Removed user "${result.removed}"; revoked ${result.tokensRevoked} token(s) and ended ${result.sessionsEnded} session(s).`);
    });

  user
    .command('reset-password <name>')
    .description('Give a user a new one-time password (printed once) and end their sessions')
    .option('--json', 'machine-readable output: {"name", "role", "password"}')
    .action(async (name: string, opts, command: Command) => {
      const reset = await withClient(command, (client) => client.resetPassword(name));
      if (opts.json) printJson(io, reset);
      else {
        io.out(`Reset the password of "${reset.name}" and ended their sessions.`);
        io.out(`One-time password, shown only now: ${reset.password}`);
      }
    });

  user
    .command('unlock [name]')
    .description("Lift the sign-in delays that failed attempts put on a user (from every address) and/or on an address (--address)")
    .option('--address <ip>', 'the client address whose delays to lift, to every account (as `outflow audit` shows it)')
    .option('--json', 'machine-readable output: {"user", "address", "cleared"}')
    .action(async (name: string | undefined, opts, command: Command) => {
      const result = await withClient(command, (client) => client.unlockSignIns({ user: name, address: opts.address }));
      if (opts.json) printJson(io, result);
      else {
        const what = [result.user ? `"${result.user}"` : '', result.address ? `address ${result.address}` : ''].filter(Boolean).join(' and of ');
        io.out(result.cleared > 0 ? `Lifted the sign-in delays of ${what}.` : `No sign-in delays held ${what} back; nothing to lift.`);
      }
    });

  user
    .command('set-role <name> <role>')
    .description('Change a user\'s role: admin | contributor | viewer')
    .option('--json', 'machine-readable output')
    .action(async (name: string, role: string, opts, command: Command) => {
      const view = await withClient(command, (client) => client.setRole(name, role));
      if (opts.json) printJson(io, view);
      else io.out(`"${view.name}" is now ${view.role === 'admin' ? 'an administrator' : `a ${view.role}`}.`);
    });

  const token = program.command('token').description('API tokens (Authorization: Bearer …)');

  token
    .command('create [user]')
    .description('Create an API token (default: for yourself); prints it once')
    .option('--name <name>', 'a label to tell tokens apart (default: token-<n>)')
    .option('--json', 'machine-readable output: {"token", "id", "name", "user", "prefix", "createdAt"}')
    .action(async (userName: string | undefined, opts, command: Command) => {
      const created = await withClient(command, (client) => client.createToken({ user: userName, name: opts.name }));
      if (opts.json) printJson(io, created);
      else {
        io.out(`Created token "${created.name}" (${created.id}) for "${created.user}".`);
        io.out(`Token, shown only now: ${created.token}`);
      }
    });

  token
    .command('list')
    .description('Active tokens: everyone\'s for administrators, your own otherwise')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const tokens = await withClient(command, (client) => client.listTokens());
      if (opts.json) printJson(io, tokens);
      else
        printTable(
          io,
          tokens.map((t) => ({ id: t.id, name: t.name, user: t.user, prefix: `${t.prefix}…`, created: t.createdAt, lastUsed: t.lastUsedAt })),
          'No active tokens.',
        );
    });

  token
    .command('revoke <id-or-name>')
    .option('--json', 'machine-readable output')
    .action(async (idOrName: string, opts, command: Command) => {
      const revoked = await withClient(command, (client) => client.revokeToken(idOrName));
      if (opts.json) printJson(io, revoked);
      else io.out(`Revoked token "${revoked.name}" (${revoked.id}) of "${revoked.user}".`);
    });
}
