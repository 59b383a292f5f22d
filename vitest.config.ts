import { defineConfig } from 'vitest/config';

// DuckDB COPY into a FIFO, the FIFO reader and zlib all use libuv's thread pool; four threads starve when
// two parts are rendered at once. Set before any worker starts so forks inherit it.
process.env.UV_THREADPOOL_SIZE ??= '16';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
