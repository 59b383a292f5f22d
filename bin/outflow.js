#!/usr/bin/env node
// DuckDB's COPY into a FIFO, the FIFO reader and zlib all run on libuv's thread pool; the default four
// threads starve when two file parts are rendered at once. Must be set before the pool starts.
process.env.UV_THREADPOOL_SIZE ??= '16';

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
