// Newsletter sign-up, double opt-in, the consent ledger, one-click unsubscribe, preferences, and the organiser's tools.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { manualClock } from '../src/lib/clock.js';

async function setup(t: Test) {
  const clock = manualClock('2026-11-23T09:00:00Z');
  const built = await buildTestApp(t, { clock });
  const org = createClusterWithOrganiser(built.database, 'north-west', clock);
  const signUp = (payload: Record<string, unknown>) =>
    built.app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/subscriptions',
      headers: { 'user-agent': 'TestBrowser/1.0' },
      payload,
    });
  /** Emails queued so far to an address (the outbox, in order). */
  const outboxTo = (email: string) =>
    built.database.sqlite
      .prepare('SELECT kind, subject, text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE to_address = ? ORDER BY created_at, id')
      .all(email) as {
      kind: string;
      subject: string;
      text: string;
    }[];
  const linkIn = (text: string, path: string) => {
    const match = new RegExp(`https://convene\\.test(${path.replace('/', '\\/')}\\?token=[^\\s"]+)`).exec(text);
    if (!match) throw new Error(`no ${path} link in ${text}`);
    return match[1]!;
  };
  const status = (email: string) =>
    (built.database.sqlite.prepare('SELECT status FROM subscribers WHERE email = ?').get(email) as { status: string } | undefined)?.status;
  // Sign-up work runs after the 202 is sent: give it a turn of the event loop.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  return { ...built, ...org, clock, signUp, outboxTo, linkIn, status, settle };
}

t.test('double opt-in: the confirmation link shows a button, only the POST confirms, and the ledger records it', async (t) => {
  const { app, signUp, outboxTo, linkIn, status, settle, database } = await setup(t);
  const response = await signUp({ email: '  Ada@Example.org ', name: 'Ada', topics: ['newsletter', 'huddle-invites'] });
  t.equal(response.statusCode, 202);
  t.same(response.json(), {
    status: 'pending-confirmation',
    detail: 'Check your inbox: we have sent a link to confirm. Nothing else is sent until you do.',
  });
  await settle();
  t.equal(status('ada@example.org'), 'pending', 'normalised: lower case, trimmed');
  const [confirmation] = outboxTo('ada@example.org');
  t.equal(confirmation?.subject, 'Please confirm: Cluster north-west emails');
  const link = linkIn(confirmation!.text, '/subscriptions/confirm');
  const page = await app.inject({ url: link });
  t.equal(page.statusCode, 200);
  t.match(page.body, /Confirm my subscription/);
  t.equal(status('ada@example.org'), 'pending', 'GET changed nothing');
  const token = decodeURIComponent(link.split('token=')[1]!);
  const confirmed = await app.inject({
    method: 'POST',
    url: '/subscriptions/confirm',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'TestBrowser/1.0' },
    payload: `token=${encodeURIComponent(token)}`,
  });
  t.equal(confirmed.statusCode, 200);
  t.match(confirmed.body, /You are subscribed/);
  t.equal(status('ada@example.org'), 'confirmed');
  const events = database.sqlite.prepare('SELECT kind, source, wording_version, ip, user_agent FROM consent_events ORDER BY at, id').all();
  t.match(events, [
    { kind: 'requested', source: 'api', wording_version: '2026-11-23', ip: '127.0.0.1', user_agent: 'TestBrowser/1.0' },
    { kind: 'confirmed', source: 'email-link', wording_version: '2026-11-23' },
  ]);
  t.equal(
    (await app.inject({ url: `/subscriptions/confirm?token=${encodeURIComponent(token.slice(0, -3) + 'abc')}` })).statusCode,
    404,
    'a forged token is refused',
  );
});

t.test('sign-up answers are identical for new, pending, confirmed and suppressed addresses', async (t) => {
  const { app, signUp, outboxTo, linkIn, settle, clock, auth } = await setup(t);
  await signUp({ email: 'confirmed@example.org' });
  await settle();
  const token = decodeURIComponent(linkIn(outboxTo('confirmed@example.org')[0]!.text, '/subscriptions/confirm').split('token=')[1]!);
  await app.inject({
    method: 'POST',
    url: '/subscriptions/confirm',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${encodeURIComponent(token)}`,
  });
  await signUp({ email: 'pending@example.org' });
  await signUp({ email: 'erased@example.org' });
  await settle();
  const erasedId = (await app.inject({ url: '/v1/clusters/north-west/subscribers?status=pending', headers: auth }))
    .json()
    .items.find((s: { email: string }) => s.email === 'erased@example.org').id;
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/subscribers/${erasedId}`, headers: auth })).statusCode, 204);
  clock.advance(11 * 60_000);

  const answers = [];
  for (const email of ['new@example.org', 'pending@example.org', 'confirmed@example.org', 'erased@example.org'])
    answers.push(await signUp({ email }));
  await settle();
  t.same(
    new Set(answers.map((a) => `${a.statusCode} ${a.headers['content-type']} ${a.body}`)).size,
    1,
    'status, type and body the same for all four',
  );
  t.same(
    outboxTo('new@example.org').map((m) => m.kind),
    ['subscription.confirm'],
  );
  t.same(
    outboxTo('pending@example.org').map((m) => m.kind),
    ['subscription.confirm', 'subscription.confirm'],
    'pending: the confirmation again',
  );
  t.same(
    outboxTo('confirmed@example.org').map((m) => m.kind),
    ['subscription.confirm', 'subscription.already'],
    'confirmed: "already subscribed" with a preferences link',
  );
  t.match(outboxTo('confirmed@example.org')[1]!.text, /\/preferences\?token=/);
  t.same(outboxTo('erased@example.org'), [], 'erased: its old mail is forgotten and nothing new is sent');

  await signUp({ email: 'pending@example.org' });
  await settle();
  t.equal(outboxTo('pending@example.org').length, 2, 'a repeat within 10 minutes sends nothing');
  await signUp({ email: 'robot@example.org', website: 'http://spam.example' });
  await settle();
  t.same(outboxTo('robot@example.org'), [], 'the honeypot catches robots');
});

t.test('bad sign-ups are 400 and change nothing; sign-ups are rate-limited per client', async (t) => {
  const { signUp, database } = await setup(t);
  t.equal((await signUp({ email: 'not an address' })).statusCode, 400);
  t.equal((await signUp({ email: 'x@example.org', topics: ['everything'] })).statusCode, 400);
  t.equal((await signUp({ email: 'x@example.org', themes: ['astrology'] })).statusCode, 400);
  t.equal((await signUp({ email: 'x@example.org', extra: true })).statusCode, 400);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM subscribers').get() as { n: number }).n, 0);
  const answers = [];
  for (let i = 0; i < 8; i++) answers.push((await signUp({ email: `p${i}@example.org` })).statusCode);
  t.same(answers.slice(0, 6), [202, 202, 202, 202, 202, 202]);
  const limited = await signUp({ email: 'late@example.org' });
  t.equal(limited.statusCode, 429, 'ten a minute from one client');
  t.match(limited.headers['content-type'], /application\/problem\+json/);
});

t.test('one-click unsubscribe in both content types; GET never unsubscribes; it is idempotent', async (t) => {
  const { app, signUp, outboxTo, linkIn, status, settle, database } = await setup(t);
  const confirm = async (email: string) => {
    await signUp({ email });
    await settle();
    const token = decodeURIComponent(linkIn(outboxTo(email)[0]!.text, '/subscriptions/confirm').split('token=')[1]!);
    const subscriber = database.sqlite.prepare('SELECT id FROM subscribers WHERE email = ?').get(email) as { id: string };
    await app.inject({
      method: 'POST',
      url: '/subscriptions/confirm',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(token)}`,
    });
    return subscriber.id;
  };
  const { signLink } = await import('../src/lib/signed-links.js');
  const { TEST_SECRET } = await import('./helper.js');
  const unsubscribeUrl = (id: string) => `/unsubscribe?token=${encodeURIComponent(signLink(TEST_SECRET, 'unsubscribe', id))}`;

  const ada = await confirm('ada@example.org');
  const page = await app.inject({ url: unsubscribeUrl(ada) });
  t.equal(page.statusCode, 200);
  t.match(page.body, /<button type="submit">Unsubscribe<\/button>/);
  t.equal(status('ada@example.org'), 'confirmed', 'GET changed nothing');
  const form = await app.inject({
    method: 'POST',
    url: unsubscribeUrl(ada),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'List-Unsubscribe=One-Click',
  });
  t.equal(form.statusCode, 200);
  t.equal(status('ada@example.org'), 'unsubscribed');
  t.equal(
    (
      await app.inject({
        method: 'POST',
        url: unsubscribeUrl(ada),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      })
    ).statusCode,
    200,
    'idempotent',
  );

  const grace = await confirm('grace@example.org');
  const boundary = '----convene-test';
  const multipartBody = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
  const multi = await app.inject({
    method: 'POST',
    url: unsubscribeUrl(grace),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: multipartBody,
  });
  t.equal(multi.statusCode, 200, multi.body);
  t.equal(status('grace@example.org'), 'unsubscribed', 'multipart/form-data one-click works');
  const kinds = database.sqlite.prepare("SELECT source FROM consent_events WHERE kind = 'unsubscribed'").all();
  t.same(kinds, [{ source: 'one-click' }, { source: 'one-click' }], 'one ledger entry each, from one-click');
  t.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/unsubscribe?token=bogus.token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      })
    ).statusCode,
    404,
  );
  const confirmToken = signLink(TEST_SECRET, 'subscription-confirm', grace);
  t.equal(
    (
      await app.inject({
        method: 'POST',
        url: `/unsubscribe?token=${encodeURIComponent(confirmToken)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      })
    ).statusCode,
    404,
    'tokens are bound to their purpose',
  );
});

t.test("preferences, the organiser's list, CSV, export and erasure; subscribers as an invitation audience", async (t) => {
  const { app, signUp, outboxTo, linkIn, settle, auth, database, clock } = await setup(t);
  for (const [email, topics] of [
    ['ada@example.org', ['newsletter', 'huddle-invites']],
    ['bob@example.org', ['newsletter']],
    ['cat@example.org', ['huddle-invites']],
  ] as const) {
    await signUp({ email, topics });
    await settle();
    const token = decodeURIComponent(linkIn(outboxTo(email)[0]!.text, '/subscriptions/confirm').split('token=')[1]!);
    if (email !== 'cat@example.org')
      await app.inject({
        method: 'POST',
        url: '/subscriptions/confirm',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `token=${encodeURIComponent(token)}`,
      });
  }
  const list = await app.inject({ url: '/v1/clusters/north-west/subscribers?status=confirmed', headers: auth });
  t.same(
    list.json().items.map((s: { email: string }) => s.email),
    ['ada@example.org', 'bob@example.org'],
  );
  const byTopic = await app.inject({ url: '/v1/clusters/north-west/subscribers?topic=huddle-invites', headers: auth });
  t.same(
    byTopic.json().items.map((s: { email: string }) => s.email),
    ['ada@example.org', 'cat@example.org'],
  );
  const csv = await app.inject({ url: '/v1/clusters/north-west/subscribers', headers: { ...auth, accept: 'text/csv' } });
  t.match(
    csv.body,
    /^email,name,status,topics,themes,created_at,confirmed_at,unsubscribed_at\nada@example.org,,confirmed,newsletter huddle-invites,/,
  );

  // The invitations' subscribers audience: confirmed and chose huddle-invites (Ada only; Cat is pending).
  const huddle = (
    await app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/huddles',
      headers: auth,
      payload: { title: 'Huddle', start: '2026-12-01T09:30', durationMinutes: 60, venue: { name: 'Hall' }, status: 'published' },
    })
  ).json();
  t.same(
    (
      await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/invitations`, headers: auth, payload: { audience: 'subscribers' } })
    ).json(),
    { invited: 1, alreadyInvited: 0 },
  );
  t.same(
    outboxTo('cat@example.org').map((m) => m.kind),
    ['subscription.confirm'],
    'a pending sign-up gets nothing but its confirmation',
  );

  // Preferences: Bob adds the invitations topic; unticking everything unsubscribes.
  const { signLink } = await import('../src/lib/signed-links.js');
  const { TEST_SECRET } = await import('./helper.js');
  const bobId = list.json().items[1].id;
  const prefsToken = signLink(TEST_SECRET, 'subscription-preferences', bobId);
  t.match(
    (await app.inject({ url: `/preferences?token=${encodeURIComponent(prefsToken)}` })).body,
    /name="topics" value="newsletter" checked/,
  );
  const saved = await app.inject({
    method: 'POST',
    url: '/preferences',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${encodeURIComponent(prefsToken)}&topics=newsletter&topics=huddle-invites&themes=data`,
  });
  t.equal(saved.statusCode, 200);
  t.match((await app.inject({ url: `/v1/subscribers/${bobId}/export`, headers: auth })).json().subscriber, {
    topics: ['newsletter', 'huddle-invites'],
    themes: ['data'],
  });

  // Export: the record and the consent ledger. Erasure: gone, and never mailed again.
  const adaId = list.json().items[0].id;
  const exported = (await app.inject({ url: `/v1/subscribers/${adaId}/export`, headers: auth })).json();
  t.equal(exported.subscriber.email, 'ada@example.org');
  t.same(
    exported.consent.map((e: { kind: string }) => e.kind),
    ['requested', 'confirmed'],
  );
  const other = createClusterWithOrganiser(database, 'west-midlands', clock);
  t.equal(
    (await app.inject({ url: `/v1/subscribers/${adaId}/export`, headers: other.auth })).statusCode,
    404,
    'another cluster sees nothing',
  );
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/subscribers/${adaId}`, headers: other.auth })).statusCode, 404);
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/subscribers/${adaId}`, headers: auth })).statusCode, 204);
  t.equal((await app.inject({ url: `/v1/subscribers/${adaId}/export`, headers: auth })).statusCode, 404);
  const left = database.sqlite.prepare("SELECT count(*) AS n FROM subscribers WHERE email = 'ada@example.org'").get() as { n: number };
  t.equal(left.n, 0, 'the record is gone');
  const trace = database.sqlite
    .prepare('SELECT count(*) AS n FROM consent_events WHERE ip IS NOT NULL AND subscriber_id IS NULL')
    .get() as { n: number };
  t.equal(trace.n, 0, 'no IP address left behind');
  t.notMatch(JSON.stringify(database.sqlite.prepare('SELECT * FROM consent_events').all()), /ada@example/, 'the ledger holds no address');
  clock.advance(11 * 60_000);
  const before = outboxTo('ada@example.org').length;
  await signUp({ email: 'ada@example.org' });
  await settle();
  t.equal(outboxTo('ada@example.org').length, before, 'an erased address signing up again gets nothing');
});

t.test('a pending sign-up lapses after 30 days', async (t) => {
  const { app, signUp, outboxTo, linkIn, settle, clock, status } = await setup(t);
  await signUp({ email: 'slow@example.org' });
  await settle();
  const link = linkIn(outboxTo('slow@example.org')[0]!.text, '/subscriptions/confirm');
  clock.advance(31 * 86_400_000);
  t.equal((await app.inject({ url: link })).statusCode, 410);
  const token = decodeURIComponent(link.split('token=')[1]!);
  const late = await app.inject({
    method: 'POST',
    url: '/subscriptions/confirm',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${encodeURIComponent(token)}`,
  });
  t.equal(late.statusCode, 410);
  t.equal(status('slow@example.org'), 'pending', 'still not a subscriber');
});

t.test('a burst of one-click unsubscribes and link checks from one provider address is never refused; only bad links are', async (t) => {
  const { app, database, services, cluster } = await setup(t);
  const { signLink } = await import('../src/lib/signed-links.js');
  const { TEST_SECRET } = await import('./helper.js');
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    services.subscribers.signUp(cluster, { email: `reader-${i}@example.org` }, { source: 'api' });
    ids.push((database.sqlite.prepare('SELECT id FROM subscribers WHERE email = ?').get(`reader-${i}@example.org`) as { id: string }).id);
  }
  const link = (purpose: string, id: string) => encodeURIComponent(signLink(TEST_SECRET, purpose, id));
  const statuses = new Set<number>();
  // Far more than the old limits (30 and 120 a minute), all from 127.0.0.1, as a mail provider's relay would.
  for (let i = 0; i < 200; i++) {
    const id = ids[i % ids.length]!;
    statuses.add((await app.inject({ url: `/subscriptions/confirm?token=${link('subscription-confirm', id)}` })).statusCode);
    statuses.add((await app.inject({ url: `/unsubscribe?token=${link('unsubscribe', id)}` })).statusCode);
    statuses.add(
      (
        await app.inject({
          method: 'POST',
          url: `/unsubscribe?token=${link('unsubscribe', id)}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'List-Unsubscribe=One-Click',
        })
      ).statusCode,
    );
  }
  // (A confirmation link answers 410 once its person has unsubscribed; never 429.)
  t.same([...statuses].sort(), [200, 410], 'every genuine link was answered, none refused for load');
  t.same(
    database.sqlite.prepare('SELECT DISTINCT status FROM subscribers').all(),
    [{ status: 'unsubscribed' }],
    'and every one-click worked',
  );

  // Guessing tokens is what gets slowed down, and a genuine link still works for the same client.
  const bad = [];
  for (let i = 0; i < 35; i++) bad.push((await app.inject({ url: `/unsubscribe?token=guess.${i}` })).statusCode);
  t.equal(bad[0], 404);
  t.equal(bad.at(-1), 429);
  const genuine = await app.inject({
    method: 'POST',
    url: `/unsubscribe?token=${link('unsubscribe', ids[0]!)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'List-Unsubscribe=One-Click',
  });
  t.equal(genuine.statusCode, 200, 'a genuine one-click is never refused');
});
