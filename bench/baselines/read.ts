// Baseline: Fastify + better-sqlite3, one prepared single-row read by id, the row as JSON.
// The table holds 10,000 rows of about the size of a huddle's public view.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import Database from '../../src/db/driver.js';
import { announce } from '../servers/ready.js';

const db = new Database(':memory:');
db.exec('CREATE TABLE items (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO items (id, body) VALUES (?, ?)');
const ids: string[] = [];
db.transaction(() => {
  for (let i = 0; i < 10_000; i++) {
    const id = randomUUID();
    ids.push(id);
    insert.run(
      id,
      JSON.stringify({
        id,
        title: `Item ${i}`,
        description: 'x'.repeat(400),
        start: new Date().toISOString(),
        themes: ['data', 'devices'],
      }),
    );
  }
})();
const read = db.prepare('SELECT body FROM items WHERE id = ?');
const app = Fastify({ logger: false });
app.get('/items/:id', async (request, reply) => {
  const row = read.get((request.params as { id: string }).id) as { body: string } | undefined;
  if (!row) return reply.code(404).send({ code: 'NOT_FOUND' });
  return reply.type('application/json').send(row.body);
});
await announce(app, { ids: ids.slice(0, 1000) });
