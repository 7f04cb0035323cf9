// Baseline for the web pages: Fastify + better-sqlite3, the huddle row read by id (or the next 50 rows
// by start time for a cluster's page), rendered with the app's own page components (@kitajs/html).
// What the app adds on top (its plugins, the cluster lookup, the agenda and places queries, caching
// headers) is its own work per request.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import Database from '../../src/db/driver.js';
import type { Cluster, Huddle } from '../../src/db/schema.js';
import { ClusterPage, EMPTY_SIGN_UP, HuddlePage } from '../../src/modules/site/site.views.js';
import { announce } from '../servers/ready.js';
import { syntheticHuddle } from './rows.js';

const db = new Database(':memory:');
db.exec(
  'CREATE TABLE items (id TEXT PRIMARY KEY, starts_at INTEGER NOT NULL, body TEXT NOT NULL); CREATE INDEX items_start ON items (starts_at, id)',
);
const insert = db.prepare('INSERT INTO items (id, starts_at, body) VALUES (?, ?, ?)');
const ids: string[] = [];
const first = Date.now() + 86_400_000;
const now = new Date();
db.transaction(() => {
  for (let i = 0; i < 10_000; i++) {
    const id = randomUUID();
    ids.push(id);
    const start = first + Math.floor(i / 50) * 1_800_000 + (i % 50) * 7 * 86_400_000;
    const row = syntheticHuddle(id, i, start, now);
    insert.run(id, start, JSON.stringify(row));
  }
})();
const revive = (body: string): Huddle => {
  const row = JSON.parse(body) as Huddle & { startsAt: string; endsAt: string };
  return { ...row, startsAt: new Date(row.startsAt), endsAt: new Date(row.endsAt) };
};
const cluster = { id: 'bench', slug: 'bench', name: 'Bench cluster', themes: ['data'], contactEmail: null } as unknown as Cluster;
const one = db.prepare('SELECT body FROM items WHERE id = ?').pluck();
const next = db.prepare('SELECT body FROM items WHERE starts_at >= ? ORDER BY starts_at, id LIMIT 50').pluck();
const app = Fastify({ logger: false });
app.get('/items/:id', async (request, reply) => {
  const body = one.get((request.params as { id: string }).id) as string | undefined;
  if (!body) return reply.code(404).send('not found');
  const page = (
    <HuddlePage
      huddle={revive(body)}
      cluster={cluster}
      baseUrl="https://convene.bench"
      placesLeft={null}
      agenda={[]}
      now={new Date()}
      viewer={null}
    />
  );
  return reply.type('text/html; charset=utf-8').send(page);
});
app.get('/cluster', async (_request, reply) => {
  const rows = (next.all(Date.now()) as string[]).map(revive);
  const page = <ClusterPage cluster={cluster} baseUrl="https://convene.bench" huddles={rows} theme={undefined} form={EMPTY_SIGN_UP} />;
  return reply.type('text/html; charset=utf-8').send(page);
});
await announce(app, { ids: ids.slice(0, 1000) });
