// Migrations apply to an empty database, and the committed migrations match the schema.
import { execFile } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { migrationState, migrationsFolder } from '../src/db/client.js';
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
