import fs from 'node:fs';
import path from 'node:path';
import { startFakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { writeCustomersCsv } from '../src/demo/generate.ts';
import { startServerChild, stopServer, type Server } from './api.ts';
import { BenchError, codeVersion, OUTFLOW_BIN, outflowEnv, printTable, runChild, runOutflow, tempDir } from './support.ts';

// `npm run bench -- cli`: how long `outflow` takes from the shell's point of view — process start to exit,
// Node's own start-up included — for help and for the read commands a script runs most, through a server
// (`outflow serve` owns the home, so the CLI is an HTTP client). Issue 13's target: under 0.3 s each.

export const DEFAULT_CLI_REPEAT = 10;

export interface CliBenchOptions {
  repeat: number;
  keep: boolean;
}

interface Case {
  label: string;
  command: string;
  args: string[];
}

export async function runCliBench(options: CliBenchOptions): Promise<boolean> {
  const work = tempDir('cli');
  const home = path.join(work, 'home');
  const say = (line: string) => console.error(line);
  fs.mkdirSync(path.join(work, 'sftp', 'drop'), { recursive: true });
  const sftp = await startFakeSftpServer({ root: path.join(work, 'sftp'), username: 'bench', password: 'bench-password-1' });
  let server: Server | undefined;
  try {
    // A home with one finished run, so that `run list` and `run show` print a real one.
    const csv = path.join(work, 'customers.csv');
    await writeCustomersCsv(csv, 1000);
    await runOutflow(home, ['entity', 'load', 'Customer', csv, '--key', 'profile_id']);
    server = await startServerChild(home);
    say(`Started \`outflow serve\` (pid ${server.child.pid}) on ${server.url.origin}.`);
    const config = path.join(work, 'sftp.json');
    fs.writeFileSync(config, JSON.stringify({ host: sftp.host, port: sftp.port, username: 'bench', password: 'bench-password-1', folder: '/drop' }));
    await runOutflow(home, ['connection', 'create', '--type', 'sftp', '--name', 'bench', '--config', config, '--accept-privacy-terms']);
    await runOutflow(home, ['connection', 'verify', 'bench']);
    await runOutflow(home, ['export', 'create', '--name', 'customers', '--connection', 'bench', '--entities', 'Customer']);
    const run = JSON.parse((await runOutflow(home, ['export', 'run', 'customers', '--json'])).stdout) as { id: string; status: string };
    if (run.status !== 'succeeded') throw new BenchError(`The setup run ${run.id} ${run.status}.`);

    const outflow = (args: string[]): Case => ({ label: `outflow ${args.join(' ')}`, command: process.execPath, args: [OUTFLOW_BIN, ...args, '--home', home] });
    const cases: Case[] = [
      { label: 'node -e 0 (Node alone)', command: process.execPath, args: ['-e', '0'] },
      outflow(['--help']),
      outflow(['run', 'list']),
      outflow(['run', 'show', run.id]),
      outflow(['export', 'list']),
    ];
    // One warm-up each (the first start also checks the bundle is fresh), then the cases in turn, so that a
    // burst of load on this shared machine spreads over all of them rather than landing on one.
    const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
    for (let round = 0; round <= options.repeat; round++) {
      for (const c of cases) {
        const result = await runChild(c.command, c.args, { env: outflowEnv() });
        if (result.code !== 0) throw new BenchError(`\`${c.label}\` exited with ${result.code ?? result.signal}:\n${result.stderr.trim()}`);
        if (round > 0) times.get(c)!.push(result.seconds);
      }
    }
    console.log(`\nCLI start-up through a server, ${options.repeat} runs each (${codeVersion()}): process start to exit, milliseconds`);
    printTable(
      ['command', 'median', 'min', 'max'],
      cases.map((c) => {
        const sorted = [...times.get(c)!].sort((a, b) => a - b);
        const ms = (s: number) => (s * 1000).toFixed(0);
        return [c.label.replace(run.id, '<id>'), ms(sorted[Math.floor(sorted.length / 2)]!), ms(sorted[0]!), ms(sorted.at(-1)!)];
      }),
    );
    return true;
  } finally {
    if (server) await stopServer(server);
    await sftp.close();
    if (options.keep) say(`Kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}
