import { startServer } from './src/server/serve.ts';
import fs from 'node:fs';
const s = await startServer({ dir: '/tmp/typed-exp/home', port: 0, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: 'openapi-test-password-1' } });
const doc = await (await fetch(`${s.url}/api/v1/openapi.json`)).json();
fs.writeFileSync('/tmp/typed-exp/openapi.json', JSON.stringify(doc, null, 2));
await s.close();
