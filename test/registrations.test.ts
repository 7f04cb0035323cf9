// Attendance: capacity, the waiting line promoted in order (with emails over real SMTP), lists, and the private feed.
import t from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken } from './fixtures.js';
import { startSmtpSink } from './helpers/smtp.js';
import { libicalAccepts, parseWithIcalJs } from './helpers/calendar.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';
import { manualClock } from '../src/lib/clock.js';

t.test('registration up to capacity, a waiting line promoted in order, and change notices', async (t) => {
  const sink = await startSmtpSink(t);
  const transport = createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 });
  t.teardown(() => transport.close());
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database, config } = await buildTestApp(t, { clock, transport, env: { MAIL_WORKER: 'true' } });
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
        onlineUrl: 'https://meet.example.org/private-room',
        capacity: 2,
        status: 'published',
      },
    })
  ).json();
  const member = (email: string) => createMemberWithToken(database, config, clock, 'north-west', { email, organisation: email });
  const [ada, bob, cat, dan] = [member('ada@example.org'), member('bob@example.org'), member('cat@example.org'), member('dan@example.org')];
  const register = (who: { auth: Record<string, string> }) =>
    app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/registrations`, headers: who.auth });
  const mail = (to: string, subject: string) => sink.message(to, subject);
  const calendarOf = (message: { parsed: { attachments: { contentType: string; content: Buffer }[] } }) =>
    message.parsed.attachments.find((a) => a.contentType === 'text/calendar')!.content.toString('utf8');

  const answers = [await register(ada), await register(bob), await register(cat), await register(dan)];
  t.same(
    answers.map((a) => [a.statusCode, a.json().status, a.json().position]),
    [
      [201, 'registered', null],
      [201, 'registered', null],
      [201, 'waitlisted', 1],
      [201, 'waitlisted', 2],
    ],
  );
  t.equal((await register(ada)).json().code, 'ALREADY_REGISTERED');

  const confirmation = await mail('ada@example.org', "You're registered: Winter huddle");
  const request = calendarOf(confirmation);
  const parsed = parseWithIcalJs(request);
  t.equal(parsed.method, 'REQUEST');
  t.match(parsed.events[0], { uid: `huddle-${huddle.id}@convene.test` });
  t.same(
    parsed.events[0]!.attendees.map((a) => a.toLowerCase()),
    ['mailto:ada@example.org'],
  );
  t.match(parsed.events[0]!.description, /private-room/);
  await libicalAccepts(t, request, 'libical: a valid REQUEST');
  await mail('cat@example.org', 'On the waiting list: Winter huddle');

  // Ada cancels: Cat (first waiting) is promoted and told.
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/huddles/${huddle.id}/registrations/me`, headers: ada.auth })).statusCode, 204);
  const cancelled = await mail('ada@example.org', 'Registration cancelled: Winter huddle');
  t.equal(parseWithIcalJs(calendarOf(cancelled)).method, 'CANCEL');
  const promoted = await mail('cat@example.org', 'A place came free: Winter huddle');
  t.equal(parseWithIcalJs(calendarOf(promoted)).method, 'REQUEST');
  t.match(
    (await app.inject({ url: '/v1/me', headers: dan.auth })).json().registrations[0],
    { status: 'waitlisted', position: 1 },
    'Dan moved up',
  );
  t.equal(
    (await app.inject({ method: 'DELETE', url: `/v1/huddles/${huddle.id}/registrations/me`, headers: ada.auth })).json().code,
    'NOT_REGISTERED',
  );

  // The organiser raises the capacity: Dan gets in.
  await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: org.auth, payload: { capacity: 3 } });
  await mail('dan@example.org', 'A place came free: Winter huddle');
  t.match((await app.inject({ url: '/v1/me', headers: dan.auth })).json().registrations[0], { status: 'registered', position: null });

  // A change of time tells the registered, saying what changed; so does a new title.
  await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: org.auth, payload: { start: '2026-12-01T10:00' } });
  const update = await mail('bob@example.org', 'Updated: Winter huddle');
  t.match(parseWithIcalJs(calendarOf(update)).events[0], { sequence: 1, start: '2026-12-01T10:00:00.000Z' });
  t.match(update.parsed.text, /Winter huddle has changed: the time\. Your place is kept/);
  t.notMatch(update.parsed.text, /You have a place/, 'not the text of a new registration');
  await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: org.auth, payload: { title: 'Winter pitches' } });
  const retitled = await mail('bob@example.org', 'Updated: Winter pitches');
  t.match(parseWithIcalJs(calendarOf(retitled)).events[0], { sequence: 2, summary: 'Winter pitches' });
  t.match(retitled.parsed.text, /has changed: the title\./);

  // Organisers list the audience; CSV too.
  const list = await app.inject({ url: `/v1/huddles/${huddle.id}/registrations`, headers: org.auth });
  t.same(
    list.json().items.map((i: { member: { email: string }; status: string }) => `${i.member.email} ${i.status}`),
    ['ada@example.org cancelled', 'bob@example.org registered', 'cat@example.org registered', 'dan@example.org registered'],
  );
  const csv = await app.inject({ url: `/v1/huddles/${huddle.id}/registrations`, headers: { ...org.auth, accept: 'text/csv' } });
  t.match(csv.body, /^status,name,email,organisation,organisation_type,registered_at\n/);
  t.equal((await app.inject({ url: `/v1/huddles/${huddle.id}/registrations`, headers: bob.auth })).statusCode, 403);

  // The private feed shows the huddle with its online link; the public one does not.
  const feed = (await app.inject({ url: '/v1/me', headers: bob.auth })).json().calendar.ics.replace('https://convene.test', '');
  const body = (await app.inject({ url: feed })).body;
  const events = parseWithIcalJs(body).events;
  t.same(
    events.map((e) => e.uid),
    [`huddle-${huddle.id}@convene.test`],
  );
  t.match(events[0]!.description, /private-room/);
  t.notMatch((await app.inject({ url: '/v1/clusters/north-west/calendar.ics' })).body, /private-room/);

  // The organisers cancel the huddle: the registered hear it from them, not "as you asked".
  await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/cancel`, headers: org.auth, payload: { reason: 'Venue flooded' } });
  const gone = await mail('bob@example.org', 'Cancelled: Winter pitches');
  t.match(gone.parsed.text, /The organisers cancelled Winter pitches: Venue flooded\./);
  t.notMatch(gone.parsed.text, /as you asked/);
  t.equal(parseWithIcalJs(calendarOf(gone)).method, 'CANCEL');
});
