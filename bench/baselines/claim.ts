// Baseline for booking bursts: Fastify + better-sqlite3 (WAL, file database), a conditional insert in an
// IMMEDIATE transaction: 201 while the burst's 10 places last, 409 after.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import Database from '../../src/db/driver.js';
import { announce } from '../servers/ready.js';

const PLACES = 10;
const db = new Database(join(mkdtempSync(join(tmpdir(), 'convene-bench-')), 'claim.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(
  'CREATE TABLE claims (id TEXT PRIMARY KEY, burst TEXT NOT NULL, member TEXT NOT NULL, place INTEGER NOT NULL, UNIQUE (burst, ' +
    'place), UNIQUE (burst, member))',
);
const taken = db.prepare('SELECT count(*) FROM claims WHERE burst = ?').pluck();
const insert = db.prepare('INSERT INTO claims (id, burst, member, place) VALUES (?, ?, ?, ?)');
const claim = db.transaction((burst: string, member: string) => {
  const count = taken.get(burst) as number;
  if (count >= PLACES) return false;
  insert.run(randomUUID(), burst, member, count + 1);
  return true;
});
const app = Fastify({ logger: false });
app.post('/bursts/:burst/claims', async (request, reply) => {
  const { burst } = request.params as { burst: string };
  const ok = claim.immediate(burst, String((request.body as { member?: string }).member));
  return ok ? reply.code(201).send({ place: 'yours' }) : reply.code(409).send({ code: 'NO_SLOTS_LEFT' });
});
await announce(app);
