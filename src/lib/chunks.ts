// A list cut into pieces of at most `size`, in order (pure). Statements over many ids go a piece at a
// time: each id in `IN (…)` is a bound variable, and SQLite before 3.32 allows 999 a statement.
export const IDS_PER_STATEMENT = 500;

export function* chunks<T>(items: readonly T[], size: number = IDS_PER_STATEMENT): Generator<T[]> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, not ${size}`);
  for (let from = 0; from < items.length; from += size) yield items.slice(from, from + size);
}
