// Baseline for lists: Fastify + better-sqlite3, a prepared range query for 50 rows by start time, and the
// same serialisation as the app: each row holds a huddle's public view (made by the app's own huddleView
// from a synthetic row) as JSON, and the page goes out through Fastify with the app's HuddlePage
// response schema (fast-json-stringify). What the app adds on top is its own work per request.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import Database from '../../src/db/driver.js';
import { HuddlePage } from '../../src/modules/huddles/huddles.schemas.js';
import { huddleView } from '../../src/modules/huddles/huddles.view.js';
import { announce } from '../servers/ready.js';
import { syntheticHuddle } from './rows.js';

const db = new Database(':memory:');
db.exec(
  'CREATE TABLE items (id TEXT PRIMARY KEY, starts_at INTEGER NOT NULL, body TEXT NOT NULL); CREATE INDEX items_start ON items ' +
    '(starts_at, id)',
);
const insert = db.prepare('INSERT INTO items (id, starts_at, body) VALUES (?, ?, ?)');
const starts: number[] = [];
const first = Date.now() + 86_400_000;
const now = new Date();
db.transaction(() => {
  for (let i = 0; i < 10_000; i++) {
    const id = randomUUID();
    const start = first + Math.floor(i / 50) * 1_800_000 + (i % 50) * 7 * 86_400_000;
    starts.push(start);
    const row = syntheticHuddle(id, i, start, now);
    insert.run(id, start, JSON.stringify(huddleView(row, 'bench', 'https://convene.bench', 'public')));
  }
})();
const page = db.prepare('SELECT body FROM items WHERE starts_at >= ? AND starts_at < ? ORDER BY starts_at, id LIMIT 50').pluck();
const app = Fastify({ logger: false });
app.get('/items', { schema: { response: { 200: HuddlePage } } }, async (request) => {
  const query = request.query as { from: string; to: string };
  const bodies = page.all(Date.parse(query.from), Date.parse(query.to)) as string[];
  return { items: bodies.map((body) => JSON.parse(body) as unknown), nextCursor: null };
});
await announce(app, { starts: starts.slice(0, 1000) });
