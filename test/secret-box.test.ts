// Secrets sealed at rest (lib/secret-box.ts): they open only with the same secret and purpose, and a
// sealed value that was changed, cut short or moved to another purpose does not open.
import t from 'tap';
import { seal, unseal } from '../src/lib/secret-box.js';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';

t.test('opens with the same secret and purpose only; altered or truncated, it does not open', async (t) => {
  const sealed = seal(SECRET, 'dkim-key:cluster-a', 'the private key');
  t.notMatch(sealed, /private/);
  t.equal(unseal(SECRET, 'dkim-key:cluster-a', sealed), 'the private key');
  t.not(seal(SECRET, 'dkim-key:cluster-a', 'the private key'), sealed, 'a fresh IV each time');
  t.equal(unseal(`${SECRET}!`, 'dkim-key:cluster-a', sealed), null, 'another SECRET_KEY');
  t.equal(unseal(SECRET, 'dkim-key:cluster-b', sealed), null, 'copied to another cluster');
  const [version, iv, tag, body] = sealed.split('.') as [string, string, string, string];
  const shortTag = Buffer.from(tag, 'base64url').subarray(0, 4).toString('base64url');
  t.equal(unseal(SECRET, 'dkim-key:cluster-a', [version, iv, shortTag, body].join('.')), null, 'a cut-down tag is refused');
  const flipped = Buffer.from(body, 'base64url');
  flipped[0] = flipped[0]! ^ 1;
  t.equal(unseal(SECRET, 'dkim-key:cluster-a', [version, iv, tag, flipped.toString('base64url')].join('.')), null, 'a changed byte');
  t.equal(unseal(SECRET, 'dkim-key:cluster-a', 'v1.garbage'), null);
});
