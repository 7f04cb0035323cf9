// DKIM: `convene cluster dkim` makes a cluster's key and prints the record to publish; every message of
// that cluster (a newsletter, an invitation, a booking email) is then signed, and an independent verifier
// (mailauth, resolving DNS from this test's own records) finds the signature valid and aligned with the
// From domain (DMARC passes on it). The instance can have its own key for mail from MAIL_FROM.
import { join } from 'node:path';
import t from 'tap';
import { authenticate } from 'mailauth';
import { systemClock } from '../src/lib/clock.js';
import { createMemberWithToken, publishHuddle } from './fixtures.js';
import { buildTestApp } from './helper.js';
import { newsletterSetup } from './helpers/newsletter.js';
import type { ReceivedMessage } from './helpers/smtp.js';

type Records = Map<string, string>;

/** DNS as the test publishes it: TXT records by name; everything else does not exist. */
function resolverOf(records: Records) {
  return async (name: string, type: string) => {
    const value = type === 'TXT' ? records.get(name.toLowerCase()) : undefined;
    if (value === undefined) throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
    return [[value]];
  };
}

async function verify(message: ReceivedMessage | string, records: Records) {
  const raw = typeof message === 'string' ? message : message.raw;
  const sender = typeof message === 'string' ? 'news@nw.example' : message.envelope.from;
  return authenticate(Buffer.from(raw), { ip: '127.0.0.1', helo: 'localhost', sender, mta: 'mx.test', resolver: resolverOf(records) });
}

t.test('a cluster with a key signs every message; the signature verifies and aligns with the From domain', async (t) => {
  const world = await newsletterSetup(t);
  const { run, sink, subscribe, write, services, database } = world;

  const early = await run('cluster', 'dkim', '--cluster', 'north-west');
  t.equal(early.code, 1);
  t.match(early.stderr, /north-west has no sender of its own: set one first/);
  services.clusters.update(
    'north-west',
    { sender: { name: 'North West HealthTec', address: 'news@nw.example', replyTo: 'team@nw.example' } },
    { type: 'cli', label: 'test' },
  );
  const made = await run('cluster', 'dkim', '--cluster', 'north-west', '--selector', 'nw2026', '--json');
  t.equal(made.code, 0, made.stderr);
  const answer = JSON.parse(made.stdout) as { record: { name: string; value: string }; signing: boolean };
  t.equal(answer.record.name, 'nw2026._domainkey.nw.example');
  t.match(answer.record.value, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{300,}={0,2}$/);
  t.equal(answer.signing, true);
  const text = await run('cluster', 'dkim', '--cluster', 'north-west', '--selector', 'nw2026b');
  t.match(text.stdout, /nw2026b\._domainkey\.nw\.example\. IN TXT \( "v=DKIM1; k=rsa; p=[^"]{200,}" "[^"]+" \)/, 'a zone-file line');
  // The second key replaced the first: publish that one.
  const published = JSON.parse((await run('cluster', 'dkim', '--cluster', 'north-west', '--selector', 'nw2026', '--json')).stdout);
  const stored = database.sqlite.prepare("SELECT dkim_key AS key FROM clusters WHERE slug = 'north-west'").get() as { key: string };
  t.match(stored.key, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/, 'the private key is stored sealed');
  t.notMatch(stored.key, /PRIVATE KEY|-----/, 'never as it is');
  const audit = database.sqlite.prepare("SELECT before, after FROM audit_events WHERE action = 'cluster.dkim_key_set'").all() as {
    before: string;
    after: string;
  }[];
  t.equal(audit.length, 3);
  t.notMatch(JSON.stringify(audit), /PRIVATE|v1\./, 'the audit log names the selector, not the key');

  const records: Records = new Map([
    [published.record.name, published.record.value],
    ['_dmarc.nw.example', 'v=DMARC1; p=reject'],
  ]);

  // A newsletter through the command line.
  subscribe('ada@example.org');
  const sent = await run(
    'newsletter',
    'send',
    '--cluster',
    'north-west',
    '--subject',
    'Winter news',
    '--body',
    write('n.md', 'Hello.\n'),
    '--yes',
  );
  t.equal(sent.code, 0, sent.stderr);
  // An invitation and a booking email through the API, on the same database.
  const { app } = await buildTestApp(t, {
    database: world.database,
    env: { SMTP_URL: sink.url, DATA_DIR: world.dataDir, DATABASE_PATH: join(world.dataDir, 'convene.db') },
  });
  const organiser = services.organisers.create(
    'north-west',
    { email: 'olivia@nw.example', name: 'Olivia' },
    { type: 'cli', label: 'test' },
  );
  const auth = { authorization: `Bearer ${organiser.apiKey}` };
  const huddle = await publishHuddle(app, auth, { pitch: { slotCount: 2 } });
  const invited = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddle}/invitations`,
    headers: auth,
    payload: { addresses: [{ email: 'grace@example.org' }] },
  });
  t.equal(invited.statusCode, 202);
  const member = createMemberWithToken(world.database, world.config, systemClock, 'north-west', {
    email: 'linus@example.org',
    organisation: 'Linus Ltd',
  });
  const booked = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddle}/bookings`,
    headers: member.auth,
    payload: { title: 'Gait' },
  });
  t.equal(booked.statusCode, 201, booked.body);
  await world.services.mail.worker({ concurrency: 2 }).drain();

  const newsletter = await sink.message('ada@example.org', 'Winter news');
  const invitation = await sink.message('grace@example.org', 'Invitation: Winter huddle');
  const confirmation = await sink.message('linus@example.org', 'Pitch confirmed: Winter huddle');
  for (const [what, message] of [
    ['newsletter', newsletter],
    ['invitation', invitation],
    ['booking email', confirmation],
  ] as const) {
    const result = await verify(message, records);
    const signature = result.dkim.results[0];
    t.equal(signature?.status.result, 'pass', `${what}: the DKIM signature verifies`);
    t.equal(signature?.signingDomain, 'nw.example', `${what}: signed by the From's domain`);
    t.equal(signature?.selector, 'nw2026');
    t.equal(result.dmarc && result.dmarc.status.result, 'pass', `${what}: DMARC passes on the aligned signature`);
  }
  const signed = /^DKIM-Signature:[\s\S]*?(?=^\S)/m.exec(newsletter.raw)![0].replace(/\s+/g, '');
  t.match(signed.toLowerCase(), /h=[^;]*list-unsubscribe-post/, 'List-Unsubscribe-Post is signed (RFC 8058)');
  t.match(signed.toLowerCase(), /h=[^;]*list-unsubscribe:/, 'and List-Unsubscribe');

  // Anything changed on the way fails the check.
  const tampered = newsletter.raw.replace('Hello.', 'Hello, send your bank details.');
  t.not(tampered, newsletter.raw);
  t.not((await verify(tampered, records)).dkim.results[0]?.status.result, 'pass', 'a changed body fails');
  // A record for another key fails too: the signature is tied to this key.
  const other = JSON.parse((await run('cluster', 'dkim', '--cluster', 'north-west', '--selector', 'nw2026', '--json')).stdout);
  const wrong = new Map(records).set(other.record.name, other.record.value);
  t.not((await verify(newsletter, wrong)).dkim.results[0]?.status.result, 'pass', 'verified against another key, it fails');
});

t.test('a cluster without a key sends unsigned; the instance key signs mail from MAIL_FROM', async (t) => {
  const world = await newsletterSetup(t, { env: { MAIL_FROM: 'Convene <news@convene-mail.example>' } });
  const keyFile = join(world.dataDir, 'dkim.pem');
  const made = await world.run('cluster', 'dkim', '--instance', '--selector', 'inst1', '--out', keyFile, '--json');
  t.equal(made.code, 0, made.stderr);
  const record = JSON.parse(made.stdout).record as { name: string; value: string };
  t.equal(record.name, 'inst1._domainkey.convene-mail.example');
  t.equal(
    (await world.run('cluster', 'dkim', '--instance', '--selector', 'inst1', '--out', keyFile)).code,
    1,
    'an existing key file is never overwritten',
  );

  world.subscribe('ada@example.org');
  const body = world.write('n.md', 'Hello.\n');
  const unsigned = await world.run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'Unsigned', '--body', body, '--yes');
  t.equal(unsigned.code, 0, unsigned.stderr);
  t.notMatch((await world.sink.message('ada@example.org', 'Unsigned')).raw, /^DKIM-Signature:/m, 'no key, no signature');

  const env = { ...world.env, DKIM_SELECTOR: 'inst1', DKIM_KEY_FILE: keyFile };
  const { runCli } = await import('../src/cli/index.js');
  let stderr = '';
  const code = await runCli(['newsletter', 'send', '--cluster', 'north-west', '--subject', 'Signed', '--body', body, '--yes'], {
    env,
    io: { stdout: () => undefined, stderr: (s) => (stderr += s), isTTY: false },
  });
  t.equal(code, 0, stderr);
  const message = await world.sink.message('ada@example.org', 'Signed');
  const result = await verify(
    message,
    new Map([
      [record.name, record.value],
      ['_dmarc.convene-mail.example', 'v=DMARC1; p=none'],
    ]),
  );
  t.equal(result.dkim.results[0]?.status.result, 'pass');
  t.equal(result.dkim.results[0]?.signingDomain, 'convene-mail.example');
  t.equal(result.dmarc && result.dmarc.status.result, 'pass');

  // A cluster's own sender, even on MAIL_FROM's domain, is never vouched for by the instance's key.
  world.services.clusters.update(
    'north-west',
    { sender: { name: 'NW', address: 'nw@convene-mail.example' } },
    { type: 'cli', label: 'test' },
  );
  const own = await runCli(['newsletter', 'send', '--cluster', 'north-west', '--subject', 'As the cluster', '--body', body, '--yes'], {
    env,
    io: { stdout: () => undefined, stderr: (s) => (stderr += s), isTTY: false },
  });
  t.equal(own, 0, stderr);
  t.notMatch((await world.sink.message('ada@example.org', 'As the cluster')).raw, /^DKIM-Signature:/m, 'not signed with the instance key');

  const broken = await runCli(['cluster', 'show', 'north-west'], {
    env: { ...env, DKIM_KEY_FILE: join(world.dataDir, 'missing.pem') },
    io: { stdout: () => undefined, stderr: (s) => (stderr = s), isTTY: false },
  });
  t.equal(broken, 1);
  t.match(stderr, /DKIM_KEY_FILE .*missing\.pem is not a readable PEM private key/);
});
