// The cache of serialised huddle views: exact versions only, and a bounded size, oldest out first.
import t from 'tap';
import { createViewCache } from '../src/modules/huddles/huddles.view-cache.js';

t.test('a view is served only at the version it was kept for', async (t) => {
  const views = createViewCache(100);
  views.set('public:a', 1, '{"v":1}');
  t.equal(views.get('public:a', 1), '{"v":1}');
  t.equal(views.get('public:a', 2), undefined, 'a newer row is not served an old view');
  t.equal(views.get('organiser:a', 1), undefined, 'audiences are kept apart');
  views.set('public:a', 2, '{"v":2}');
  t.equal(views.get('public:a', 1), undefined);
  t.equal(views.get('public:a', 2), '{"v":2}');
});

t.test('the views kept stay within the budget; the oldest go first', async (t) => {
  const views = createViewCache(30);
  for (const key of ['a', 'b', 'c']) views.set(key, 1, 'x'.repeat(10));
  t.equal(views.get('a', 1), 'x'.repeat(10), 'three of ten fit in thirty');
  views.set('d', 1, 'y'.repeat(15));
  t.equal(views.get('a', 1), undefined, 'the oldest went');
  t.equal(views.get('b', 1), undefined, 'and the next, to make room');
  t.equal(views.get('c', 1), 'x'.repeat(10));
  t.equal(views.get('d', 1), 'y'.repeat(15));
  views.set('c', 2, 'z'.repeat(15));
  t.equal(views.get('d', 1), 'y'.repeat(15), 'replacing a view frees its own room first');
  views.set('big', 1, 'w'.repeat(50));
  t.equal(views.get('big', 1), 'w'.repeat(50), 'a view larger than the budget is still kept, alone');
  t.equal(views.get('c', 2), undefined);
});

t.test('replacing a view many times frees its room each time', async (t) => {
  const views = createViewCache(30);
  views.set('kept', 1, 'k'.repeat(10));
  for (let version = 1; version <= 10; version++) views.set('edited', version, 'e'.repeat(10));
  t.equal(views.get('kept', 1), 'k'.repeat(10), 'the other view is still there');
  t.equal(views.get('edited', 10), 'e'.repeat(10));
});
