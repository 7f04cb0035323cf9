// A member on the web: sign in from the emailed link into a browser session, see "My huddles", cancel
// a pitch with a form that carries the CSRF token, end sessions and sign out. Real HTTP, real SMTP.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, publishHuddle } from './fixtures.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

async function setup(t: Test) {
  const built = await buildTestApp(t);
  const { app, database, config, clock } = built;
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const ada = createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@example.org', organisation: 'Acme <Sensors>' });
  const huddle = {
    id: await publishHuddle(app, org.auth, { onlineUrl: 'https://meet.example.org/room', pitch: { slotCount: 2 } }),
  };
  /** Signs Ada in as a person does: asks for a link, opens it, presses the button. Returns her cookie. */
  const signIn = async (userAgent = 'Mozilla/5.0 Firefox/140.0') => {
    const asked = await app.inject({ method: 'POST', url: '/signin', headers: form, payload: 'email=ada%40example.org' });
    t.equal(asked.statusCode, 200);
    const text = (
      database.sqlite
        .prepare(
          "SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE kind = 'member.sign_in' ORDER BY created_at DESC, outbox.rowid DESC LIMIT 1",
        )
        .get() as { text: string }
    ).text;
    const link = /https:\/\/convene\.test(\/signin\?code=\S+)/.exec(text)![1]!;
    const page = await app.inject(link);
    const code = /name="code" value="([^"]+)"/.exec(page.body)![1]!;
    const started = await app.inject({
      method: 'POST',
      url: '/signin/session',
      headers: { ...form, 'user-agent': userAgent },
      payload: `code=${encodeURIComponent(code)}`,
    });
    t.equal(started.statusCode, 303);
    t.equal(started.headers.location, '/me');
    const setCookie = String(started.headers['set-cookie']);
    return { setCookie, cookie: setCookie.split(';')[0]! };
  };
  const me = (cookie: string) => app.inject({ url: '/me', headers: { cookie } });
  const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)![1]!;
  return { ...built, org, ada, huddle, signIn, me, csrfOf };
}

t.test('sign in from the emailed link into a session; the page says the same for any address', async (t) => {
  const { app, signIn, me, database } = await setup(t);
  t.equal((await app.inject('/me')).headers.location, '/signin', 'signed out, /me sends you to sign in');
  const form1 = await app.inject('/signin');
  t.match(form1.body, /<form method="post" action="\/signin"/);
  const stranger = await app.inject({ method: 'POST', url: '/signin', headers: form, payload: 'email=nobody%40example.org' });
  const member = await app.inject({ method: 'POST', url: '/signin', headers: form, payload: 'email=ada%40example.org' });
  t.equal(stranger.body, member.body, 'no way to tell a member from a stranger');
  const bad = await app.inject({ method: 'POST', url: '/signin', headers: form, payload: 'email=ada' });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, /value="ada"/);
  const crossSite = await app.inject({
    method: 'POST',
    url: '/signin',
    headers: { ...form, 'sec-fetch-site': 'cross-site' },
    payload: 'email=ada%40example.org',
  });
  t.equal(crossSite.statusCode, 403, 'another site cannot post the form');

  const { setCookie, cookie } = await signIn();
  t.match(setCookie, /^convene_session=cnv_mem_[A-Za-z0-9_-]{43}; /);
  t.match(setCookie, /HttpOnly/);
  t.match(setCookie, /SameSite=Lax/);
  t.match(setCookie, /Secure/, 'Secure, since PUBLIC_BASE_URL is https');
  const page = await me(cookie);
  t.equal(page.statusCode, 200);
  t.match(page.headers['cache-control'], /no-store/);
  t.match(page.body, /Acme &lt;Sensors>/);
  t.match(page.body, /href="webcal:\/\/convene\.test\/v1\/feeds\/cnv_feed_/);
  t.match(page.body, /this browser/);
  const stored = database.sqlite
    .prepare("SELECT token_hash AS hash, kind, user_agent AS ua FROM member_tokens WHERE kind = 'browser'")
    .get() as { hash: string; kind: string; ua: string };
  t.notMatch(stored.hash, cookie.split('=')[1]!, 'only a hash of the session is stored');
  t.equal(stored.ua, 'Mozilla/5.0 Firefox/140.0');

  const feed = /href="webcal:\/\/convene\.test(\/v1\/feeds\/cnv_feed_[^"]+)"/.exec(page.body)![1]!;
  t.equal((await app.inject(feed)).statusCode, 200, 'the private feed works');
  const rotated = await app.inject({
    method: 'POST',
    url: '/me/calendar-feed/rotate',
    headers: { ...form, cookie },
    payload: `_csrf=${encodeURIComponent(/name="_csrf" value="([^"]+)"/.exec(page.body)![1]!)}`,
  });
  t.equal(rotated.headers.location, '/me?done=rotated');
  t.equal((await app.inject(feed)).statusCode, 404, 'after rotation the old address no longer works');
  t.notMatch((await me(cookie)).body, feed, 'and /me shows the new one');
  const bearer = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${cookie.split('=')[1]}` } });
  t.equal(bearer.statusCode, 401, 'a browser session is not an API token');
  t.equal(
    (await app.inject({ url: '/me', headers: { cookie: 'convene_session=cnv_mem_' + 'A'.repeat(43) } })).statusCode,
    303,
    'a made-up cookie is no session',
  );
});

t.test('cancel a pitch from /me: only with the CSRF token; sessions listed and ended; sign-out ends this one', async (t) => {
  const { app, ada, huddle, signIn, me, csrfOf, database } = await setup(t);
  const booked = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddle.id}/bookings`,
    headers: ada.auth,
    payload: { title: 'Gait <sensor>' },
  });
  t.equal(booked.statusCode, 201);
  const bookingId = booked.json().id as string;
  const { cookie } = await signIn();
  const other = await signIn('Mozilla/5.0 Chrome/130.0');
  const page = await me(cookie);
  t.match(page.body, /“Gait &lt;sensor>” \(confirmed\)/);
  t.match(page.body, /You can cancel it yourself until Wednesday, 9 December 2026, 09:30 GMT\./);
  t.match(page.body, /Since .*, Chrome/, 'the other session is listed by its browser');

  const status = () => (database.sqlite.prepare('SELECT status FROM bookings WHERE id = ?').get(bookingId) as { status: string }).status;
  const noToken = await app.inject({ method: 'POST', url: `/me/pitches/${bookingId}/cancel`, headers: { ...form, cookie }, payload: '' });
  t.equal(noToken.statusCode, 403, 'no CSRF token, no change');
  const othersToken = await app.inject({
    method: 'POST',
    url: `/me/pitches/${bookingId}/cancel`,
    headers: { ...form, cookie },
    payload: `_csrf=${encodeURIComponent(csrfOf((await me(other.cookie)).body))}`,
  });
  t.equal(othersToken.statusCode, 403, "another session's token does not work here");
  t.equal(status(), 'confirmed');
  const cancelled = await app.inject({
    method: 'POST',
    url: `/me/pitches/${bookingId}/cancel`,
    headers: { ...form, cookie },
    payload: `_csrf=${encodeURIComponent(csrfOf(page.body))}`,
  });
  t.equal(cancelled.statusCode, 303);
  t.equal(cancelled.headers.location, '/me?done=cancelled');
  t.equal(status(), 'cancelled');
  t.match((await app.inject({ url: '/me?done=cancelled', headers: { cookie } })).body, /role="status">Cancelled\. An email confirms it/);

  const otherId = (
    database.sqlite.prepare("SELECT id FROM member_tokens WHERE kind = 'browser' AND user_agent LIKE '%Chrome%'").get() as { id: string }
  ).id;
  const ended = await app.inject({
    method: 'POST',
    url: `/me/sessions/${otherId}/end`,
    headers: { ...form, cookie },
    payload: `_csrf=${encodeURIComponent(csrfOf(page.body))}`,
  });
  t.equal(ended.headers.location, '/me?done=ended');
  t.equal((await me(other.cookie)).statusCode, 303, 'the other browser is signed out');

  const out = await app.inject({
    method: 'POST',
    url: '/signout',
    headers: { ...form, cookie },
    payload: `_csrf=${encodeURIComponent(csrfOf(page.body))}`,
  });
  t.equal(out.statusCode, 303);
  t.match(String(out.headers['set-cookie']), /convene_session=;/);
  t.equal((await me(cookie)).statusCode, 303, 'signed out: the old cookie no longer works');
});

t.test('suspending a member ends their sessions', async (t) => {
  const { app, ada, org, signIn, me } = await setup(t);
  const { cookie } = await signIn();
  t.equal((await me(cookie)).statusCode, 200);
  await app.inject({
    method: 'PATCH',
    url: `/v1/clusters/north-west/members/${ada.member.id}`,
    headers: org.auth,
    payload: { status: 'suspended' },
  });
  t.equal((await me(cookie)).statusCode, 303);
});

t.test(
  'from the huddle page a signed-in member books a pitch (twice pressed, booked once), registers, and joins the waitlist when full',
  async (t) => {
    const { app, database, config, clock, huddle, signIn, csrfOf } = await setup(t);
    const { cookie } = await signIn();
    const page = await app.inject({ url: `/h/${huddle.id}`, headers: { cookie } });
    t.match(page.headers['cache-control'], /private, no-store/, "a member's page is never cached");
    t.match(page.body, /Signed in as ada\./);
    t.match(page.body, /Booking for pitches closes on \w+day, \d+ December 2026, \d\d:\d\d GMT\./, 'when booking closes');
    t.match(page.body, /<form method="post" action="\/h\/[^"]+\/book">/);
    t.match(page.body, /<option value="[^"]+">Slot 2, 09:36<\/option>/);
    t.match(
      page.body,
      /<input type="checkbox" name="shareContact" value="yes"\/> After the huddle, the follow-up newsletter may give my email/,
    );
    const csrf = csrfOf(page.body);
    const post = (path: string, body: string, who = cookie) =>
      app.inject({ method: 'POST', url: `/h/${huddle.id}/${path}`, headers: { ...form, cookie: who }, payload: body });

    const untitled = await post('book', `_csrf=${encodeURIComponent(csrf)}&title=&summary=Two+minutes`);
    t.equal(untitled.statusCode, 400);
    t.match(untitled.body, /id="pitch-error" role="alert">Give your pitch a title\./);
    t.match(untitled.body, /Two minutes<\/textarea>/, 'what was typed is kept');

    const body = `_csrf=${encodeURIComponent(csrf)}&title=Gait+%3Csensor%3E&summary=&slotId=`;
    const [first, second] = [await post('book', body), await post('book', body)];
    t.equal(first.headers.location, '/me?done=booked');
    t.equal(second.headers.location, '/me?done=booked', 'pressed twice: shown the same pitch');
    const count = (database.sqlite.prepare("SELECT count(*) AS n FROM bookings WHERE status = 'confirmed'").get() as { n: number }).n;
    t.equal(count, 1, 'booked once');
    t.match((await app.inject({ url: '/me', headers: { cookie } })).body, /“Gait &lt;sensor>” \(confirmed\)/);

    t.notMatch(page.body, /meet\.example\.org/, 'before booking, no online link');
    t.match(
      (await app.inject({ url: `/h/${huddle.id}`, headers: { cookie } })).body,
      /<a href="https:\/\/meet\.example\.org\/room">/,
      'a pitcher sees the online link',
    );
    t.notMatch((await app.inject(`/h/${huddle.id}`)).body, /meet\.example\.org/, 'the public never does');
    const registered = await post('register', `_csrf=${encodeURIComponent(csrf)}`);
    t.equal(registered.headers.location, '/me?done=registered');
    t.match((await app.inject({ url: `/h/${huddle.id}`, headers: { cookie } })).body, /You are registered for this huddle\./);

    // Another organisation takes the last slot; a third member sees the waitlist form and joins it.
    const { createMemberWithToken } = await import('./fixtures.js');
    const bob = createMemberWithToken(database, config, clock, 'north-west', { email: 'bob@example.org', organisation: 'Bob Ltd' });
    await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/bookings`, headers: bob.auth, payload: { title: 'B' } });
    createMemberWithToken(database, config, clock, 'north-west', { email: 'cat@example.org', organisation: 'Cat Ltd' });
    const asked = await app.inject({ method: 'POST', url: '/signin', headers: form, payload: 'email=cat%40example.org' });
    t.equal(asked.statusCode, 200);
    const text = (
      database.sqlite
        .prepare(
          "SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE to_address = 'cat@example.org' AND kind = 'member.sign_in'",
        )
        .get() as {
        text: string;
      }
    ).text;
    const code = decodeURIComponent(/signin\?code=(\S+)/.exec(text)![1]!);
    const started = await app.inject({
      method: 'POST',
      url: '/signin/session',
      headers: form,
      payload: `code=${encodeURIComponent(code)}`,
    });
    const cat = String(started.headers['set-cookie']).split(';')[0]!;
    const full = await app.inject({ url: `/h/${huddle.id}`, headers: { cookie: cat } });
    t.match(full.body, /Join the pitch waitlist/);
    const joined = await post('waitlist', `_csrf=${encodeURIComponent(csrfOf(full.body))}&title=Cat+news`, cat);
    t.equal(joined.headers.location, '/me?done=joined');
    t.match((await app.inject({ url: '/me', headers: { cookie: cat } })).body, /Waiting, number 1 in line/);

    const forged = await post('register', '_csrf=forged', cat);
    t.equal(forged.statusCode, 403, 'no registration without the CSRF token');
  },
);

t.test('a member of another cluster, signed in, is told why they cannot take part here', async (t) => {
  const { app, database, config, clock, huddle, signIn } = await setup(t);
  const { cookie } = await signIn();
  createClusterWithOrganiser(database, 'south-east', clock);
  const { createMemberWithToken: member } = await import('./fixtures.js');
  member(database, config, clock, 'south-east', { email: 'sam@example.org', organisation: 'Sam Ltd' });
  const other = await publishHuddle(
    app,
    (await import('./fixtures.js')).createClusterWithOrganiser(database, 'east', clock).auth,
    {},
    'east',
  );
  const page = await app.inject({ url: `/h/${other}`, headers: { cookie } });
  t.match(
    page.body,
    /You are signed in as ada, a member of another cluster: only members of Cluster east book pitches and register here\./,
  );
  t.notMatch(page.body, /action="\/h\/[^"]+\/book"/, 'no booking form');
  t.match(page.headers['cache-control'], /no-store/, 'a page with their name is not cached');
  t.match((await app.inject({ url: `/h/${huddle.id}`, headers: { cookie } })).body, /Signed in as ada\./, 'at home the forms are there');
});

t.test('a refused booking is said in words beside the form, what was typed is kept, and nothing is booked', async (t) => {
  const { app, database, config, clock, org, huddle, signIn, csrfOf } = await setup(t);
  const { createMemberWithToken } = await import('./fixtures.js');
  const { cookie } = await signIn();
  const page = await app.inject({ url: `/h/${huddle.id}`, headers: { cookie } });
  const csrf = encodeURIComponent(csrfOf(page.body));
  const slots = [...page.body.matchAll(/<option value="([^"]+)">Slot (\d)/g)].map((match) => match[1]!);
  t.equal(slots.length, 2);
  const book = (id: string, fields: string) =>
    app.inject({ method: 'POST', url: `/h/${id}/book`, headers: { ...form, cookie }, payload: `_csrf=${csrf}&${fields}` });
  const bookings = () =>
    (database.sqlite.prepare("SELECT count(*) AS n FROM bookings WHERE status <> 'cancelled'").get() as { n: number }).n;

  // Slot 1 goes to another organisation between Ada opening the page and pressing the button.
  const bob = createMemberWithToken(database, config, clock, 'north-west', { email: 'bob@example.org', organisation: 'Bob Ltd' });
  const bobs = { method: 'POST' as const, url: `/v1/huddles/${huddle.id}/bookings`, headers: bob.auth };
  t.equal((await app.inject({ ...bobs, payload: { title: 'B1', slotId: slots[0] } })).statusCode, 201);
  const taken = await book(huddle.id, `title=Gait+sensors&summary=Two+minutes&slotId=${slots[0]}`);
  t.equal(taken.statusCode, 409);
  t.match(
    taken.body,
    /id="pitch-error" role="alert">Someone has just booked that slot\. Choose another one, or take the first free slot\./,
  );
  t.match(taken.body, /value="Gait sensors"/, 'the title typed is kept');
  t.match(taken.body, /Two minutes<\/textarea>/, 'the summary typed is kept');

  // Then the last slot goes too: a page still showing the booking form is told to join the waitlist.
  const cat = createMemberWithToken(database, config, clock, 'north-west', { email: 'cat@example.org', organisation: 'Cat Ltd' });
  t.equal((await app.inject({ ...bobs, headers: cat.auth, payload: { title: 'C2' } })).statusCode, 201);
  const full = await book(huddle.id, 'title=Gait+sensors&slotId=');
  t.equal(full.statusCode, 409);
  t.match(full.body, /Every slot is booked now\. Join the pitch waitlist and we email you when one frees\./);

  // A colleague from Ada's organisation pitches at a second huddle: Ada cannot pitch there too.
  const second = await publishHuddle(app, org.auth, { title: 'Spring huddle', start: '2026-12-17T09:30', pitch: { slotCount: 3 } });
  const colleague = createMemberWithToken(database, config, clock, 'north-west', {
    email: 'eve@example.org',
    organisation: 'Acme <Sensors>',
  });
  const colleagues = { method: 'POST' as const, url: `/v1/huddles/${second}/bookings`, headers: colleague.auth, payload: { title: 'E' } };
  t.equal((await app.inject(colleagues)).statusCode, 201);
  const limit = await book(second, 'title=Gait+sensors');
  t.equal(limit.statusCode, 409);
  t.match(limit.body, /Your organisation already pitches at this huddle/);

  // Booking closes 48 hours before this huddle, which starts in 24.
  const third = await publishHuddle(app, org.auth, {
    title: 'Late huddle',
    start: '2026-11-24T09:30',
    pitch: { slotCount: 3, bookingClosesHoursBefore: 48 },
  });
  const late = await book(third, 'title=Gait+sensors');
  t.equal(late.statusCode, 409);
  t.match(late.body, /<p class="error" id="pitch-error" role="alert">Booking is not open for this huddle at the moment\./);
  t.match(late.body, /Booking for pitches closed on Sunday, 22 November 2026, 09:30 GMT\./, 'the page says when it closed');
  t.equal(bookings(), 3, "none of Ada's refused presses booked anything");

  // A refused registration (pressed again from an old page) is said above the actions, not beside a pitch title.
  const register = () =>
    app.inject({ method: 'POST', url: `/h/${huddle.id}/register`, headers: { ...form, cookie }, payload: `_csrf=${csrf}` });
  t.equal((await register()).headers.location, '/me?done=registered');
  const again = await register();
  t.equal(again.statusCode, 409);
  t.match(again.body, /<p class="error" id="pitch-error" role="alert">You are registered for this huddle already\.<\/p>/);
  const said = [taken, full, limit, late].map((answer) => /id="pitch-error" role="alert">([^<]*)</.exec(answer.body)?.[1]);
  t.notMatch(said.join(' '), /\d{4}-\d\d-\d\dT|[A-Z]{4,}_/, 'no machine words: no ISO times, no codes');
});

t.test('a pitch that needs approval: the page says so, and "My huddles" shows it waiting', async (t) => {
  const { app, org, signIn, csrfOf } = await setup(t);
  const id = await publishHuddle(app, org.auth, { title: 'Approved huddle', pitch: { slotCount: 2, approvalRequired: true } });
  const { cookie } = await signIn();
  const page = await app.inject({ url: `/h/${id}`, headers: { cookie } });
  const booked = await app.inject({
    method: 'POST',
    url: `/h/${id}/book`,
    headers: { ...form, cookie },
    payload: `_csrf=${encodeURIComponent(csrfOf(page.body))}&title=Gait`,
  });
  t.equal(booked.headers.location, '/me?done=pending');
  const me = await app.inject({ url: '/me?done=pending', headers: { cookie } });
  t.match(me.body, /Your pitch is waiting for the organisers’ approval\. We will email you\./);
  t.match(me.body, /“Gait” \(pending\)/);
});
