import type { Command } from 'commander';
import { formatNumber, printJson, printTable, type Io } from '../output.ts';
import { withClient } from './common.ts';
import { outflowCommand } from '../../lib/shell.ts';

export function registerDataCommands(program: Command, io: Io): void {
  const entity = program.command('entity').description('Entities in the embedded profile store');
  entity
    .command('load <entity> <file>')
    .description('Load a CSV (with header) or Parquet file into an entity, replacing it atomically')
    .option('--key <column>', 'primary key column', 'profile_id')
    .option('--delimiter <char>', 'CSV delimiter', ',')
    .option('--json', 'machine-readable output')
    .action(async (name: string, file: string, opts, command: Command) => {
      const info = await withClient(command, (client) => client.loadEntity(name, file, { key: opts.key, delimiter: opts.delimiter }));
      if (opts.json) printJson(io, { name: info.name, key: info.key, rows: info.rows, columns: info.columns });
      else io.out(`Loaded ${formatNumber(info.rows)} rows into ${info.name} (key ${info.key}, ${info.columns.length} columns).`);
    });
  entity
    .command('attach <entity>')
    .description('Register an existing table or view as an entity, read live without copying (PostgreSQL profile store)')
    .requiredOption('--table <schema.table>', 'table or view in the profile store database, e.g. crm.customers')
    .option('--key <column>', 'primary key column', 'profile_id')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      const info = await withClient(command, (client) => client.attachEntity(name, { table: opts.table, key: opts.key }));
      if (opts.json) printJson(io, { name: info.name, key: info.key, rows: info.rows, columns: info.columns, attached: info.attached });
      else io.out(`Attached ${info.name} to ${info.attached} (key ${info.key}, ${info.columns.length} columns, ${formatNumber(info.rows)} rows now): segments and exports read it live.`);
    });
  entity
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const entities = await withClient(command, (client) => client.listEntities());
      if (opts.json) printJson(io, entities.map((e) => ({ name: e.name, key: e.key, rows: e.rows, columns: e.columns, loadedAt: e.loadedAt, ...(e.attached ? { attached: e.attached } : {}) })));
      else printTable(io, entities.map((e) => ({ name: e.name, key: e.key, rows: e.rows, columns: e.columns.length, loaded: e.attached ? `live: ${e.attached}` : e.loadedAt })), 'No entities yet: load one with `outflow entity load Customer <file.csv>`.');
    });

  const segment = program.command('segment').description('Segments: filtered sets of profiles');
  segment
    .command('create <name>')
    .requiredOption('--where <filter>', "filter, e.g. \"country = 'NL' and orders >= 3\"")
    .option('--entity <entity>', 'entity the segment selects from', 'Customer')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      const created = await withClient(command, (client) => client.createSegment({ name, entity: opts.entity, where: opts.where }));
      if (opts.json) printJson(io, { name: created.name, entity: created.entity, filter: created.filter });
      else io.out(`Created segment ${created.name} on ${created.entity}. Run \`${outflowCommand('segment', 'refresh', created.name)}\` to count its members.`);
    });
  segment
    .command('preview')
    .description('Count the profiles a filter selects, without saving a segment')
    .requiredOption('--where <filter>', "filter, e.g. \"country = 'NL' and orders >= 3\"")
    .option('--entity <entity>', 'entity to select from', 'Customer')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const preview = await withClient(command, (client) => client.previewSegment({ entity: opts.entity, where: opts.where }));
      if (opts.json) printJson(io, preview);
      else io.out(`${formatNumber(preview.members)} ${preview.entity} profile${preview.members === 1 ? '' : 's'} match. Nothing was saved.`);
    });
  segment
    .command('update <name>')
    .description('Change a segment\'s filter (and entity); its membership is refreshed at once')
    .requiredOption('--where <filter>', "new filter, e.g. \"country = 'NL' and orders >= 3\"")
    .option('--entity <entity>', 'entity the segment selects from (default: unchanged)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      const updated = await withClient(command, (client) => client.updateSegment(name, { where: opts.where, entity: opts.entity }));
      if (opts.json) printJson(io, { name: updated.name, entity: updated.entity, filter: updated.filter, members: updated.members });
      else io.out(`Updated segment ${updated.name} on ${updated.entity}: ${formatNumber(updated.members ?? 0)} members.`);
    });
  segment
    .command('refresh [name]')
    .description('Materialize membership of one segment, or of all')
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, opts, command: Command) => {
      const results = await withClient(command, (client) => client.refreshSegments(name));
      if (opts.json) printJson(io, results);
      else printTable(io, results, 'No segments to refresh.');
    });
  segment
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const segments = await withClient(command, (client) => client.listSegments());
      const rows = segments.map((s) => ({ name: s.name, entity: s.entity, filter: s.filter, members: s.members, refreshedAt: s.refreshedAt }));
      if (opts.json) printJson(io, rows);
      else printTable(io, rows, 'No segments yet: create one with `outflow segment create <name> --where ...`.');
    });
  segment
    .command('remove <name>')
    .action(async (name: string, _opts, command: Command) => {
      await withClient(command, (client) => client.removeSegment(name));
      io.out(`Removed segment ${name}.`);
    });
}
