// Statements that differ only in their LIMIT, each prepared once with its limit written into the SQL.
//
// Why not one statement with `LIMIT ?`: SQLite (3.53, in both drivers) reads a bound LIMIT's value while it plans,
// so binding that parameter marks the statement to be compiled again before its next run, and
// better-sqlite3 binds every parameter on every run. Each call of such a statement was compiled anew:
// the outbox's due query took 35–45 µs a call with `LIMIT ?` against 8–10 with `LIMIT 2` (and 9 with
// `LIMIT (SELECT ?)`, which SQLite does not read while planning), and 0.3 ms a call inside a sending CLI
// (bench/FINDINGS.md, session 17).
import { sql, type Placeholder } from 'drizzle-orm';

/**
 * One prepared statement per limit: `prepare` is called with the limit to hand to Drizzle's `.limit()` the
 * first time that limit is asked for, and its statement kept. Limits are whole numbers from 0 to `most`;
 * a caller's are few (a worker's free slots, a page's size), so the statements kept are few.
 */
export function byLimit<S>(prepare: (limit: Placeholder) => S, most: number): (limit: number) => S {
  const made = new Map<number, S>();
  return (limit) => {
    if (!Number.isSafeInteger(limit) || limit < 0 || limit > most) {
      throw new RangeError(`a limit of ${limit}: only whole numbers from 0 to ${most}`);
    }
    let statement = made.get(limit);
    if (statement === undefined) {
      // Drizzle writes an SQL chunk given as the limit into the query as it is (a number it would bind).
      statement = prepare(sql.raw(String(limit)) as unknown as Placeholder);
      made.set(limit, statement);
    }
    return statement;
  };
}
