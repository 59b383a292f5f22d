import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunnerProcess } from '../src/server/runner-process.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { outflow, tempDir } from './support/cli.ts';
import { tokenForRole } from './support/server.ts';

// `outflow status` in embedded mode (no Redis): the server's own pool is the only worker. Scale-out mode is
// covered by scale-out.e2e.test.ts and queue-workers.test.ts.

const dirs: string[] = [];
let server: RunningServer | undefined;

afterAll(async () => {
  await server?.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function home(): string {
  const dir = tempDir('status');
  dirs.push(dir);
  return dir;
}

describe('outflow status, embedded mode', () => {
  it('without a server: the run records, and says that no server executes queued runs', async () => {
    const result = await outflow(home(), 'status', '--json');
    expect(result.code, result.stderr).toBe(0);
    const view = JSON.parse(result.stdout);
    expect(view).toMatchObject({ mode: 'embedded', queue: { waiting: 0, active: 0, delayed: 0 }, workers: [], limiter: [] });
    expect(view.note).toContain('No server is running');
  });

  it('GET /api/status answers any signed-in role with the server pool; the CLI prints the same through the server', async () => {
    const dir = home();
    server = await startServer({ dir, port: 0, concurrency: 3, env: { ...process.env, OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: 'status-test-password-1' } });
    for (const role of ['viewer', 'contributor', 'admin']) {
      const response = await fetch(`${server.url}/api/status`, { headers: { authorization: `Bearer ${await tokenForRole(server, role)}` } });
      expect(response.status).toBe(200);
      const view = (await response.json()) as { workers: unknown[] };
      expect(view).toMatchObject({ mode: 'embedded', queue: { waiting: 0, active: 0, delayed: 0 }, limiter: [] });
      // Runs execute in the server's runner process: its pid, not the server's.
      expect(view.workers).toEqual([expect.objectContaining({ id: 'server', pid: (server.runs as RunnerProcess).pid, concurrency: 3, runs: [] })]);
      expect((server.runs as RunnerProcess).pid).not.toBe(process.pid);
    }
    expect((await fetch(`${server.url}/api/status`)).status).toBe(401);
    const openapi = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, { get?: unknown }> };
    expect(openapi.paths['/api/v1/status']?.get).toBeDefined();

    const text = await outflow(dir, 'status');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Mode: embedded (the server executes runs itself)');
    expect(text.stdout).toMatch(/server\s+\S+ pid \d+\s+0\/3 busy\s+idle/);
  });
});
