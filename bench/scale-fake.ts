import http from 'node:http';

// A lean Iterable for `npm run bench -- scale`, run as a process of its own so its memory is not Outflow's:
// the list routes Outflow's Iterable destination calls, with Iterable's answers (api-key header, the 4 MB body
// limit, invalid e-mails named in `failedUpdates`), no rate limit and no latency. The full fake
// (src/destinations/iterable/fake-iterable.ts) keeps a user object per address, several GB at 10M members;
// this one keeps a list's members as 52-bit hashes of their addresses, enough to count them.
//
// Prints `{"url": …}` on stdout once listening; GET /__stats answers each list's member count.

const API_KEY = process.env.SCALE_FAKE_API_KEY ?? 'bench-scale-key';
const MAX_BODY_BYTES = 4_000_000;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

interface List {
  id: number;
  name: string;
  createdAt: number;
  members: Set<number>;
}
const lists = new Map<number, List>();
let nextId = 1;
let requests = 0;

/** Two 32-bit FNV-1a variants combined into a 52-bit number: exact enough to count 10M distinct addresses. */
function hash52(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) * 2 ** 20 + ((b >>> 0) & 0xfffff);
}

function envelope(msg: string, code: string) {
  return { msg, code, params: null };
}

function bulk(body: Record<string, unknown>, add: boolean) {
  const list = lists.get(Number(body.listId));
  if (!list) return { status: 400, body: envelope(`List ${String(body.listId)} does not exist`, 'BadParams') };
  if (!Array.isArray(body.subscribers)) return { status: 400, body: envelope('subscribers is required', 'BadParams') };
  let successCount = 0;
  const invalid: string[] = [];
  for (const subscriber of body.subscribers as Array<Record<string, unknown>>) {
    const email = typeof subscriber.email === 'string' ? subscriber.email : '';
    if (!EMAIL.test(email)) {
      invalid.push(email);
      continue;
    }
    if (add) list.members.add(hash52(email));
    else list.members.delete(hash52(email));
    successCount += 1;
  }
  return {
    status: 200,
    body: {
      successCount,
      failCount: invalid.length,
      invalidEmails: invalid,
      invalidUserIds: [],
      createdFields: [],
      filteredOutFields: [],
      failedUpdates: { invalidEmails: invalid, invalidUserIds: [], notFoundEmails: [], notFoundUserIds: [] },
    },
  };
}

function route(method: string, path: string, text: string): { status: number; body: unknown } {
  const json = () => JSON.parse(text) as Record<string, unknown>;
  if (method === 'GET' && path === '/__stats') return { status: 200, body: { requests, lists: [...lists.values()].map((l) => ({ id: l.id, name: l.name, members: l.members.size })) } };
  if (method === 'GET' && path === '/api/lists') {
    return { status: 200, body: { lists: [...lists.values()].map((l) => ({ id: l.id, name: l.name, createdAt: l.createdAt, listType: 'Standard' })) } };
  }
  if (method === 'POST' && path === '/api/lists') {
    const body = json();
    if (typeof body.name !== 'string' || body.name === '') return { status: 400, body: envelope('name is required', 'BadParams') };
    const list: List = { id: nextId++, name: body.name, createdAt: Date.now(), members: new Set() };
    lists.set(list.id, list);
    return { status: 200, body: { listId: list.id } };
  }
  if (method === 'POST' && path === '/api/lists/subscribe') return bulk(json(), true);
  if (method === 'POST' && path === '/api/lists/unsubscribe') return bulk(json(), false);
  return { status: 404, body: envelope(`No route ${method} ${path}`, 'NotFound') };
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    requests += 1;
    const path = (req.url ?? '/').split('?')[0]!;
    let answer: { status: number; body: unknown };
    if (path !== '/__stats' && req.headers['api-key'] !== API_KEY) answer = { status: 401, body: envelope('Invalid API key', 'BadApiKey') };
    else if (bytes > MAX_BODY_BYTES) answer = { status: 400, body: envelope(`Request body of ${bytes} bytes exceeds ${MAX_BODY_BYTES}`, 'BatchTooLarge') };
    else {
      try {
        answer = route(req.method ?? 'GET', path, Buffer.concat(chunks).toString('utf8'));
      } catch {
        answer = { status: 400, body: envelope('Could not parse the JSON body', 'BadJsonBody') };
      }
    }
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
