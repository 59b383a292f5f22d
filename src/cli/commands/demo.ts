import type { Command } from 'commander';
import { DEMO_DEFAULT_ROWS } from '../../demo/generate.ts';
import { progressObserver, type Io } from '../output.ts';
import { homeOption, integerOption } from './common.ts';

export function registerDemoCommand(program: Command, io: Io): void {
  program
    .command('demo')
    .description('Generate sample profiles and export them to sandboxes of the five destinations the demo starts on loopback')
    .option('--rows <n>', 'profiles to generate', integerOption(), DEMO_DEFAULT_ROWS)
    .option('--demo-home <dir>', 'where the demo keeps its stores (wiped each time)', '.outflow-demo')
    .action(async (opts) => {
      const { runDemo } = await import('../../demo/demo.ts');
      await runDemo({ home: opts.demoHome, rows: opts.rows, say: (line) => io.out(line), observer: () => progressObserver(io, true) });
    });
  program
    .command('sandbox')
    .description("Start the demo's sandboxes again (SFTP, Iterable, Campaign Monitor, Microsoft Advertising, Autopilot stand-ins) until Ctrl-C, so that its exports can run")
    .action(async (_opts, command: Command) => {
      const [{ resolveHomeDir }, { startSandboxes }] = await Promise.all([import('../../app/home-dir.ts'), import('../../demo/sandboxes.ts')]);
      const home = resolveHomeDir(homeOption(command) ?? '.outflow-demo');
      const sandboxes = await startSandboxes(home, { reuse: true });
      io.out(`Sandboxes of the demo home ${home} (they answer as the vendors document; nothing leaves this machine):`);
      for (const line of sandboxes.describe()) io.out(`  ${line}`);
      io.out("They start empty: what an earlier session received is gone (the SFTP sandbox's files excepted). Stop them with Ctrl-C.");
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void sandboxes.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
