import { parseArgs } from 'node:util';
import { DEFAULT_API_ROWS, runApiBench } from './api.ts';
import { DEFAULT_CLI_REPEAT, runCliBench } from './cli.ts';
import { DESTINATION_CASES, runDestinationsBench } from './destinations.ts';
import { DEFAULT_MEMBERS, runIncrementalBench } from './incremental.ts';
import { DEFAULT_LIMITER_RATE, DEFAULT_LIMITER_SECONDS, runLimiterBench } from './limiter.ts';
import { DEFAULT_MEMBERS as DEFAULT_QUEUE_MEMBERS, DEFAULT_RUNS, runQueueBench } from './queue.ts';
import { DEFAULT_SCALE_MEMBERS, runScaleBench } from './scale.ts';
import { DEFAULT_ROWS, runSftpBench } from './sftp.ts';
import { BenchError } from './support.ts';
import { DEFAULT_LIMIT, DEFAULT_WORKER_MEMBERS, runWorkersBench } from './workers.ts';

// `npm run bench -- <name> [options]`. Benchmarks print figures; they assert only that each run worked.

const USAGE = `Usage: npm run bench -- <benchmark> [options]

  sftp           Outflow's SFTP export vs DuckDB CSV + pigz/gzip + OpenSSH sftp, to a real sshd
    --rows N       rows to export (default ${DEFAULT_ROWS.toLocaleString('en-US')})
    --store S      duckdb (default) or postgres: the profile store (OUTFLOW_PROFILES_URL); the postgres
                   baseline is psql \\copy to a file + sftp (PostgreSQL at OUTFLOW_BENCH_DATABASE_URL,
                   default postgres://postgres@127.0.0.1:5432/test)
    --repeat N     rounds of every measurement; prints medians (default 1)
    --keep         keep the temporary folder

  api            an SFTP export alone, under a steady 100 API requests/s and under 50 clients flat out: slowdown, API p50/p99
    --rows N       rows the SFTP export sends (default ${DEFAULT_API_ROWS.toLocaleString('en-US')})
    --repeat N     rounds of export without / with API load; prints medians (default 1)
    --keep         keep the temporary folder

  cli            how long \`outflow --help\`, \`run list\`, \`run show\` and \`export list\` take through a server
    --repeat N     runs of each command; prints median, min and max (default ${DEFAULT_CLI_REPEAT})
    --keep         keep the temporary folder

  destinations   record exports against each destination's fake at its documented rate, 50 ms latency
    --scale F      multiply the seed sizes (default 1; 0.1 for a quick run)
    --only ID      one destination: ${DESTINATION_CASES.map((c) => c.id).join(', ')}
    --keep         keep the temporary folder

  incremental    mirror sync to the Iterable and Campaign Monitor fakes: full run, re-run after 1 % changed, unchanged re-run
    --members N    segment size (default ${DEFAULT_MEMBERS.toLocaleString('en-US')})
    --only ID      iterable or campaign-monitor
    --keep         keep the temporary folder

  scale          every record-run path at 1M–10M members through \`outflow serve\` to a lean Iterable fake (no rate
                 limit): entity load, segment refresh, full mirror run, unchanged re-run, dry run and re-run after
                 1 % changed, an upsert run cancelled at 10 % and resumed; time and peak RSS of every process
    --members N    members (default ${DEFAULT_SCALE_MEMBERS.toLocaleString('en-US')}; 10000000 once for the README)
    --resume-first the mirror export's first run is the one cancelled at 10 % and resumed; no upsert export
                   (saves a second full send at 10M)
    --keep         keep the temporary folder

  workers        runs through the BullMQ queue to 1, 2 and 4 \`outflow worker\` processes (PostgreSQL + Redis on this
                 machine): throughput at 50 ms latency, and 4 workers sharing one account's rate limit
    --members N    members of each run (default ${DEFAULT_WORKER_MEMBERS.toLocaleString('en-US')})
    --limit R      the shared limit, requests a second (default ${DEFAULT_LIMIT})
    --only ID      throughput or limit
    --keep         keep the temporary folder

  limiter        the shared rate limiter in Redis: 1 vs 3 worker processes on one account, and one acquire's cost
    --rate N       documented requests per second (default ${DEFAULT_LIMITER_RATE})
    --seconds N    length of each run (default ${DEFAULT_LIMITER_SECONDS})
  queue          the run queue's own cost per run and per batch, against a fake without latency or rate limit
    --runs N       one-batch runs for the per-run figure (default ${DEFAULT_RUNS})
    --members N    members of the run for the per-batch figure (default ${DEFAULT_QUEUE_MEMBERS.toLocaleString('en-US')})
    --keep         keep the temporary folder
`;

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new BenchError(`--${name} must be a positive number, not "${value}".`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rows: { type: 'string' },
      repeat: { type: 'string' },
      scale: { type: 'string' },
      only: { type: 'string' },
      members: { type: 'string' },
      limit: { type: 'string' },
      store: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      runs: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'resume-first': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [name, ...extra] = positionals;
  if (values.help || name === undefined) {
    console.log(USAGE);
    return name === undefined && !values.help ? 2 : 0;
  }
  if (extra.length > 0) throw new BenchError(`Unexpected argument(s): ${extra.join(' ')}.\n\n${USAGE}`);

  switch (name) {
    case 'sftp': {
      const rows = positiveNumber('rows', values.rows, DEFAULT_ROWS);
      if (!Number.isInteger(rows)) throw new BenchError('--rows must be a whole number.');
      const repeat = positiveNumber('repeat', values.repeat, 1);
      if (!Number.isInteger(repeat)) throw new BenchError('--repeat must be a whole number.');
      const store = values.store ?? 'duckdb';
      if (store !== 'duckdb' && store !== 'postgres') throw new BenchError(`--store must be duckdb or postgres, not "${store}".`);
      await runSftpBench({ rows, repeat, keep: values.keep, store });
      return 0;
    }
    case 'api': {
      const rows = positiveNumber('rows', values.rows, DEFAULT_API_ROWS);
      if (!Number.isInteger(rows)) throw new BenchError('--rows must be a whole number.');
      const repeat = positiveNumber('repeat', values.repeat, 1);
      if (!Number.isInteger(repeat)) throw new BenchError('--repeat must be a whole number.');
      return (await runApiBench({ rows, repeat, keep: values.keep })) ? 0 : 1;
    }
    case 'cli': {
      const repeat = positiveNumber('repeat', values.repeat, DEFAULT_CLI_REPEAT);
      if (!Number.isInteger(repeat)) throw new BenchError('--repeat must be a whole number.');
      return (await runCliBench({ repeat, keep: values.keep })) ? 0 : 1;
    }
    case 'destinations': {
      const scale = positiveNumber('scale', values.scale, 1);
      const only = values.only;
      if (only !== undefined && !DESTINATION_CASES.some((c) => c.id === only)) {
        throw new BenchError(`--only must be one of ${DESTINATION_CASES.map((c) => c.id).join(', ')}, not "${only}".`);
      }
      return (await runDestinationsBench({ scale, only, keep: values.keep })) ? 0 : 1;
    }
    case 'incremental': {
      const members = positiveNumber('members', values.members, DEFAULT_MEMBERS);
      if (!Number.isInteger(members) || members < 1000) throw new BenchError('--members must be a whole number of at least 1000.');
      if (values.only !== undefined && values.only !== 'iterable' && values.only !== 'campaign-monitor') {
        throw new BenchError(`--only must be iterable or campaign-monitor, not "${values.only}".`);
      }
      return (await runIncrementalBench({ members, keep: values.keep, only: values.only })) ? 0 : 1;
    }
    case 'scale': {
      const members = positiveNumber('members', values.members, DEFAULT_SCALE_MEMBERS);
      if (!Number.isInteger(members) || members < 1000) throw new BenchError('--members must be a whole number of at least 1000.');
      return (await runScaleBench({ members, keep: values.keep, resumeFirst: values['resume-first'] })) ? 0 : 1;
    }
    case 'workers': {
      const members = positiveNumber('members', values.members, DEFAULT_WORKER_MEMBERS);
      if (!Number.isInteger(members)) throw new BenchError('--members must be a whole number.');
      const limit = positiveNumber('limit', values.limit, DEFAULT_LIMIT);
      if (values.only !== undefined && values.only !== 'throughput' && values.only !== 'limit') throw new BenchError(`--only must be throughput or limit, not "${values.only}".`);
      return (await runWorkersBench({ members, limit, keep: values.keep, only: values.only })) ? 0 : 1;
    }
    case 'limiter': {
      const rate = positiveNumber('rate', values.rate, DEFAULT_LIMITER_RATE);
      const seconds = positiveNumber('seconds', values.seconds, DEFAULT_LIMITER_SECONDS);
      return (await runLimiterBench({ rate, seconds })) ? 0 : 1;
    }
    case 'queue': {
      const runs = positiveNumber('runs', values.runs, DEFAULT_RUNS);
      const members = positiveNumber('members', values.members, DEFAULT_QUEUE_MEMBERS);
      if (!Number.isInteger(runs) || !Number.isInteger(members) || members < 1000) throw new BenchError('--runs and --members must be whole numbers (members at least 1000).');
      return (await runQueueBench({ runs, members, keep: values.keep })) ? 0 : 1;
    }
    default:
      throw new BenchError(`Unknown benchmark "${name}".\n\n${USAGE}`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof BenchError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`error: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
}
