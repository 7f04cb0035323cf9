// The page words: a fixed sentence is written into the HTML as it is (the templates escape only values),
// so none may hold markup characters, or a word like "<token>" would vanish as an unknown tag.
import t from 'tap';
import { messages } from '../src/shared/messages.js';

/** Every fixed string of the catalogue, with its path ("console.keyMade"). */
function leaves(value: unknown, path: string[] = []): [string, string][] {
  if (typeof value === 'string') return [[path.join('.'), value]];
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, inner]) => leaves(inner, [...path, key]));
  return [];
}

t.test('no fixed sentence of the pages holds < or &', async (t) => {
  const all = leaves(messages);
  t.ok(all.length > 200, `the catalogue is read (${all.length} sentences)`);
  t.same(
    all.filter(([, text]) => /[<&]/.test(text)),
    [],
  );
});
