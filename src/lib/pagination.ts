// Keyset pagination, one way for every list: a page is read with one row more than asked for, and
// its cursor names the last row shown by its sort key. Clients treat cursors as opaque (base64url of
// a JSON array); one this service did not give out is a 400.
import { problem } from '../errors.js';

export type CursorKey = (string | number)[];
/** What each element of a cursor must be: a record id (UUID) or a whole number (an instant in ms). */
export type CursorShape = ('id' | 'number')[];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The sort key a cursor names, or undefined for the first page. */
export function decodeCursor(cursor: string | undefined, shape: CursorShape): CursorKey | undefined {
  if (!cursor) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const fits =
    Array.isArray(key) &&
    key.length === shape.length &&
    shape.every((kind, i) => (kind === 'id' ? typeof key[i] === 'string' && ID.test(key[i]) : Number.isSafeInteger(key[i])));
  if (!fits) {
    throw problem('VALIDATION_FAILED', 'querystring/cursor is not a cursor this service gave out', {
      errors: [{ field: 'querystring/cursor', message: 'is not valid' }],
    });
  }
  return key as CursorKey;
}

/** The first `limit` of `rows` (read as limit + 1), and a cursor when there are more. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => CursorKey): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1]!)) };
}
