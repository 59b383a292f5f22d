import { defineConfig } from 'vitest/config';

// DuckDB COPY into a FIFO, the FIFO reader and zlib all use libuv's thread pool; four threads starve when
// two parts are rendered at once. Set before any worker starts so forks inherit it.
process.env.UV_THREADPOOL_SIZE ??= '16';

/**
 * The CLI suites run twice: as they are (the CLI opens the home itself), and with an Outflow server owning
 * each home, so every command goes through the REST API and must print the same. `accounts.e2e` stays out of
 * the second run: it starts from a home without users, and a server always has its first administrator.
 */
const cliSuites = [
  'test/cli.e2e.test.ts',
  'test/rejections.e2e.test.ts',
  'test/alerts.e2e.test.ts',
  'test/marketing.e2e.test.ts',
  'test/mirror.e2e.test.ts',
  'test/sync-regressions.e2e.test.ts',
  'test/edits.e2e.test.ts',
  'test/edit-versions.e2e.test.ts',
  'test/new-user.e2e.test.ts',
  'test/sftp-export.integration.test.ts',
  'test/sftp-faults.e2e.test.ts',
  'test/sftp-formulas.e2e.test.ts',
  'test/sftp-host-key.e2e.test.ts',
  'test/schedule.e2e.test.ts',
  'test/pgstore.e2e.test.ts',
  'test/config-as-code.e2e.test.ts',
  'test/names.e2e.test.ts',
];

const shared = {
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { test: { ...shared, name: 'direct', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] } },
      { test: { ...shared, name: 'via-server', include: cliSuites, env: { OUTFLOW_TEST_VIA_SERVER: '1' } } },
    ],
  },
});
