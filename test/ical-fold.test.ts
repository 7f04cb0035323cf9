// Our line folding must give exactly what ical-generator's foldLines gives (it replaced it for speed),
// and every folded line must be at most 75 octets without a split UTF-8 character.
import fc from 'fast-check';
import { foldLines as reference } from 'ical-generator';
import t from 'tap';
import { foldLines } from '../src/lib/ical-fold.js';

const line = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
);
const text = fc
  .array(
    line.map((s) => s.replace(/\r\n/g, '')),
    { minLength: 1, maxLength: 6 },
  )
  .map((lines) => lines.join('\r\n'));

t.test('folds exactly as ical-generator does', async (t) => {
  const outcome = fc.check(
    fc.property(text, (input) => foldLines(input) === reference(input)),
    { numRuns: 3000, seed: 20261123 },
  );
  t.equal(
    outcome.failed,
    false,
    outcome.counterexample ? `differs for ${JSON.stringify(outcome.counterexample)}` : '3,000 texts fold alike',
  );
});

t.test('folded lines are at most 75 octets and whole characters', async (t) => {
  const description = 'DESCRIPTION:' + 'Pitches from the north-west cluster — über café, 日本語, and emoji 💥🚀 '.repeat(6);
  const folded = foldLines(description);
  const lines = folded.split('\r\n');
  t.ok(lines.length > 3, 'the long line was folded');
  for (const [i, piece] of lines.entries()) {
    t.ok(Buffer.byteLength(piece) <= 75, `line ${i} has ${Buffer.byteLength(piece)} octets`);
    t.notMatch(piece, /\ufffd/, `line ${i} has no broken character`);
    if (i > 0) t.equal(piece[0], ' ', `line ${i} starts with the folding space`);
  }
  t.equal(lines.map((piece, i) => (i > 0 ? piece.slice(1) : piece)).join(''), description, 'unfolding gives the line back');
});
