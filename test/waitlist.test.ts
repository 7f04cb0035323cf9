// The pitch waitlist chain, through the real worker job and a real SMTP server: cancel, offer, expire, next offer, decline, accept.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken } from './fixtures.js';
import { startSmtpSink } from './helpers/smtp.js';
import { parseWithIcalJs } from './helpers/calendar.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';
import { manualClock } from '../src/lib/clock.js';

/** A published huddle with two pitch slots, members with tokens, the real worker and an SMTP server. */
async function setup(t: Test, options: { title: string; env: Record<string, string> }) {
  const sink = await startSmtpSink(t);
  const transport = createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 });
  t.teardown(() => transport.close());
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database, config } = await buildTestApp(t, { clock, transport, env: options.env });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const created = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddles',
    headers: org.auth,
    payload: {
      title: options.title,
      start: '2026-12-01T09:30',
      durationMinutes: 90,
      venue: { name: 'Hall' },
      status: 'published',
      pitch: { slotCount: 2, bookingClosesHoursBefore: 48, cancellationCutoffHours: 24 },
    },
  });
  const member = (email: string, organisation: string) =>
    createMemberWithToken(database, config, clock, 'north-west', { email, organisation });
  return { app, sink, clock, database, org, huddle: created.json(), member };
}

t.test('a freed slot is offered in turn: expire, next offer, decline, accept through the email page', async (t) => {
  const { app, sink, clock, database, huddle, member } = await setup(t, {
    title: 'Winter huddle',
    env: { MAIL_WORKER: 'true', TIMED_JOBS: 'true', TIMED_JOB_INTERVAL_MS: '20' },
  });
  const [ada, bob, cat, dan, eve] = [
    member('ada@example.org', 'A'),
    member('bob@example.org', 'B'),
    member('cat@example.org', 'C'),
    member('dan@example.org', 'D'),
    member('eve@example.org', 'E'),
  ];
  const join = (who: { auth: Record<string, string> }) =>
    app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/waitlist`, headers: who.auth, payload: { title: 'Our news' } });
  const mail = (to: string, subject: string) => sink.message(to, subject);

  t.equal((await join(cat)).json().code, 'SLOTS_AVAILABLE', 'no waitlist while slots are free');
  const adaBooking = (
    await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/bookings`, headers: ada.auth, payload: { title: 'A news' } })
  ).json();
  await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/bookings`, headers: bob.auth, payload: { title: 'B news' } });

  const places = [await join(cat), await join(dan), await join(eve)];
  t.same(
    places.map((r) => r.statusCode),
    [201, 201, 201],
  );
  t.same(
    places.map((r) => r.json().position),
    [1, 2, 3],
    'positions in order',
  );
  t.equal((await join(cat)).json().code, 'ALREADY_ON_WAITLIST', 'once per organisation');
  t.equal((await join(member('cat2@example.org', 'c'))).json().code, 'ALREADY_ON_WAITLIST', 'a colleague counts as the same organisation');
  t.equal((await join(ada)).json().code, 'BOOKING_LIMIT_REACHED', 'an organisation with a pitch does not queue');

  // A cancels: the slot is offered to C and held for 24 hours.
  await app.inject({ method: 'DELETE', url: `/v1/bookings/${adaBooking.id}`, headers: ada.auth });
  const offerToCat = await mail('cat@example.org', 'A pitch slot is free: Winter huddle');
  t.match(offerToCat.parsed.text, /held for you until 2026-11-24 09:00 UTC/);
  const catMe = (await app.inject({ url: '/v1/me', headers: cat.auth })).json();
  t.match(catMe.waitlist[0], { status: 'offered', position: 1, offer: { expiresAt: '2026-11-24T09:00:00.000Z' } });
  const stranger = member('fay@example.org', 'F');
  t.equal(
    (await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/bookings`, headers: stranger.auth, payload: { title: 'x' } })).json()
      .code,
    'NO_SLOTS_LEFT',
    'the offered slot is held',
  );
  t.equal(
    (await app.inject({ method: 'POST', url: `/v1/waitlist-offers/${catMe.waitlist[0].offer.id}/accept`, headers: dan.auth })).statusCode,
    404,
    "only C can accept C's offer",
  );

  // C lets it expire: the worker passes it to D.
  clock.advance(24 * 3_600_000 + 1000);
  await mail('cat@example.org', 'Slot offer expired: Winter huddle');
  await mail('dan@example.org', 'A pitch slot is free: Winter huddle');
  t.same((await app.inject({ url: '/v1/me', headers: cat.auth })).json().waitlist, [], 'C is out of line');
  const expired = await app.inject({ method: 'POST', url: `/v1/waitlist-offers/${catMe.waitlist[0].offer.id}/accept`, headers: cat.auth });
  t.equal(expired.json().code, 'OFFER_CLOSED');

  // D declines over the API: E is offered the slot.
  const danOffer = (await app.inject({ url: '/v1/me', headers: dan.auth })).json().waitlist[0].offer;
  t.equal((await app.inject({ method: 'POST', url: `/v1/waitlist-offers/${danOffer.id}/decline`, headers: dan.auth })).statusCode, 204);
  const offerToEve = await mail('eve@example.org', 'A pitch slot is free: Winter huddle');
  t.match((await app.inject({ url: '/v1/me', headers: eve.auth })).json().waitlist[0], { status: 'offered', position: 1 });

  // E accepts from the email: the page shows buttons, the POST books the slot.
  const link = /https:\/\/convene\.test(\/waitlist\/offer\?token=[^\s"]+)/.exec(offerToEve.parsed.text ?? '')![1]!;
  const page = await app.inject({ url: link });
  t.match(page.body, /Accept and book the slot/);
  const token = decodeURIComponent(link.split('token=')[1]!);
  const accepted = await app.inject({
    method: 'POST',
    url: '/waitlist/offer',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${encodeURIComponent(token)}&action=accept`,
  });
  t.equal(accepted.statusCode, 200, accepted.body);
  t.match(accepted.body, /Your pitch is booked/);
  const confirmation = await mail('eve@example.org', 'Pitch confirmed: Winter huddle');
  const part = confirmation.parsed.attachments.find((a) => a.contentType === 'text/calendar')!;
  t.equal(parseWithIcalJs(part.content.toString('utf8')).method, 'REQUEST');
  const eveMe = (await app.inject({ url: '/v1/me', headers: eve.auth })).json();
  t.same(eveMe.waitlist, []);
  t.equal(eveMe.bookings[0].slot.position, 1, 'E holds the freed slot');
  const again = await app.inject({
    method: 'POST',
    url: '/waitlist/offer',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${encodeURIComponent(token)}&action=accept`,
  });
  t.equal(again.statusCode, 409, 'an offer is accepted once');
  const active = database.sqlite.prepare("SELECT count(*) AS n FROM bookings WHERE status IN ('pending','confirmed')").get() as {
    n: number;
  };
  t.equal(active.n, 2, 'two slots, two pitches');
});

t.test('leaving the line passes a held offer on; a slot freed after booking closed is not offered', async (t) => {
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database, config } = await buildTestApp(t, { clock });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const huddle = (
    await app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/huddles',
      headers: org.auth,
      payload: {
        title: 'Small huddle',
        start: '2026-12-01T09:30',
        durationMinutes: 60,
        venue: { name: 'Hall' },
        status: 'published',
        pitch: { slotCount: 1, bookingClosesHoursBefore: 48, cancellationCutoffHours: 24 },
      },
    })
  ).json();
  const member = (email: string, organisation: string) =>
    createMemberWithToken(database, config, clock, 'north-west', { email, organisation });
  const [ada, bob, cat] = [member('ada@example.org', 'A'), member('bob@example.org', 'B'), member('cat@example.org', 'C')];
  const booking = (
    await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/bookings`, headers: ada.auth, payload: { title: 'A' } })
  ).json();
  for (const who of [bob, cat])
    await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/waitlist`, headers: who.auth, payload: { title: 'x' } });
  await app.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: org.auth });
  t.equal((await app.inject({ url: '/v1/me', headers: bob.auth })).json().waitlist[0].status, 'offered');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/huddles/${huddle.id}/waitlist/me`, headers: bob.auth })).statusCode, 204);
  t.equal((await app.inject({ url: '/v1/me', headers: cat.auth })).json().waitlist[0].status, 'offered', 'the offer moved on to C');
  t.equal(
    (await app.inject({ method: 'DELETE', url: `/v1/huddles/${huddle.id}/waitlist/me`, headers: bob.auth })).json().code,
    'NOT_ON_WAITLIST',
  );

  const catOffer = (await app.inject({ url: '/v1/me', headers: cat.auth })).json().waitlist[0].offer;
  const catBooking = (await app.inject({ method: 'POST', url: `/v1/waitlist-offers/${catOffer.id}/accept`, headers: cat.auth })).json();
  t.equal(catBooking.status, 'confirmed');
  const dan = member('dan@example.org', 'D');
  await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/waitlist`, headers: dan.auth, payload: { title: 'x' } });
  clock.set('2026-11-30T09:00:00Z'); // booking closed
  await app.inject({ method: 'DELETE', url: `/v1/bookings/${catBooking.id}`, headers: cat.auth });
  t.match(
    (await app.inject({ url: '/v1/me', headers: dan.auth })).json().waitlist[0],
    { status: 'waiting', offer: null },
    'no offer after booking closed',
  );
});

t.test(
  'suspending a member withdraws their offer and places, cancels their pitches to come, and the email links refuse them',
  async (t) => {
    const { app, sink, database, org, huddle, member } = await setup(t, { title: 'Spring huddle', env: { MAIL_WORKER: 'true' } });
    const [ada, dan, bob, cat, eve] = [
      member('ada@example.org', 'Ada Ltd'),
      member('dan@example.org', 'Dan Devices'),
      member('bob@example.org', 'Bob Ltd'),
      member('cat@example.org', 'Cat Ltd'),
      member('eve@example.org', 'Eve Ltd'),
    ];
    const book = (who: { auth: Record<string, string> }, title: string) =>
      app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/bookings`, headers: who.auth, payload: { title } });
    const adaBooking = (await book(ada, 'A news')).json();
    t.equal((await book(dan, 'D news')).statusCode, 201);
    for (const who of [bob, cat, eve])
      await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/waitlist`, headers: who.auth, payload: { title: 'Queued news' } });
    const suspend = (memberId: string) =>
      app.inject({
        method: 'PATCH',
        url: `/v1/clusters/north-west/members/${memberId}`,
        headers: org.auth,
        payload: { status: 'suspended' },
      });

    // Ada's slot is offered to Bob by email; then Bob is suspended.
    await app.inject({ method: 'DELETE', url: `/v1/bookings/${adaBooking.id}`, headers: org.auth });
    const offer = await sink.message('bob@example.org', 'A pitch slot is free: Spring huddle');
    t.equal((await suspend(bob.member.id)).statusCode, 200);
    await sink.message('cat@example.org', 'A pitch slot is free: Spring huddle');
    t.pass('the withdrawn offer passed to the next in line');

    const link = /https:\/\/convene\.test(\/waitlist\/offer\?token=[^\s"]+)/.exec(offer.parsed.text ?? '')![1]!;
    const page = await app.inject({ url: link });
    t.match(page.body, /This offer is closed/);
    t.notMatch(page.body, /Accept and book/);
    const token = decodeURIComponent(link.split('token=')[1]!);
    const pressed = await app.inject({
      method: 'POST',
      url: '/waitlist/offer',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(token)}&action=accept`,
    });
    t.not(pressed.statusCode, 200, 'the emailed offer no longer books');
    t.notMatch(pressed.body, /Your pitch is booked/);
    const bobRows = database.sqlite
      .prepare('SELECT count(*) AS n FROM bookings WHERE member_id = ? AND status IN (?, ?)')
      .get(bob.member.id, 'pending', 'confirmed') as { n: number };
    t.equal(bobRows.n, 0, 'Bob holds no pitch');
    const bobPlaces = database.sqlite.prepare('SELECT status FROM waitlist_entries WHERE member_id = ?').all(bob.member.id);
    t.same(bobPlaces, [{ status: 'left' }], 'Bob is out of line');

    // Dan holds a confirmed pitch: suspension cancels it, his calendar drops it, the slot goes to Eve.
    const confirmation = await sink.message('dan@example.org', 'Pitch confirmed: Spring huddle');
    t.match((await app.inject({ url: `/v1/huddles/${huddle.id}/agenda` })).body, /Dan Devices/, 'the agenda lists Dan before');
    t.equal((await suspend(dan.member.id)).statusCode, 200);
    const cancelled = await sink.message('dan@example.org', 'Pitch cancelled: Spring huddle');
    t.match(cancelled.parsed.text, /membership of Cluster north-west is suspended/);
    const part = cancelled.parsed.attachments.find((a) => a.contentType === 'text/calendar')!;
    t.equal(parseWithIcalJs(part.content.toString('utf8')).method, 'CANCEL');
    await sink.message('eve@example.org', 'A pitch slot is free: Spring huddle');
    const agenda = await app.inject({ url: `/v1/huddles/${huddle.id}/agenda` });
    t.equal(agenda.statusCode, 200);
    t.notMatch(agenda.body, /Dan Devices/, 'the public agenda no longer lists the suspended organisation');

    // The cancel link in Dan's confirmation offers him nothing to press.
    const cancelLink = /https:\/\/convene\.test(\/pitches\/cancel\?token=[^\s"]+)/.exec(confirmation.parsed.text ?? '')![1]!;
    const cancelPage = await app.inject({ url: cancelLink });
    t.notMatch(cancelPage.body, /Cancel my pitch/);
  },
);
