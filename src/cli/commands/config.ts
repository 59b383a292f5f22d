import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import type { Command } from 'commander';
import type { ConfigPlan, FieldChange } from '../../app/config-file/plan.ts';
import { describeProblem } from '../../app/config-file/problem.ts';
import type { ConfigRequest } from '../../client/client.ts';
import { ValidationError } from '../../domain/errors.ts';
import { ExitCode } from '../exit.ts';
import { printJson, type Io } from '../output.ts';
import { withClient } from './common.ts';

/**
 * Reads the file and resolves its references here, on the CLI's side (a CI job's environment): the text and
 * the values go to the home, local or a server, which never resolves a reference itself.
 */
async function readRequest(file: string, prune: boolean, env: NodeJS.ProcessEnv = process.env): Promise<ConfigRequest> {
  // Loaded here, not at start-up: every other command starts without YAML or zod (see main.ts).
  const [{ parseDocument }, { listReferences, localResolver }] = await Promise.all([import('yaml'), import('../../app/config-file/source.ts')]);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ValidationError(`Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}. Write one with \`outflow config export --file ${file}\`.`);
  }
  const resolve = localResolver(path.dirname(path.resolve(file)), env);
  const references: Record<string, string> = {};
  // A file that does not parse has no references to resolve: the home reports the syntax error with its position.
  const parsed = parseDocument(text);
  for (const ref of parsed.errors.length > 0 ? [] : listReferences(parsed.toJS())) {
    const value = resolve(ref.kind, ref.ref, ref.text);
    if (value !== undefined) references[ref.text] = value;
  }
  return { document: text, file: path.basename(file) === file ? file : path.relative(process.cwd(), file) || file, references, prune };
}

const SYMBOL = { create: '+', update: '~', remove: '-' } as const;

/** JSON text: quotes strings and escapes control characters, so a stored value cannot drive the terminal. */
function show(value: unknown): string {
  return JSON.stringify(value) ?? 'unset';
}

function describeField(field: FieldChange): string {
  if (field.secret) return `${field.field}: ${field.from === undefined ? 'set' : field.to === undefined ? 'removed' : 'changed'} (secret, not shown)`;
  if (field.from === undefined) return `${field.field}: ${show(field.to)}`;
  if (field.to === undefined) return `${field.field}: ${show(field.from)} → (default)`;
  return `${field.field}: ${show(field.from)} → ${show(field.to)}`;
}

function printPlan(io: Io, plan: ConfigPlan, mode: 'plan' | 'apply'): void {
  for (const problem of plan.problems) io.err(`error: ${describeProblem(problem)}`);
  if (plan.problems.length > 0) {
    io.err(`${plan.problems.length} problem${plan.problems.length === 1 ? '' : 's'}: nothing ${mode === 'apply' ? 'was' : 'would be'} changed.`);
    return;
  }
  for (const change of plan.changes) {
    io.out(`${SYMBOL[change.action]} ${change.kind} ${show(change.name)}`);
    for (const field of change.fields) io.out(`    ${describeField(field)}`);
  }
  for (const item of plan.unlisted) io.out(`  ${item.kind} ${show(item.name)} is not in the file: kept (--prune removes it)`);
  for (const warning of plan.warnings) io.err(`warning: ${warning}`);
  const count = (action: string) => plan.changes.filter((c) => c.action === action).length;
  if (plan.changes.length === 0) io.out(`No changes: the home matches ${plan.file}.`);
  else if (mode === 'plan') io.out(`Plan: ${count('create')} to create, ${count('update')} to change, ${count('remove')} to remove. Apply it with \`outflow apply --file ${plan.file}\`.`);
  else if (plan.applied) io.out(`Applied: ${count('create')} created, ${count('update')} changed, ${count('remove')} removed (file sha256 ${plan.hash.slice(0, 12)}).`);
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function registerConfigCommands(program: Command, io: Io): void {
  const config = program.command('config').description('Outflow as code: the home\'s configuration as a YAML file (see `outflow plan` and `outflow apply`)');
  config
    .command('schema')
    .description('Print the JSON Schema of the configuration file, for editors')
    .action(async () => printJson(io, (await import('../../app/config-file/document.ts')).configJsonSchema()));
  config
    .command('export')
    .description('Write the home\'s configuration (entities\' attachments, segments, connections, exports, schedules, alerts); secrets become ${env:…} references (administrators)')
    .option('--file <path>', 'write to this file instead of standard output')
    .action(async (opts, command: Command) => {
      const { yaml, variables } = await withClient(command, (client) => client.exportConfig());
      if (!opts.file) return io.out(yaml.replace(/\n$/, ''));
      fs.writeFileSync(String(opts.file), yaml, { mode: 0o600 });
      io.out(`Wrote ${opts.file}.${variables.length > 0 ? ` Before planning, set ${variables.join(', ')} (or write \${file:<path>} references).` : ''}`);
    });

  program
    .command('plan')
    .description('Show what applying a configuration file would create, change and remove, and what would be refused. Exit code 0: no changes, 2: changes, 1: errors')
    .requiredOption('--file <path>', 'the configuration file (YAML)')
    .option('--prune', 'also plan the removal of what the home has and the file does not list')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const request = await readRequest(String(opts.file), Boolean(opts.prune));
      const plan = await withClient(command, (client) => client.planConfig(request));
      if (opts.json) printJson(io, plan);
      else printPlan(io, plan, 'plan');
      throw new ExitCode(plan.problems.length > 0 ? 1 : plan.changes.length > 0 ? 2 : 0);
    });

  program
    .command('apply')
    .description('Make a configuration file real, all or nothing; a second apply changes nothing')
    .requiredOption('--file <path>', 'the configuration file (YAML)')
    .option('--prune', 'remove what the home has and the file does not list')
    .option('--yes', 'apply without asking (CI); without it, the plan is shown and confirmed first')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const request = await readRequest(String(opts.file), Boolean(opts.prune));
      const plan = await withClient(command, async (client) => {
        if (!opts.yes) {
          const preview = await client.planConfig(request);
          printPlan(io, preview, 'plan');
          if (preview.problems.length > 0 || preview.changes.length === 0) return preview;
          if (!process.stdin.isTTY) throw new ValidationError('Nothing was applied: pass --yes to apply without a question (as in CI), or run this in a terminal to confirm.');
          if (!(await confirm('Apply these changes? [y/N] '))) throw new ValidationError('Nothing was applied.');
        }
        return client.applyConfig(request);
      });
      if (opts.json) printJson(io, plan);
      else if (opts.yes || plan.applied) printPlan(io, plan, 'apply');
      throw new ExitCode(plan.problems.length > 0 ? 1 : 0);
    });
}
