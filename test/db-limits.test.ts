// byLimit (src/db/limits.ts): one prepared statement per limit, with the limit written into its SQL (a bound
// LIMIT makes SQLite compile the statement again on every run), made once per limit and kept.
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import t from 'tap';
import { openDatabase } from '../src/db/client.js';
import { byLimit } from '../src/db/limits.js';
import { tempDir } from './helper.js';

const notes = sqliteTable('notes', { id: integer('id').primaryKey(), text: text('text').notNull() });

t.test('a statement per limit, the limit in its SQL, each made once', async (t) => {
  const { sqlite, db } = openDatabase(join(tempDir(t), 'limits.db'));
  t.teardown(() => sqlite.close());
  sqlite.exec(
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL); INSERT INTO notes (text) VALUES ('a'), ('b'), ('c'), ('d'), ('e')",
  );
  const made: { limit: number; sql: string; params: unknown[] }[] = [];
  const firstNotes = byLimit((limit) => {
    const query = db
      .select({ text: notes.text })
      .from(notes)
      .where(sql`${notes.id} > ${sql.placeholder('after')}`)
      .orderBy(asc(notes.id))
      .limit(limit);
    const { sql: text, params } = query.toSQL();
    made.push({ limit: made.length, sql: text, params });
    return query.prepare();
  }, 10);

  t.same(firstNotes(2).all({ after: 0 }), [{ text: 'a' }, { text: 'b' }]);
  t.same(firstNotes(2).all({ after: 2 }), [{ text: 'c' }, { text: 'd' }], 'the same statement with another binding');
  t.same(firstNotes(3).all({ after: 0 }), [{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
  t.same(firstNotes(0).all({ after: 0 }), []);
  t.same(firstNotes(10).all({ after: 1 }).length, 4, 'fewer rows than the limit');
  t.equal(firstNotes(2), firstNotes(2), 'kept: one statement per limit');
  t.same(
    made.map((m) => m.sql.replace(/.* limit /, 'limit ')),
    ['limit 2', 'limit 3', 'limit 0', 'limit 10'],
    'each prepared once, its limit written into the SQL',
  );
  t.ok(
    made.every((m) => m.params.length === 1),
    'nothing bound but the placeholder (a bound limit would be compiled again on every run)',
  );

  for (const wrong of [-1, 11, 2.5, Number.NaN]) {
    t.throws(() => firstNotes(wrong), RangeError, `a limit of ${wrong} is refused`);
  }
});
