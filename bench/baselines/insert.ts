// Baseline: Fastify + better-sqlite3 (WAL, file database), one row inserted in an IMMEDIATE transaction per request.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import Database from '../../src/db/driver.js';
import { announce } from '../servers/ready.js';

const db = new Database(join(mkdtempSync(join(tmpdir(), 'convene-bench-')), 'insert.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE signups (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL)');
const insert = db.prepare('INSERT INTO signups (id, email, created_at) VALUES (?, ?, ?)');
const write = db.transaction((email: string) => insert.run(randomUUID(), email, Date.now()));
const app = Fastify({ logger: false });
app.post('/signups', async (request, reply) => {
  write.immediate(String((request.body as { email?: string }).email));
  return reply.code(202).send({ status: 'pending-confirmation' });
});
await announce(app);
