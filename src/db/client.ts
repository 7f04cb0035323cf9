// Opens the SQLite database with the pragmas Convene relies on, applies migrations, closes cleanly.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import Database from './driver.js';
import { sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { migrationsFolder } from '../lib/paths.js';
import { endTurn, enterGate, leaveGate, takeTurn, turnNow, writeGate, type WriteGate } from './write-gate.js';

export type Sqlite = BetterSqlite3.Database;
/** The Drizzle handle; `$client` is its better-sqlite3 connection. */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Sqlite };

export interface Database_ {
  db: Db;
  sqlite: Sqlite;
}

export { migrationsFolder };

/**
 * A prepared statement's placeholder whose value is bound as given, as the driver stores it (JSON
 * text, epoch milliseconds). Drizzle's own placeholders map values through the column, which turns a
 * null JSON value into the text "null" and cannot take a null timestamp.
 */
export const rawPlaceholder = (name: string) => sql`${sql.placeholder(name)}`;

export function openDatabase(path: string, options: { mustExist?: boolean } = {}): Database_ {
  if (path !== ':memory:' && !options.mustExist) mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path, { fileMustExist: options.mustExist === true });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Deleted rows are overwritten with zeros, not left in free pages: an erased address must leave no
  // copy in the file, nor so in any backup of it.
  sqlite.pragma('secure_delete = ON');
  // Searches match any case in any script: SQLite's own lower() changes only A to Z ("Émile" stays).
  // (PostgreSQL's lower() does this already.)
  sqlite.function('fold', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value));
  return { sqlite, db: drizzle(sqlite, { schema }) };
}

/** SQLite's default: a commit that takes the WAL past this many pages copies it back into the database file. */
const AUTO_CHECKPOINT_PAGES = 1000;

/**
 * Whether this connection's commits checkpoint the WAL themselves when it has grown (SQLite's automatic
 * checkpoint, on by default). The mail thread turns it off for its own connection and checkpoints after
 * its writes instead (checkpointAfterWrites).
 */
export function autoCheckpoint(sqlite: Sqlite, on: boolean): void {
  sqlite.pragma(`wal_autocheckpoint = ${on ? AUTO_CHECKPOINT_PAGES : 0}`);
}

/**
 * Copies what it can of the WAL into the database file, waiting for no reader or writer (PASSIVE): writers
 * carry on meanwhile, since it takes only the checkpointer's lock. Not inside a transaction. A failure goes
 * to `failed`, not to the caller: the next checkpoint tries again.
 */
export function checkpointPassive(sqlite: Sqlite, failed: (error: unknown) => void): void {
  try {
    sqlite.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    failed(error);
  }
}

/** Connections that checkpoint after their own write transactions (at most every `everyMs`), and when they last did. */
const checkpointers = new WeakMap<Sqlite, { everyMs: number; last: number; failed: (error: unknown) => void }>();

/**
 * From now on this connection checkpoints (PASSIVE) after its write transactions, once the write gate
 * is let go, at most every `everyMs`: as often as SQLite's automatic checkpoint would try while the
 * database is busy (so the WAL is still reused from its start), but with no one waiting for it.
 */
export function checkpointAfterWrites(sqlite: Sqlite, everyMs: number, failed: (error: unknown) => void): void {
  checkpointers.set(sqlite, { everyMs, last: 0, failed });
}

export function migrateDatabase(db: Db): void {
  migrate(db, { migrationsFolder });
}

/** Number of migrations in drizzle/ and how many of them this database has applied. */
let expectedMigrations: number | undefined;

export function migrationState(sqlite: Sqlite): { expected: number; applied: number } {
  expectedMigrations ??= (JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] })
    .entries.length;
  let applied = 0;
  try {
    applied = (sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n;
  } catch {
    applied = 0;
  }
  return { expected: expectedMigrations, applied };
}

/**
 * Closes the database. The server passes `checkpoint` on shutdown to fold the WAL back into the
 * main file; short-lived commands do not, since a TRUNCATE checkpoint waits on a running server.
 */
export function closeDatabase(sqlite: Sqlite, options: { checkpoint?: boolean } = {}): void {
  if (!sqlite.open) return;
  try {
    if (options.checkpoint) sqlite.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    sqlite.close();
  }
}

/**
 * After an erasure: copies the WAL into the main file and truncates it to nothing, so the page images
 * that still held the erased data (the WAL keeps every version written) are gone. Returns false when a
 * reader in another process kept it from finishing within busy_timeout; the next full checkpoint (at the
 * latest, the server's on shutdown) does it.
 */
export function forgetOldPages(db: Db): boolean {
  const result = db.get<{ busy: number }>(sql`PRAGMA wal_checkpoint(TRUNCATE)`);
  return result?.busy === 0;
}

/**
 * A database handle or an open transaction. The rule for functions that run inside their caller's
 * transaction: they take it as their first parameter, `tx`. One that runs only prepared statements
 * still takes it, named `_tx`: better-sqlite3 has one connection per database, so a prepared
 * statement runs inside whatever transaction is open on it, and the parameter says where it runs.
 */
export type DbOrTx = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

type Runner = BetterSqlite3.Transaction<(work: (tx: DbOrTx) => unknown, db: Db, asked: number) => unknown>;
/** One better-sqlite3 transaction function per connection, made on first use. */
const runners = new WeakMap<Sqlite, Runner>();
/** The write gate a connection shares with another thread's (src/db/write-gate.ts), if it does. */
const gates = new WeakMap<Sqlite, WriteGate>();

/**
 * From now on this connection's transactions (`immediate`) take the write gate in `memory` first,
 * shared with a connection on another thread of this process; `priority`: this side goes first.
 */
export function shareWriteGate(sqlite: Sqlite, memory: SharedArrayBuffer, options: { priority: boolean }): WriteGate {
  const gate = writeGate(memory, options);
  gates.set(sqlite, gate);
  return gate;
}

/** The times this connection's transactions waited for the write lock, held by another process (/metrics). */
export interface LockWaits {
  count: number;
  seconds: number;
  longestSeconds: number;
}
const waits = new WeakMap<Sqlite, LockWaits>();
/** Taking a free lock costs microseconds; SQLite's busy handler first sleeps a millisecond. */
const WAITED_MS = 0.5;

/** The times requests waited for a write turn (writeTurn), as a promise, not on the event loop (/metrics). */
const turnWaits = new WeakMap<Sqlite, LockWaits>();

function countsOf(map: WeakMap<Sqlite, LockWaits>, sqlite: Sqlite): LockWaits {
  let counted = map.get(sqlite);
  if (counted === undefined) {
    counted = { count: 0, seconds: 0, longestSeconds: 0 };
    map.set(sqlite, counted);
  }
  return counted;
}

export const lockWaits = (sqlite: Sqlite): LockWaits => countsOf(waits, sqlite);
export const writeTurnWaits = (sqlite: Sqlite): LockWaits => countsOf(turnWaits, sqlite);

function noteWait(sqlite: Sqlite, ms: number): void {
  count(lockWaits(sqlite), ms);
}

function count(counted: LockWaits, ms: number): void {
  if (ms < WAITED_MS) return;
  counted.count += 1;
  counted.seconds += ms / 1000;
  counted.longestSeconds = Math.max(counted.longestSeconds, ms / 1000);
}

/**
 * A turn at this connection's write gate (the side with priority: the server's requests), waited for
 * without blocking the event loop; its transactions until `end` is called take no gate and wait for no
 * lock. undefined when the connection shares no gate, or the wait gave up (its transactions wait at the
 * gate as usual). See src/plugins/write-turns.ts.
 */
export async function writeTurn(sqlite: Sqlite): Promise<{ end(): void } | undefined> {
  const gate = gates.get(sqlite);
  if (gate === undefined || !gate.priority) return undefined;
  if (!turnNow(gate)) {
    const asked = performance.now();
    const taken = await takeTurn(gate);
    count(writeTurnWaits(sqlite), performance.now() - asked);
    if (!taken) return undefined;
  }
  let ended = false;
  return {
    end() {
      if (ended) return;
      ended = true;
      endTurn(gate);
    },
  };
}

/** Runs `work` (which writes) in a write turn of its own (writeTurn), waited for as a promise. */
export async function inWriteTurn<T>(sqlite: Sqlite, work: () => T | Promise<T>): Promise<T> {
  const turn = await writeTurn(sqlite);
  try {
    return await work();
  } finally {
    turn?.end();
  }
}

/**
 * A write the caller need not wait for (bookkeeping, such as a token's last use): made at once when this
 * connection shares no write gate or its thread holds a turn; otherwise in a write turn of its own, so it
 * never waits at the gate on the event loop. A failure made at once is thrown; one made later goes to `failed`.
 */
export function writeSoon(db: Db, work: (tx: DbOrTx) => void, failed: (error: unknown) => void): void {
  const gate = gates.get(db.$client);
  if (gate === undefined || !gate.priority || gate.turns > 0) immediate(db, work);
  else inWriteTurn(db.$client, () => immediate(db, work)).catch(failed);
}

/**
 * Runs `work` in one synchronous IMMEDIATE transaction (the write lock is taken up front, so no
 * SQLITE_BUSY mid-way); inside another transaction, as a savepoint (a failure undoes only `work`).
 *
 * `work` gets the database handle itself: better-sqlite3 has one connection, so every statement runs
 * inside the open transaction. Drizzle's `db.transaction` would make a transaction object and a new
 * better-sqlite3 transaction function on every call, about 18 µs against 2 for BEGIN and COMMIT
 * (bench/FINDINGS.md); the function here is made once per connection.
 */
export function immediate<T>(db: Db, work: (tx: DbOrTx) => T): T {
  const sqlite = db.$client;
  let runner = runners.get(sqlite);
  if (runner === undefined) {
    // `asked`: when BEGIN IMMEDIATE was asked for; the time to get here is the wait for the lock.
    runner = sqlite.transaction((inner: (tx: DbOrTx) => unknown, handle: Db, asked: number) => {
      if (asked > 0) noteWait(sqlite, performance.now() - asked);
      return inner(handle);
    }) as Runner;
    runners.set(sqlite, runner);
  }
  // A savepoint inside an open transaction takes no lock.
  if (sqlite.inTransaction) return runner.immediate(work, db, 0) as T;
  const asked = performance.now();
  const gate = gates.get(sqlite);
  // The time at the gate counts as waiting for the lock, as the time in SQLite's busy handler does. In a
  // write turn (a request's) the gate is this thread's already.
  const inside = gate !== undefined && gate.turns === 0 && enterGate(gate);
  try {
    return runner.immediate(work, db, asked) as T;
  } finally {
    if (inside) leaveGate(gate);
    const checkpointer = checkpointers.get(sqlite);
    if (checkpointer !== undefined && performance.now() - checkpointer.last >= checkpointer.everyMs) {
      checkpointer.last = performance.now();
      // Its failure is not the transaction's: that one is thrown as it was.
      checkpointPassive(sqlite, checkpointer.failed);
    }
  }
}
