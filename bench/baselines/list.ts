// Baseline: Fastify + better-sqlite3, a prepared range query for 50 rows by start time, each row's stored
// JSON joined into one {"items":[...]} body: the raw list with the same serialised size as a huddle page.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import Database from '../../src/db/driver.js';
import { announce } from '../servers/ready.js';

const db = new Database(':memory:');
db.exec('CREATE TABLE items (id TEXT PRIMARY KEY, starts_at INTEGER NOT NULL, body TEXT NOT NULL); CREATE INDEX items_start ON items (starts_at, id)');
const insert = db.prepare('INSERT INTO items (id, starts_at, body) VALUES (?, ?, ?)');
const starts: number[] = [];
const first = Date.now() + 86_400_000;
db.transaction(() => {
  for (let i = 0; i < 10_000; i++) {
    const id = randomUUID();
    const start = first + Math.floor(i / 50) * 1_800_000 + (i % 50) * 7 * 86_400_000;
    starts.push(start);
    // About the size of one huddle's public view.
    insert.run(id, start, JSON.stringify({ id, title: `Item ${i}`, description: 'x'.repeat(900), start: new Date(start).toISOString(), themes: ['data'] }));
  }
})();
const page = db.prepare('SELECT body FROM items WHERE starts_at >= ? AND starts_at < ? ORDER BY starts_at, id LIMIT 50').pluck();
const app = Fastify({ logger: false });
app.get('/items', async (request, reply) => {
  const query = request.query as { from: string; to: string };
  const bodies = page.all(Date.parse(query.from), Date.parse(query.to)) as string[];
  return reply.type('application/json').send(`{"items":[${bodies.join(',')}],"nextCursor":null}`);
});
await announce(app, { starts: starts.slice(0, 1000) });
