// chunks(): a list in pieces of at most a size, in order, nothing lost or repeated.
import t from 'tap';
import { chunks, IDS_PER_STATEMENT } from '../src/lib/chunks.js';

t.test('pieces of at most the size, in order, the last one shorter', async (t) => {
  const ids = Array.from({ length: 1201 }, (_, i) => `id${i}`);
  const pieces = [...chunks(ids)];
  t.same(
    pieces.map((p) => p.length),
    [IDS_PER_STATEMENT, IDS_PER_STATEMENT, 201],
  );
  t.same(pieces.flat(), ids, 'every item once, in order');
  t.same(
    [...chunks([1, 2, 3, 4], 2)],
    [
      [1, 2],
      [3, 4],
    ],
    'an exact multiple leaves no empty piece',
  );
  t.same([...chunks([], 3)], [], 'an empty list, no pieces');
});

t.test('a size that is not a positive integer is refused', async (t) => {
  for (const size of [0, -1, 1.5, Number.NaN]) t.throws(() => [...chunks([1], size)], RangeError, String(size));
});
