// Reads on the hot paths with their rows mapped by a mapper made once, instead of Drizzle's per row.
//
// Drizzle maps each row of a prepared select through `mapResultRow`: for every column of every row it
// asks what kind of field it is (`is()`, up the prototype chain), walks the field's path and looks the
// decoder up again. On a booking refused in a burst that was most of the Drizzle time the profile showed
// (issue 16): six reads a request. `fastRows` keeps Drizzle's SQL, placeholders and column decoders and
// does the rest once: the decoders are chosen when the statement is prepared, and a column that
// decodes to itself (text, plain integers) is copied as it is.
import { Column, fillPlaceholders, is, SQL } from 'drizzle-orm';
import type BetterSqlite3 from 'better-sqlite3';

/** How a column's stored value becomes its value; null: it is stored as it is used. */
type Decoder = ((value: unknown) => unknown) | null;

/** What a better-sqlite3 prepared select of Drizzle's holds (drizzle-orm/better-sqlite3/session.js). */
interface DrizzlePrepared {
  stmt: BetterSqlite3.Statement;
  query: { params: unknown[] };
  fields?: { path: string[]; field: unknown }[];
  customResultMapper?: unknown;
}

const identity = Column.prototype.mapFromDriverValue;

/** A field's decoder: a column's own, or (an sql expression) its `.mapWith()`, read as mapResultRow reads it. */
function decoderOf(field: Column | SQL): Decoder {
  if (is(field, Column)) {
    return field.mapFromDriverValue === identity ? null : (value) => field.mapFromDriverValue(value);
  }
  const decoder = (field as unknown as { decoder: { mapFromDriverValue: (value: unknown) => unknown } }).decoder;
  return (value) => decoder.mapFromDriverValue(value);
}

type Prepared = { get: (...args: never[]) => unknown; all: (...args: never[]) => unknown };

/**
 * The same statement, its rows mapped without Drizzle's per-row work. Only for a select of plain fields
 * (columns or `sql` expressions, one level deep, as `db.select()` and `db.select({ … })` make); anything
 * else (nested objects, relational queries) is refused when the statement is made, not when it runs.
 */
export function fastRows<Q extends Prepared>(prepared: Q): Pick<Q, 'get' | 'all'> {
  const inner = prepared as unknown as DrizzlePrepared;
  const fields = inner.fields;
  if (!fields || inner.customResultMapper || !fields.every((f) => f.path.length === 1 && (is(f.field, Column) || is(f.field, SQL)))) {
    throw new Error('fastRows: only a select of plain columns and sql expressions, one level deep');
  }
  const keys = fields.map((f) => f.path[0]!);
  const decoders = fields.map((f) => decoderOf(f.field as Column | SQL));
  const width = keys.length;
  // Rows as arrays, in the order of the fields (Drizzle asks for that too, on every call).
  const stmt = inner.stmt.raw(true);
  const params = inner.query.params;

  function map(row: unknown[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < width; i++) {
      const value = row[i];
      const decode = decoders[i];
      out[keys[i]!] = value === null || !decode ? value : decode(value);
    }
    return out;
  }

  return {
    get: ((values?: Record<string, unknown>) => {
      const row = stmt.get(...fillPlaceholders(params, values ?? {})) as unknown[] | undefined;
      return row === undefined ? undefined : map(row);
    }) as unknown as Q['get'],
    all: ((values?: Record<string, unknown>) =>
      (stmt.all(...fillPlaceholders(params, values ?? {})) as unknown[][]).map(map)) as unknown as Q['all'],
  };
}
