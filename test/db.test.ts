// Migrations apply to an empty database, and the committed migrations match the schema.
import { execFile } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { migrateDatabase, migrationState, migrationsFolder } from '../src/db/client.js';
import { createOutbox } from '../src/modules/outbox/outbox.service.js';
import { tempDir, testDatabase } from './helper.js';

t.test('migrations apply to an empty database with the pragmas Convene relies on', async (t) => {
  const database = testDatabase(t);
  t.same(migrationState(database.sqlite).applied, migrationState(database.sqlite).expected);
  const tables = database.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  for (const table of ['clusters', 'organisers', 'api_keys', 'audit_events', 'outbox']) {
    t.ok(
      tables.some((row) => row.name === table),
      `${table} exists`,
    );
  }
  t.equal(database.sqlite.pragma('foreign_keys', { simple: true }), 1);
  t.equal(database.sqlite.pragma('busy_timeout', { simple: true }), 5000);
  t.equal(database.sqlite.pragma('secure_delete', { simple: true }), 1, 'deleted rows are zeroed, not left in free pages');
});

t.test('the schema has no changes that drizzle-kit has not generated', async (t) => {
  const copy = join(tempDir(t), 'drizzle');
  cpSync(migrationsFolder, copy, { recursive: true });
  const before = readdirSync(copy).length;
  const root = new URL('..', import.meta.url).pathname;
  const { stdout, stderr } = await promisify(execFile)(
    join(root, 'node_modules/.bin/drizzle-kit'),
    ['generate', '--dialect', 'sqlite', '--schema', './src/db/schema.ts', '--out', relative(root, copy)],
    { cwd: root },
  );
  t.match(stdout + stderr, /No schema changes/, 'drizzle-kit found nothing to generate (run npm run db:generate)');
  t.equal(readdirSync(copy).length, before);
});

t.test('migration 0020 moves every queued message body to outbox_bodies, and the worker still sends it whole', async (t) => {
  // The migrations up to 0019 (a copy of the folder whose journal stops there), a message queued the old way, then all of them.
  const before = join(tempDir(t), 'drizzle');
  cpSync(migrationsFolder, before, { recursive: true });
  const journalFile = join(before, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
  const upTo = journal.entries.findIndex((entry) => entry.tag === '0020_outbox_bodies');
  t.ok(upTo > 0, 'migration 0020 is in the journal');
  writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }));
  const database = testDatabase(t, { migrate: false });
  migrate(database.db, { migrationsFolder: before });
  database.sqlite
    .prepare(
      `INSERT INTO outbox (id, message_id, kind, to_address, from_address, subject, text, html, headers, calendar_method, calendar,
        attachments, status, attempts, next_attempt_at, created_at)
       VALUES ('m1', '<m1@convene.test>', 'test', 'ann@example.org', 'Convene <convene@convene.test>', 'Old', 'Hello Ann',
        '<p>Hello Ann</p>', '{"X-Test":"1"}', 'REQUEST', 'BEGIN:VCALENDAR', '[{"filename":"a.txt","contentType":"text/plain","content":"aGk="}]',
        'queued', 0, 0, 0)`,
    )
    .run();
  migrateDatabase(database.db);
  t.same(migrationState(database.sqlite).applied, migrationState(database.sqlite).expected);
  const columns = (database.sqlite.prepare('PRAGMA table_info(outbox)').all() as { name: string }[]).map((column) => column.name);
  t.notOk(columns.includes('html'), 'the bodies left the outbox table');
  const clock = { now: () => new Date(1000) };
  const outbox = createOutbox({ db: database.db, clock, from: 'Convene <convene@convene.test>', messageIdDomain: 'convene.test' });
  const [row] = outbox.claim(1, 60_000);
  t.match(row, {
    id: 'm1',
    subject: 'Old',
    text: 'Hello Ann',
    html: '<p>Hello Ann</p>',
    headers: { 'X-Test': '1' },
    calendarMethod: 'REQUEST',
    calendar: 'BEGIN:VCALENDAR',
    attachments: [{ filename: 'a.txt', content: 'aGk=' }],
    status: 'sending',
    attempts: 1,
  });
  database.sqlite.prepare('DELETE FROM outbox').run();
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM outbox_bodies').get() as { n: number }).n, 0, 'a body goes with its row');
});
