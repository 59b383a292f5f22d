import type { Command } from 'commander';
import { printJson, printTable, type Io } from '../output.ts';

export function registerDestinationCommands(program: Command, io: Io): void {
  const destinations = program.command('destinations').description('The destinations Outflow can export to');
  destinations
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (opts) => {
      const { listDestinations } = await import('../../destinations/index.ts');
      const rows = listDestinations().map((d) => ({ name: d.id, title: d.title, exports: d.export.kind === 'files' ? 'segments or entities as files' : 'segments as records', docs: d.docsUrl }));
      if (opts.json) printJson(io, rows);
      else printTable(io, rows, 'No destinations.');
    });
  destinations
    .command('spec <type>')
    .description('JSON Schema of a destination\'s connection config and export settings')
    .option('--json', 'machine-readable output (the default: the spec is JSON)')
    .action(async (type: string) => {
      const [{ z }, { getDestination }] = await Promise.all([import('zod'), import('../../destinations/index.ts')]);
      const destination = getDestination(type);
      const kind = destination.export;
      printJson(io, {
        id: destination.id,
        title: destination.title,
        connection: z.toJSONSchema(destination.connection.schema, { io: 'input', unrepresentable: 'any' }),
        exportSettings: z.toJSONSchema(kind.settings, { io: 'input', unrepresentable: 'any' }),
        ...(kind.kind === 'records' ? { fields: kind.fields, extraFields: kind.extraFields ?? null, limits: kind.limits } : {}),
      });
    });
}
