// Members and sign-in, end to end: organiser adds a member, the welcome email (over real SMTP) carries
// a link, the page's button signs in, the token works for /v1/me and nothing an organiser may do.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { startSmtpSink, type ReceivedMessage } from './helpers/smtp.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';
import { manualClock } from '../src/lib/clock.js';

const ada = { email: 'Ada@Example.org', name: 'Ada Lovelace', organisation: 'Analytical Engines Ltd', organisationType: 'company' };

async function setup(t: Test) {
  const sink = await startSmtpSink(t);
  const transport = createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 });
  t.teardown(() => transport.close());
  const clock = manualClock('2026-11-23T09:00:00Z');
  const built = await buildTestApp(t, { env: { MAIL_WORKER: 'true' }, transport, clock });
  const org = createClusterWithOrganiser(built.database, 'north-west', clock);
  const addMember = (payload: Record<string, unknown>, headers = org.auth) =>
    built.app.inject({ method: 'POST', url: '/v1/clusters/north-west/members', headers, payload });
  return { ...built, ...org, clock, sink, addMember };
}

/** The sign-in code in an email's link (text part). */
function codeIn(message: ReceivedMessage): string {
  const match = /https:\/\/convene\.test\/signin\?code=(cnv_code_[A-Za-z0-9_-]{43})/.exec(message.parsed.text ?? '');
  if (!match) throw new Error(`no sign-in link in: ${message.parsed.text}`);
  return match[1]!;
}

t.test('an organiser adds a member, who is welcomed by email and signs in through the page', async (t) => {
  const { app, sink, addMember } = await setup(t);
  const created = await addMember(ada);
  t.equal(created.statusCode, 201, created.body);
  const member = created.json();
  t.match(member, { email: 'ada@example.org', name: 'Ada Lovelace', organisationType: 'company', status: 'active', cluster: 'north-west' });
  t.equal(created.headers.location, `/v1/clusters/north-west/members/${member.id}`);

  await sink.waitFor(1);
  const welcome = sink.messages[0]!;
  t.same(welcome.envelope.to, ['ada@example.org']);
  t.equal(welcome.parsed.subject, 'Welcome to Cluster north-west on Convene');
  t.ok(welcome.parsed.html, 'an HTML part');
  const code = codeIn(welcome);
  t.match(welcome.parsed.html as string, code, 'the HTML button carries the same link');

  // Opening the link shows a button and changes nothing (mail scanners follow links).
  const page = await app.inject({ url: `/sign-in?code=${code}` });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html; charset=utf-8/);
  t.match(page.body, /<form method="post" action="\/sign-in"[ >]/);
  t.match(page.body, `value="${code}"`);
  t.equal((await app.inject({ url: `/sign-in?code=${code}` })).statusCode, 200, 'opening it twice still works');

  // The button POSTs the code as a form and shows the token once, with the private calendar.
  const signedIn = await app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `code=${code}`,
  });
  t.equal(signedIn.statusCode, 200, signedIn.body);
  t.equal(signedIn.headers['cache-control'], 'no-store');
  const token = /(cnv_mem_[A-Za-z0-9_-]{43})/.exec(signedIn.body)?.[1];
  t.ok(token, 'the page shows the member token');
  t.match(signedIn.body, /webcal:\/\/convene\.test\/v1\/feeds\/cnv_feed_[A-Za-z0-9_-]{43}\/calendar\.ics/);

  const me = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
  t.equal(me.statusCode, 200, me.body);
  t.match(me.json(), { member: { id: member.id, email: 'ada@example.org' }, clusterName: 'Cluster north-west' });
  t.match(me.json().calendar.webcal, /^webcal:\/\/convene\.test\/v1\/feeds\/cnv_feed_/);
  t.match(signedIn.body, me.json().calendar.ics, 'the page and /v1/me give the same feed address');

  // The code was used: a second POST is refused with a page that offers a new link.
  const reused = await app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `code=${code}`,
  });
  t.equal(reused.statusCode, 400);
  t.match(reused.body, /no longer works/);
  t.match(reused.body, /action="\/sign-in\/link"/);
});

t.test('email-link always answers 202 and mails only active members, within limits', async (t) => {
  const { app, sink, addMember, auth, clock } = await setup(t);
  const created = (await addMember(ada)).json();
  await addMember({ ...ada, email: 'babbage@example.org', name: 'Charles Babbage' });
  await sink.waitFor(2);
  await app.inject({
    method: 'PATCH',
    url: `/v1/clusters/north-west/members/${created.id}`,
    headers: auth,
    payload: { status: 'suspended' },
  });

  const ask = (email: string) => app.inject({ method: 'POST', url: '/v1/auth/email-link', payload: { email } });
  const answers = [await ask('nobody@example.org'), await ask('ada@example.org'), await ask('  Babbage@Example.org ')];
  for (const answer of answers) t.equal(answer.statusCode, 202);
  t.same(new Set(answers.map((a) => a.body)).size, 1, 'the same body whoever asks');

  await sink.waitFor(3);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(sink.messages.length, 3, 'one sign-in email: the suspended and the unknown address got none');
  const email = sink.messages[2]!;
  t.same(email.envelope.to, ['babbage@example.org']);
  t.equal(email.parsed.subject, 'Your sign-in link for Cluster north-west');

  // The code works over the JSON API too, once, and only for 15 minutes.
  const exchange = (code: string) => app.inject({ method: 'POST', url: '/v1/auth/tokens', payload: { code } });
  const issued = await exchange(codeIn(email));
  t.equal(issued.statusCode, 201, issued.body);
  t.match(issued.json(), { tokenType: 'Bearer', member: { email: 'babbage@example.org' } });
  t.equal(issued.json().expiresAt, '2027-02-21T09:00:00.000Z', 'valid for 90 days');
  t.equal((await exchange(codeIn(email))).json().code, 'SIGN_IN_CODE_INVALID', 'single use');

  await ask('babbage@example.org');
  await sink.waitFor(4);
  clock.advance(15 * 60_000 + 1);
  const late = await exchange(codeIn(sink.messages[3]!));
  t.equal(late.statusCode, 400);
  t.equal(late.json().code, 'SIGN_IN_CODE_INVALID', 'expired after 15 minutes');
  t.equal((await exchange('cnv_code_nonsense')).json().code, 'SIGN_IN_CODE_INVALID');

  // Per-address limit: 3 links in 15 minutes (the two above are older now); the 4th is 202 but sends nothing.
  for (let i = 0; i < 4; i++) t.equal((await ask('babbage@example.org')).statusCode, 202);
  await sink.waitFor(7);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(sink.messages.length, 7, 'the fourth request in the window was not mailed');
  clock.advance(15 * 60_000);
  await ask('babbage@example.org');
  await sink.waitFor(8);
  t.pass('after the window, links are sent again');
});

t.test('a member token works for the member routes, never for organiser routes, and can be revoked', async (t) => {
  const { app, sink, addMember, huddleId } = await (async () => {
    const s = await setup(t);
    const huddle = await s.app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/huddles',
      headers: s.auth,
      payload: { title: 'Winter huddle', start: '2026-12-01T09:30', durationMinutes: 90, venue: { name: 'Hall' }, status: 'published' },
    });
    return { ...s, huddleId: huddle.json().id as string };
  })();
  await addMember(ada);
  await sink.waitFor(1);
  const issued = await app.inject({ method: 'POST', url: '/v1/auth/tokens', payload: { code: codeIn(sink.messages[0]!) } });
  const member = { authorization: `Bearer ${issued.json().token}` };

  const organiserOnly = [
    { method: 'PATCH' as const, url: '/v1/clusters/north-west', payload: { name: 'Taken over' } },
    { method: 'POST' as const, url: '/v1/clusters/north-west/members', payload: { ...ada, email: 'x@example.org' } },
    { method: 'GET' as const, url: '/v1/clusters/north-west/members' },
    {
      method: 'POST' as const,
      url: '/v1/clusters/north-west/huddles',
      payload: { title: 'Mine', start: '2026-12-02T09:30', durationMinutes: 60, venue: { name: 'Hall' } },
    },
    { method: 'PATCH' as const, url: `/v1/huddles/${huddleId}`, payload: { title: 'Mine now' } },
    { method: 'POST' as const, url: `/v1/huddles/${huddleId}/cancel`, payload: { reason: 'Because' } },
    { method: 'POST' as const, url: `/v1/huddles/${huddleId}/invitations`, payload: { addresses: [{ email: 'x@example.org' }] } },
    { method: 'GET' as const, url: `/v1/huddles/${huddleId}/invitations` },
  ];
  for (const route of organiserOnly) {
    const response = await app.inject({ ...route, headers: member });
    t.equal(response.statusCode, 403, `${route.method} ${route.url} refuses a member token`);
    t.equal(response.json().code, 'FORBIDDEN');
  }
  const cluster = await app.inject({ url: '/v1/clusters/north-west' });
  t.equal(cluster.json().name, 'Cluster north-west', 'nothing changed');

  // Rotating the feed changes the address; signing out kills the token.
  const before = (await app.inject({ url: '/v1/me', headers: member })).json().calendar.ics;
  const rotated = await app.inject({ method: 'POST', url: '/v1/me/calendar-feed/rotate', headers: member });
  t.equal(rotated.statusCode, 200);
  t.not(rotated.json().ics, before, 'a new feed address');
  t.equal((await app.inject({ url: '/v1/me', headers: member })).json().calendar.ics, rotated.json().ics);

  const out = await app.inject({ method: 'DELETE', url: '/v1/auth/tokens/current', headers: member });
  t.equal(out.statusCode, 204);
  const after = await app.inject({ url: '/v1/me', headers: member });
  t.equal(after.statusCode, 401);
  t.match(after.headers['www-authenticate'], /Bearer/);
});

t.test('suspending a member signs them out; organisers list, filter and page through members', async (t) => {
  const { app, sink, addMember, auth } = await setup(t);
  const first = (await addMember(ada)).json();
  await sink.waitFor(1);
  const issued = await app.inject({ method: 'POST', url: '/v1/auth/tokens', payload: { code: codeIn(sink.messages[0]!) } });
  const member = { authorization: `Bearer ${issued.json().token}` };
  t.equal((await app.inject({ url: '/v1/me', headers: member })).statusCode, 200);

  const suspended = await app.inject({
    method: 'PATCH',
    url: `/v1/clusters/north-west/members/${first.id}`,
    headers: auth,
    payload: { status: 'suspended' },
  });
  t.equal(suspended.json().status, 'suspended');
  t.equal((await app.inject({ url: '/v1/me', headers: member })).statusCode, 401, 'the token stopped working');
  const back = await app.inject({
    method: 'PATCH',
    url: `/v1/clusters/north-west/members/${first.id}`,
    headers: auth,
    payload: { status: 'active' },
  });
  t.equal(back.json().status, 'active');
  t.equal((await app.inject({ url: '/v1/me', headers: member })).statusCode, 401, 'reactivating does not revive old tokens');

  const types = ['university', 'nhs', 'investor', 'charity', 'public-sector'];
  for (const [i, type] of types.entries())
    await addMember({ email: `m${i}@example.org`, name: `Member ${i}`, organisation: `Org ${i}`, organisationType: type });
  const page1 = await app.inject({ url: '/v1/clusters/north-west/members?limit=4', headers: auth });
  t.equal(page1.json().items.length, 4);
  const page2 = await app.inject({ url: `/v1/clusters/north-west/members?limit=4&cursor=${page1.json().nextCursor}`, headers: auth });
  t.equal(page2.json().items.length, 2);
  t.equal(page2.json().nextCursor, null);
  const ids = [...page1.json().items, ...page2.json().items].map((m: { id: string }) => m.id);
  t.equal(new Set(ids).size, 6, 'every member once');
  const nhs = await app.inject({ url: '/v1/clusters/north-west/members?organisationType=nhs', headers: auth });
  t.same(
    nhs.json().items.map((m: { email: string }) => m.email),
    ['m1@example.org'],
  );
  const one = await app.inject({ url: `/v1/clusters/north-west/members/${first.id}`, headers: auth });
  t.equal(one.json().email, 'ada@example.org');
});

t.test('bad member input is refused with a problem and changes nothing', async (t) => {
  const { app, addMember, auth, database } = await setup(t);
  t.equal((await addMember(ada)).statusCode, 201);
  const cases: [Record<string, unknown>, string][] = [
    [{ ...ada }, 'MEMBER_EXISTS'],
    [{ ...ada, email: 'ADA@EXAMPLE.org' }, 'MEMBER_EXISTS'],
    [{ ...ada, email: 'not-an-address' }, 'VALIDATION_FAILED'],
    [{ ...ada, email: 'b@example.org', organisationType: 'startup' }, 'VALIDATION_FAILED'],
    [{ ...ada, email: 'b@example.org', name: 'Evil\r\nBcc: x@example.org' }, 'VALIDATION_FAILED'],
    [{ ...ada, email: 'b@example.org', organisation: '' }, 'VALIDATION_FAILED'],
    [{ ...ada, email: 'b@example.org', role: 'admin' }, 'VALIDATION_FAILED'],
  ];
  for (const [payload, code] of cases) {
    const response = await addMember(payload);
    t.equal(response.json().code, code, JSON.stringify(payload));
    t.match(response.headers['content-type'], /application\/problem\+json/);
  }
  const count = database.sqlite.prepare('SELECT count(*) AS n FROM members').get() as { n: number };
  t.equal(count.n, 1, 'only the first member exists');

  const other = createClusterWithOrganiser(database, 'west-midlands');
  const id = (await app.inject({ url: '/v1/clusters/north-west/members', headers: auth })).json().items[0].id;
  const foreign = await app.inject({ url: `/v1/clusters/north-west/members/${id}`, headers: other.auth });
  t.equal(foreign.statusCode, 403, "another cluster's key is refused before any lookup");
  const missing = await app.inject({ url: '/v1/clusters/north-west/members/01930000-0000-7000-8000-000000000000', headers: auth });
  t.equal(missing.json().code, 'MEMBER_NOT_FOUND');
  const empty = await app.inject({ method: 'PATCH', url: `/v1/clusters/north-west/members/${id}`, headers: auth, payload: {} });
  t.equal(empty.statusCode, 400);
  const bodyless = await app.inject({ method: 'POST', url: '/v1/auth/tokens', payload: {} });
  t.equal(bodyless.json().code, 'VALIDATION_FAILED');
  const badEmail = await app.inject({ method: 'POST', url: '/v1/auth/email-link', payload: { email: 'nope' } });
  t.equal(badEmail.statusCode, 202, 'even a malformed address gets 202 (and no email)');
  t.equal(
    (await app.inject({ method: 'POST', url: '/v1/auth/email-link', payload: {} })).statusCode,
    400,
    'a body without email is malformed',
  );
});

t.test('the members audience invites every active member once', async (t) => {
  const { app, sink, addMember, auth } = await setup(t);
  const a = (await addMember(ada)).json();
  await addMember({ ...ada, email: 'grace@example.org', name: 'Grace Hopper' });
  await addMember({ ...ada, email: 'linus@example.org', name: 'Linus' });
  await app.inject({ method: 'PATCH', url: `/v1/clusters/north-west/members/${a.id}`, headers: auth, payload: { status: 'suspended' } });
  await sink.waitFor(3);
  const huddle = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddles',
    headers: auth,
    payload: { title: 'Winter huddle', start: '2026-12-01T09:30', durationMinutes: 90, venue: { name: 'Hall' }, status: 'published' },
  });
  const invite = () =>
    app.inject({ method: 'POST', url: `/v1/huddles/${huddle.json().id}/invitations`, headers: auth, payload: { audience: 'members' } });
  t.same((await invite()).json(), { invited: 2, alreadyInvited: 0 });
  t.same((await invite()).json(), { invited: 0, alreadyInvited: 2 }, 'never twice');
  await sink.waitFor(5);
  const invited = sink.messages.filter((m) => m.parsed.subject === 'Invitation: Winter huddle').map((m) => m.envelope.to[0]);
  t.same(invited.sort(), ['grace@example.org', 'linus@example.org'], 'the suspended member was not invited');
});

t.test("one sign-in spends the member's other codes; suspension spends them too; other sites cannot post the forms", async (t) => {
  const { app, sink, addMember, auth } = await setup(t);
  const member = (await addMember(ada)).json();
  await sink.waitFor(1);
  const welcomeCode = codeIn(sink.messages[0]!);
  await app.inject({ method: 'POST', url: '/v1/auth/email-link', payload: { email: 'ada@example.org' } });
  await sink.waitFor(2);
  const exchange = (code: string) => app.inject({ method: 'POST', url: '/v1/auth/tokens', payload: { code } });
  t.equal((await exchange(codeIn(sink.messages[1]!))).statusCode, 201);
  t.equal((await exchange(welcomeCode)).json().code, 'SIGN_IN_CODE_INVALID', 'the week-long welcome code died with the sign-in');

  await app.inject({ method: 'POST', url: '/v1/auth/email-link', payload: { email: 'ada@example.org' } });
  await sink.waitFor(3);
  const pending = codeIn(sink.messages[2]!);
  const patch = (status: string) =>
    app.inject({ method: 'PATCH', url: `/v1/clusters/north-west/members/${member.id}`, headers: auth, payload: { status } });
  await patch('suspended');
  await patch('active');
  t.equal((await exchange(pending)).json().code, 'SIGN_IN_CODE_INVALID', 'a code from before the suspension stays dead');

  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const crossSite = await app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { ...form, 'sec-fetch-site': 'cross-site' },
    payload: 'code=cnv_code_x',
  });
  t.equal(crossSite.statusCode, 403);
  const foreignOrigin = await app.inject({
    method: 'POST',
    url: '/sign-in/link',
    headers: { ...form, origin: 'https://evil.example' },
    payload: 'email=ada%40example.org',
  });
  t.equal(foreignOrigin.statusCode, 403);
  const sameSite = await app.inject({
    method: 'POST',
    url: '/sign-in/link',
    headers: { ...form, 'sec-fetch-site': 'same-origin' },
    payload: 'email=ada%40example.org',
  });
  t.equal(sameSite.statusCode, 200);
  await sink.waitFor(4);
  t.equal(sink.messages.length, 4, 'only the same-site form sent a link');
  const big = await app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ code: 'x'.repeat(10_000) }),
  });
  t.equal(big.statusCode, 413, 'page forms are small');
});
