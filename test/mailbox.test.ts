// parseMailbox reads a bare address without the parser (it runs on every message a newsletter sends): it must
// read each one exactly as the parser's path would, and refuse what that path refuses.
import t from 'tap';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { isEmailAddress, parseMailbox } from '../src/lib/text.js';

/** The parser's path alone: what parseMailbox did for every value before the bare-address shortcut. */
function parsed(value: string, allowLocalhost: boolean) {
  const found = addressparser(value, { flatten: true }) as { name: string; address: string }[];
  if (found.length !== 1) return null;
  const [mailbox] = found as [{ name: string; address: string }];
  return isEmailAddress(mailbox.address, { allowLocalhost }) && !mailbox.name.includes('@') ? mailbox : null;
}

const bare = [
  'a@b.co',
  'A.B+c@x.example',
  "a!#$%&'*+/=?^_`{|}~-@b.co",
  'bounce+0193ab.c@returns.example',
  'a@123.45.67.89',
  'x@localhost',
  'a@@b',
  '@b.co',
  'a@b',
  'a.b@c..d',
  'ü@b.de',
  'a@b.co.',
  'a@b.co@c.de',
  '.a@b.co',
  'a@-b.co',
  'a@b.co=',
  'a@b_c.de',
  'a@b.co?x',
  `${'x'.repeat(250)}@b.co`,
  // Control characters: the parser drops them, so the shortcut must leave them to it.
  '\x00@localhost',
  'a\x1b@localhost',
  'a\x1b@b.co',
  'a@b.co\x7f',
  '',
];

t.test('a bare address is read as the parser reads it, and refused as it refuses', async (t) => {
  for (const value of bare) {
    for (const allowLocalhost of [false, true]) {
      t.same(
        parseMailbox(value, { allowLocalhost }),
        parsed(value, allowLocalhost),
        `${JSON.stringify(value)} (localhost ${allowLocalhost})`,
      );
    }
  }
  t.same(parseMailbox('a@b.co'), { address: 'a@b.co', name: '' });
  t.equal(parseMailbox('a@b'), null);
});

t.test('anything more than a bare address still goes through the parser', async (t) => {
  t.same(parseMailbox('Ada Lovelace <ada@b.co>'), { address: 'ada@b.co', name: 'Ada Lovelace' });
  t.same(parseMailbox(' ada@b.co '), { address: 'ada@b.co', name: '' });
  t.same(parseMailbox('"Lovelace, Ada" <ada@b.co>'), { address: 'ada@b.co', name: 'Lovelace, Ada' });
  t.equal(parseMailbox('ada@b.co, bob@b.co'), null, 'two mailboxes');
  t.equal(parseMailbox('ada@b.co;bob@b.co'), null, 'two mailboxes, no space');
  t.equal(parseMailbox('x@y.z <ada@b.co>'), null, 'a name that is an address');
  t.equal(parseMailbox('ada@b.co\r\nBcc: eve@b.co'), null, 'a line break');
  t.same(parseMailbox('group: ada@b.co;'), parsed('group: ada@b.co;', false), 'a group: as the parser reads it');
});
