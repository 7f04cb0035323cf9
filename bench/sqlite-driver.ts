// Times one parameterised query of the app's shape (a join ordered by a column of the second table) on
// the SQLite driver this Node loads, binding its parameter on every call (as the app does) against the
// same statement bound once. The two should cost about the same; when binding costs several times
// more, the driver's SQLite re-prepares the statement on every bind (SQLite 3.54.1 in better-sqlite3
// 13.1 and 13.2 did: 10 µs instead of 0.9 per call, a ratio of 0.1; bench/FINDINGS.md). Exits 1 below 0.3;
// CI runs it on Node 24. Not part of npm run bench.
//   npx tsx bench/sqlite-driver.ts          (Node 20: better-sqlite3 12; Node 24: better-sqlite3-napi)
import { performance } from 'node:perf_hooks';
import Database from '../src/db/driver.js';

const db = new Database(':memory:');
db.exec(`CREATE TABLE slots (id TEXT PRIMARY KEY, huddle_id TEXT NOT NULL, position INTEGER NOT NULL);
  CREATE TABLE bookings (id TEXT PRIMARY KEY, huddle_id TEXT NOT NULL, slot_id TEXT NOT NULL, status TEXT NOT NULL, title TEXT);
  CREATE INDEX bookings_huddle ON bookings (huddle_id, status);`);
const sql =
  'SELECT b.id, b.title, s.position FROM bookings b JOIN slots s ON s.id = b.slot_id ' +
  "WHERE b.huddle_id = ? AND b.status = 'confirmed' ORDER BY s.position";

function microseconds(call: () => unknown): number {
  for (let i = 0; i < 5_000; i++) call();
  const runs = 100_000;
  const began = performance.now();
  for (let i = 0; i < runs; i++) call();
  return ((performance.now() - began) * 1000) / runs;
}

const rebound = db.prepare(sql);
const boundOnce = db.prepare(sql).bind('h1');
const perBind = microseconds(() => rebound.all('h1'));
const once = microseconds(() => boundOnce.all());
const version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
const ratio = once / perBind;
const say = (line: string) => process.stdout.write(`${line}\n`);
say(`Node ${process.version}, SQLite ${version}`);
say(`bound on every call ${perBind.toFixed(2)} µs, bound once ${once.toFixed(2)} µs: ratio ${ratio.toFixed(2)} (goal ≥ 0.3)`);
if (ratio < 0.3) {
  say('binding re-prepares the statement: pin the driver to a build whose SQLite does not (package.json, bench/FINDINGS.md)');
  process.exitCode = 1;
}
