// The pitch waitlist chain, through the real worker job and a real SMTP server: cancel, offer, expire, next offer, decline, accept.
import t from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken } from './fixtures.js';
import { startSmtpSink } from './helpers/smtp.js';
import { parseWithIcalJs } from './helpers/calendar.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';
import { manualClock } from '../src/lib/clock.js';

t.test('a freed slot is offered in turn: expire, next offer, decline, accept through the email page', async (t) => {
  const sink = await startSmtpSink(t);
  const transport = createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 });
  t.teardown(() => transport.close());
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database, config } = await buildTestApp(t, {
    clock,
    transport,
    env: { MAIL_WORKER: 'true', TIMED_JOBS: 'true', TIMED_JOB_INTERVAL_MS: '20' },
  });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const huddle = (
    await app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/huddles',
      headers: org.auth,
      payload: {
        title: 'Winter huddle',
        start: '2026-12-01T09:30',
        durationMinutes: 90,
        venue: { name: 'Hall' },
        status: 'published',
        pitch: { slotCount: 2, bookingClosesHoursBefore: 48, cancellationCutoffHours: 24 },
      },
    })
  ).json();
  const member = (email: string, organisation: string) =>
    createMemberWithToken(database, config, clock, 'north-west', { email, organisation });
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
