import type { Command } from 'commander';
import { DEMO_DEFAULT_ROWS } from '../../demo/generate.ts';
import { progressObserver, type Io } from '../output.ts';
import { integerOption } from './common.ts';

export function registerDemoCommand(program: Command, io: Io): void {
  program
    .command('demo')
    .description('Generate sample profiles and export them to an SFTP server the demo starts on loopback')
    .option('--rows <n>', 'profiles to generate', integerOption(), DEMO_DEFAULT_ROWS)
    .option('--demo-home <dir>', 'where the demo keeps its stores (wiped each time)', '.outflow-demo')
    .action(async (opts) => {
      const { runDemo } = await import('../../demo/demo.ts');
      await runDemo({ home: opts.demoHome, rows: opts.rows, say: (line) => io.out(line), observer: () => progressObserver(io, true) });
    });
}
