// Pitch bookings end to end: real HTTP for the race, a real SMTP server for the emails, real calendar parsers.
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken } from './fixtures.js';
import { startSmtpSink, type ReceivedMessage } from './helpers/smtp.js';
import { libicalAccepts, parseWithIcalJs, withPythonParse } from './helpers/calendar.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';
import { manualClock } from '../src/lib/clock.js';

const HUDDLE = {
  title: 'Winter huddle',
  start: '2026-12-01T09:30',
  durationMinutes: 120,
  venue: { name: 'Bruntwood SciTech' },
  onlineUrl: 'https://meet.example.org/secret-room',
  status: 'published',
  pitch: {
    slotCount: 5,
    slotMinutes: 5,
    changeoverMinutes: 1,
    startOffsetMinutes: 10,
    bookingClosesHoursBefore: 48,
    cancellationCutoffHours: 24,
  },
};

async function setup(t: Test, options: { smtp?: boolean; huddle?: Record<string, unknown> } = {}) {
  const sink = options.smtp ? await startSmtpSink(t) : undefined;
  const transport = sink ? createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 }) : undefined;
  if (transport) t.teardown(() => transport.close());
  const clock = manualClock('2026-11-23T09:00:00Z');
  const built = await buildTestApp(t, { clock, ...(transport ? { transport, env: { MAIL_WORKER: 'true' } } : {}) });
  const org = createClusterWithOrganiser(built.database, 'north-west', clock);
  const created = await built.app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddles',
    headers: org.auth,
    payload: { ...HUDDLE, ...options.huddle },
  });
  if (created.statusCode !== 201) throw new Error(created.body);
  const huddleId = created.json().id as string;
  const member = (email: string, organisation: string) =>
    createMemberWithToken(built.database, built.config, clock, 'north-west', { email, organisation });
  const book = (
    auth: Record<string, string>,
    payload: Record<string, unknown> = { title: 'Our news' },
    headers: Record<string, string> = {},
  ) => built.app.inject({ method: 'POST', url: `/v1/huddles/${huddleId}/bookings`, headers: { ...auth, ...headers }, payload });
  const activeCount = () =>
    (built.database.sqlite.prepare("SELECT count(*) AS n FROM bookings WHERE status IN ('pending', 'confirmed')").get() as { n: number }).n;
  /** The messages with this subject, once there are `count` of them (welcome emails are ignored). */
  const mail = async (subject: string, count = 1) => {
    for (let i = 0; i < 200; i++) {
      const found = sink!.messages.filter((m) => m.parsed.subject === subject);
      if (found.length >= count) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no email "${subject}" (got: ${sink!.messages.map((m) => m.parsed.subject).join('; ')})`);
  };
  const pitchMails = () => sink!.messages.filter((m) => !m.parsed.subject?.startsWith('Welcome'));
  return { ...built, ...org, clock, sink, huddleId, member, book, activeCount, mail, pitchMails };
}

function calendarOf(message: ReceivedMessage) {
  const part = message.parsed.attachments.find((a) => a.contentType === 'text/calendar');
  if (!part) throw new Error(`no text/calendar part in "${message.parsed.subject}"`);
  return {
    mime: (part.headers.get('content-type') as { params: Record<string, string> }).params.method,
    text: part.content.toString('utf8'),
  };
}

t.test('a member books the first free slot and gets a METHOD:REQUEST invitation for it; cancelling sends CANCEL', async (t) => {
  const { app, huddleId, member, book, mail } = await setup(t, { smtp: true });
  const ada = member('ada@example.org', 'Analytical Engines');
  const booked = await book(ada.auth, { title: 'Difference engine v2', summary: 'Now with fewer gears.' });
  t.equal(booked.statusCode, 201, booked.body);
  const booking = booked.json();
  t.match(booking, {
    status: 'confirmed',
    huddleId,
    title: 'Difference engine v2',
    organisation: 'Analytical Engines',
    slot: { position: 1 },
  });
  t.equal(booking.slot.start.utc, '2026-12-01T09:40:00Z', 'slot 1 starts 10 minutes in');
  t.equal(booked.headers.location, `/v1/bookings/${booking.id}`);

  const slots = (await app.inject({ url: `/v1/huddles/${huddleId}/slots` })).json().items;
  t.same(
    slots.map((s: { available: boolean }) => s.available),
    [false, true, true, true, true],
    'slot 1 is taken',
  );

  const confirmation = (await mail('Pitch confirmed: Winter huddle'))[0]!;
  t.same(confirmation.envelope.to, ['ada@example.org']);
  t.match(confirmation.parsed.text, /\/pitches\/cancel\?token=/, 'a link to the cancel page');
  const request = calendarOf(confirmation);
  t.equal(request.mime, 'REQUEST');
  const event = parseWithIcalJs(request.text).events[0]!;
  t.match(event, {
    uid: `pitch-${booking.id}@convene.test`,
    sequence: 0,
    start: '2026-12-01T09:40:00.000Z',
    end: '2026-12-01T09:45:00.000Z',
    status: 'CONFIRMED',
  });
  t.same(
    event.attendees.map((a) => a.toLowerCase()),
    ['mailto:ada@example.org'],
  );
  t.match(event.description, /secret-room/, 'the pitcher gets the online link');
  await libicalAccepts(t, request.text, 'libical: a valid REQUEST');
  await withPythonParse(t, request.text, 'python icalendar reads the same start', (t, python) => {
    t.equal(python.events[0]!.dtstart, '2026-12-01T09:40:00+00:00');
  });

  const me = await app.inject({ url: '/v1/me', headers: ada.auth });
  t.same(
    me.json().bookings.map((b: { id: string }) => b.id),
    [booking.id],
    '/v1/me lists the booking',
  );

  const cancelled = await app.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: ada.auth });
  t.equal(cancelled.statusCode, 200, cancelled.body);
  t.match(cancelled.json(), { status: 'cancelled', cancelledBy: 'member' });
  const cancellation = calendarOf((await mail('Pitch cancelled: Winter huddle'))[0]!);
  t.equal(cancellation.mime, 'CANCEL');
  const cancelEvent = parseWithIcalJs(cancellation.text).events[0]!;
  t.match(cancelEvent, { uid: `pitch-${booking.id}@convene.test`, sequence: 1, status: 'CANCELLED' });
  await libicalAccepts(t, cancellation.text, 'libical: a valid CANCEL');
  const again = await app.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: ada.auth });
  t.equal(again.json().code, 'BOOKING_CANCELLED');
  t.same((await app.inject({ url: `/v1/huddles/${huddleId}/slots` })).json().items[0].available, true, 'the slot is free again');
});

t.test('slot taken, no slots left, organisation limit, unknown slot, and bad input', async (t) => {
  const { app, book, member, huddleId, activeCount } = await setup(t);
  const slots = (await app.inject({ url: `/v1/huddles/${huddleId}/slots` })).json().items as { id: string }[];
  const ada = member('ada@example.org', 'Acme Ltd');
  t.equal((await book(ada.auth, { title: 'A', slotId: slots[2]!.id })).json().slot.position, 3, 'a chosen slot');
  const colleague = member('bob@example.org', '  ACME   ltd ');
  t.equal((await book(colleague.auth)).json().code, 'BOOKING_LIMIT_REACHED', 'one active pitch per organisation per huddle');
  const grace = member('grace@example.org', 'Navy Labs');
  t.equal((await book(grace.auth, { title: 'B', slotId: slots[2]!.id })).json().code, 'SLOT_TAKEN');
  t.equal((await book(grace.auth, { title: 'B', slotId: '01930000-0000-7000-8000-000000000000' })).json().code, 'SLOT_NOT_FOUND');
  for (const [body, field] of [
    [{}, 'title'],
    [{ title: '' }, 'title'],
    [{ title: 'x', slotId: 'nope' }, 'slotId'],
    [{ title: 'x', extra: 1 }, 'extra'],
  ] as const) {
    const response = await book(grace.auth, body);
    t.equal(response.statusCode, 400, `${field}: 400`);
    t.equal(response.json().code, 'VALIDATION_FAILED');
  }
  for (const [i, org] of ['B', 'C', 'D', 'E'].entries()) t.equal((await book(member(`m${i}@example.org`, org).auth)).statusCode, 201);
  t.equal((await book(grace.auth)).json().code, 'NO_SLOTS_LEFT');
  t.equal(activeCount(), 5);
});

t.test('the booking window, drafts, other clusters and organiser tokens', async (t) => {
  const { app, auth, book, member, clock, database } = await setup(t, {
    huddle: { pitch: { ...HUDDLE.pitch, bookingOpensDaysBefore: 3 } },
  });
  const ada = member('ada@example.org', 'Acme');
  const early = await book(ada.auth);
  t.equal(early.json().code, 'BOOKING_CLOSED');
  t.match(early.json().detail, /opens at 2026-11-28T09:30:00.000Z/);
  clock.set('2026-11-28T09:30:00Z');
  t.equal((await book(ada.auth)).statusCode, 201, 'open from 3 days before');
  clock.set('2026-11-29T09:30:00Z');
  const late = await book(member('bob@example.org', 'Bob Co').auth);
  t.equal(late.json().code, 'BOOKING_CLOSED', 'closed 48 hours before');

  const draft = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddles',
    headers: auth,
    payload: { ...HUDDLE, status: 'draft', start: '2026-12-20T09:30' },
  });
  const toDraft = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${draft.json().id}/bookings`,
    headers: ada.auth,
    payload: { title: 'x' },
  });
  t.equal(toDraft.json().code, 'HUDDLE_NOT_FOUND', 'drafts are invisible to members');

  const other = createClusterWithOrganiser(database, 'west-midlands', clock);
  const theirs = await app.inject({
    method: 'POST',
    url: '/v1/clusters/west-midlands/huddles',
    headers: other.auth,
    payload: { ...HUDDLE, start: '2026-12-20T09:30' },
  });
  const foreign = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${theirs.json().id}/bookings`,
    headers: ada.auth,
    payload: { title: 'x' },
  });
  t.equal(foreign.json().code, 'HUDDLE_NOT_FOUND', "another cluster's huddle does not exist for this member");
  const asOrganiser = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${theirs.json().id}/bookings`,
    headers: other.auth,
    payload: { title: 'x' },
  });
  t.equal(asOrganiser.statusCode, 403, 'organisers do not book pitches');
});

t.test('Idempotency-Key: replay, body mismatch, in-flight conflict, per caller', async (t) => {
  const { book, member, activeCount } = await setup(t);
  const ada = member('ada@example.org', 'Acme');
  const key = { 'idempotency-key': 'f2b1c9e0-booking-1' };
  const first = await book(ada.auth, { title: 'Once' }, key);
  t.equal(first.statusCode, 201);
  t.notOk(first.headers['idempotent-replayed']);
  const replay = await book(ada.auth, { title: 'Once' }, key);
  t.equal(replay.statusCode, 201);
  t.equal(replay.headers['idempotent-replayed'], 'true');
  t.equal(replay.json().id, first.json().id, 'the same booking');
  t.equal(replay.headers.location, first.headers.location);
  t.equal(activeCount(), 1, 'booked once');
  const mismatch = await book(ada.auth, { title: 'Twice' }, key);
  t.equal(mismatch.statusCode, 422);
  t.equal(mismatch.json().code, 'IDEMPOTENCY_KEY_REUSED');

  const grace = member('grace@example.org', 'Navy');
  const hers = await book(grace.auth, { title: 'Once' }, key);
  t.equal(hers.statusCode, 201, 'keys belong to their caller');
  t.not(hers.json().id, first.json().id);

  const errorFirst = await book(grace.auth, { title: 'Gone wrong' }, { 'idempotency-key': 'bad key with spaces' });
  t.equal(errorFirst.statusCode, 400, 'a malformed key is refused');
  const conflict = await book(grace.auth, { title: 'No' }, { 'idempotency-key': 'f2b1c9e0-booking-1' });
  t.equal(conflict.statusCode, 422, 'grace reusing her key with another body');
});

t.test('a key still in flight answers 409', async (t) => {
  const { book, member, database } = await setup(t);
  const ada = member('ada@example.org', 'Acme');
  database.sqlite
    .prepare(
      "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, expires_at) VALUES (?, 'busy', 'whatever', " +
        "'in-flight', ?, ?)",
    )
    .run(`member:${ada.member.id}`, Date.parse('2026-11-23T09:00:00Z'), Date.parse('2026-11-24T09:00:00Z'));
  const response = await book(ada.auth, { title: 'x' }, { 'idempotency-key': 'busy' });
  t.equal(response.statusCode, 409);
  t.equal(response.json().code, 'IDEMPOTENCY_KEY_IN_FLIGHT');
});

t.test('the cutoff, organiser cancellation, late cancellation notice, approval and rejection', async (t) => {
  const { app, auth, sink, book, member, clock, huddleId, mail } = await setup(t, { smtp: true });
  const ada = member('ada@example.org', 'Acme');
  const booking = (await book(ada.auth)).json();
  clock.set('2026-11-30T09:00:00Z'); // booking closed (48 h), cutoff (24 h) not yet
  const cancelled = await app.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: ada.auth });
  t.equal(cancelled.statusCode, 200);
  const late = (await mail('Late pitch cancellation: Winter huddle'))[0];
  t.ok(late, 'the organisers are told about a cancellation after booking closed');
  t.same(late?.envelope.to, ['organiser@north-west.example']);

  clock.set('2026-11-23T09:00:00Z');
  const grace = member('grace@example.org', 'Navy');
  const second = (await book(grace.auth)).json();
  clock.set('2026-11-30T10:00:00Z'); // past the member cutoff
  const tooLate = await app.inject({ method: 'DELETE', url: `/v1/bookings/${second.id}`, headers: grace.auth });
  t.equal(tooLate.json().code, 'CANCELLATION_CUTOFF_PASSED');
  const byOrganiser = await app.inject({
    method: 'DELETE',
    url: `/v1/bookings/${second.id}?reason=${encodeURIComponent('Speaker ill')}`,
    headers: auth,
  });
  t.match(byOrganiser.json(), { status: 'cancelled', cancelledBy: 'organiser' });

  // Approval: a pending booking holds its slot; approving confirms, rejecting frees it.
  clock.set('2026-11-23T09:00:00Z');
  await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddleId}`, headers: auth, payload: { pitch: { approvalRequired: true } } });
  const linus = member('linus@example.org', 'Linux');
  const pending = (await book(linus.auth)).json();
  t.equal(pending.status, 'pending');
  const slots = (await app.inject({ url: `/v1/huddles/${huddleId}/slots` })).json().items;
  t.equal(slots.find((s: { id: string }) => s.id === pending.slot.id).available, false, 'the pending booking holds its slot');
  t.equal(
    (await app.inject({ method: 'POST', url: `/v1/bookings/${pending.id}/approve`, headers: linus.auth })).statusCode,
    403,
    'members cannot approve',
  );
  const approved = await app.inject({ method: 'POST', url: `/v1/bookings/${pending.id}/approve`, headers: auth });
  t.equal(approved.json().status, 'confirmed');
  t.equal(
    (await app.inject({ method: 'POST', url: `/v1/bookings/${pending.id}/approve`, headers: auth })).json().code,
    'BOOKING_NOT_PENDING',
  );
  const kate = member('kate@example.org', 'NHS Trust');
  const toReject = (await book(kate.auth)).json();
  const rejected = await app.inject({
    method: 'POST',
    url: `/v1/bookings/${toReject.id}/reject`,
    headers: auth,
    payload: { reason: 'Off topic' },
  });
  t.equal(rejected.json().status, 'rejected');

  await mail('Pitch not accepted: Winter huddle');
  await mail('Pitch approved: Winter huddle');
  const subjects = sink!.messages.map((m) => `${m.envelope.to[0]} ${m.parsed.subject}`);
  t.ok(subjects.includes('linus@example.org Pitch request received: Winter huddle'));
  t.ok(subjects.includes('linus@example.org Pitch approved: Winter huddle'));
  t.ok(subjects.includes('kate@example.org Pitch not accepted: Winter huddle'));
  const approvedMail = sink!.messages.find((m) => m.parsed.subject === 'Pitch approved: Winter huddle')!;
  t.equal(calendarOf(approvedMail).mime, 'REQUEST', 'approval carries the calendar invitation');
  const pendingMail = sink!.messages.find((m) => m.parsed.subject === 'Pitch request received: Winter huddle')!;
  t.notOk(
    pendingMail.parsed.attachments.some((a) => a.contentType === 'text/calendar'),
    'no calendar entry before approval',
  );
  const rejection = sink!.messages.find((m) => m.parsed.subject === 'Pitch not accepted: Winter huddle')!;
  t.match(rejection.parsed.text, /Off topic/);
});

t.test("ownership: a member cannot see or cancel another member's booking; organisers see their cluster's", async (t) => {
  const { app, auth, book, member, database, clock, huddleId } = await setup(t);
  const ada = member('ada@example.org', 'Acme');
  const grace = member('grace@example.org', 'Navy');
  const booking = (await book(ada.auth)).json();
  t.equal((await app.inject({ url: `/v1/bookings/${booking.id}`, headers: grace.auth })).json().code, 'BOOKING_NOT_FOUND');
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: grace.auth })).statusCode, 404);
  t.equal((await app.inject({ url: `/v1/bookings/${booking.id}`, headers: ada.auth })).statusCode, 200);
  t.equal((await app.inject({ url: `/v1/bookings/${booking.id}`, headers: auth })).statusCode, 200);
  const other = createClusterWithOrganiser(database, 'west-midlands', clock);
  t.equal((await app.inject({ url: `/v1/bookings/${booking.id}`, headers: other.auth })).statusCode, 404);
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: other.auth })).statusCode, 404);
  t.equal(
    (await app.inject({ url: `/v1/huddles/${huddleId}/bookings`, headers: ada.auth })).statusCode,
    403,
    'members cannot list bookings',
  );
  t.equal((await app.inject({ url: `/v1/huddles/${huddleId}/bookings`, headers: other.auth })).statusCode, 404);
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}` })).statusCode, 401);
});

t.test('organisers list bookings as JSON or CSV; the public agenda shows organisations and titles, not people', async (t) => {
  const { app, auth, book, member, huddleId } = await setup(t);
  await book(member('ada@example.org', 'Acme').auth, { title: 'Gears', summary: 'Fewer of them' });
  await book(member('grace@example.org', 'Navy Labs').auth, { title: '=HYPERLINK("http://evil")' });
  const json = await app.inject({ url: `/v1/huddles/${huddleId}/bookings`, headers: auth });
  t.same(
    json.json().items.map((b: { member: { email: string } }) => b.member.email),
    ['ada@example.org', 'grace@example.org'],
  );
  const csv = await app.inject({ url: `/v1/huddles/${huddleId}/bookings`, headers: { ...auth, accept: 'text/csv' } });
  t.equal(csv.statusCode, 200);
  t.match(csv.headers['content-type'], /^text\/csv; charset=utf-8/);
  const lines = csv.body.trim().split('\n');
  t.equal(lines[0], 'slot,start,end,status,organisation,organisation_type,name,email,title,summary,booked_at');
  t.match(lines[1], /^1,2026-12-01T09:40:00\+00:00,.*,confirmed,Acme,company,ada,ada@example.org,Gears,Fewer of them,/);
  t.match(lines[2], /'=HYPERLINK/, 'a formula is defused');

  const agenda = await app.inject({ url: `/v1/huddles/${huddleId}/agenda` });
  t.equal(agenda.statusCode, 200);
  t.same(
    agenda.json().items.map((i: { organisation: string; title: string }) => [i.organisation, i.title]),
    [
      ['Acme', 'Gears'],
      ['Navy Labs', '=HYPERLINK("http://evil")'],
    ],
  );
  t.notMatch(agenda.body, /@example\.org/, 'no emails in the public agenda');
  t.notMatch(agenda.body, /secret-room/, 'no online link');
  const organiserAgenda = await app.inject({ url: `/v1/huddles/${huddleId}/agenda`, headers: auth });
  t.equal(organiserAgenda.json().items[0].presenter.email, 'ada@example.org', 'organisers see the presenters');
});

t.test('changing times after bookings exist: refused, or moved by choice with the pitchers told', async (t) => {
  const { app, auth, book, member, huddleId, mail } = await setup(t, { smtp: true });
  const booking = (await book(member('ada@example.org', 'Acme').auth)).json();
  await mail('Pitch confirmed: Winter huddle');
  const refused = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${huddleId}`,
    headers: auth,
    payload: { pitch: { slotMinutes: 7 } },
  });
  t.equal(refused.statusCode, 409);
  t.equal(refused.json().code, 'BOOKINGS_AFFECTED');
  const shrink = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${huddleId}?bookings=move`,
    headers: auth,
    payload: { pitch: { slotCount: 0 } },
  });
  t.equal(shrink.json().code, 'BOOKINGS_AFFECTED', 'a booked slot is never removed');
  const moved = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${huddleId}?bookings=move`,
    headers: auth,
    payload: { start: '2026-12-01T10:30' },
  });
  t.equal(moved.statusCode, 200, moved.body);
  const after = (await app.inject({ url: `/v1/bookings/${booking.id}`, headers: auth })).json();
  t.equal(after.slot.id, booking.slot.id, 'same slot');
  t.equal(after.slot.start.utc, '2026-12-01T10:40:00Z', 'moved with the huddle');
  const update = (await mail('Pitch updated: Winter huddle'))[0]!;
  const event = parseWithIcalJs(calendarOf(update).text).events[0]!;
  t.match(event, { uid: `pitch-${booking.id}@convene.test`, sequence: 1, start: '2026-12-01T10:40:00.000Z' });
  t.match(update.parsed.text, /has changed: the time\./);

  // The pitch's calendar entry shows the huddle's title and venue: a change to either is an update too.
  await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddleId}`, headers: auth, payload: { title: 'Winter pitches' } });
  const retitled = (await mail('Pitch updated: Winter pitches'))[0]!;
  t.match(retitled.parsed.text, /has changed: the title\./);
  const retitledEvent = parseWithIcalJs(calendarOf(retitled).text).events[0]!;
  t.match(retitledEvent, { uid: `pitch-${booking.id}@convene.test`, sequence: 2 });
  t.match(retitledEvent.description, /Winter pitches/);

  const cancelled = await app.inject({ method: 'POST', url: `/v1/huddles/${huddleId}/cancel`, headers: auth, payload: { reason: 'Snow' } });
  t.equal(cancelled.statusCode, 200);
  const cancel = (await mail('Pitch cancelled: Winter pitches'))[0]!;
  t.match(cancel.parsed.text, /The huddle is cancelled: Snow\. So is your pitch/);
  t.match(parseWithIcalJs(calendarOf(cancel).text).events[0], { status: 'CANCELLED', sequence: 3 });
  t.equal((await app.inject({ url: `/v1/bookings/${booking.id}`, headers: auth })).json().cancelledBy, 'system');
});

t.test('the cancel link in the email opens a page; only its button cancels', async (t) => {
  const { app, book, member, mail, pitchMails } = await setup(t, { smtp: true });
  const booking = (await book(member('ada@example.org', 'Acme').auth)).json();
  const confirmed = (await mail('Pitch confirmed: Winter huddle'))[0]!;
  const link = /https:\/\/convene\.test(\/pitches\/cancel\?token=[^\s"]+)/.exec(confirmed.parsed.text ?? '')![1]!;
  const page = await app.inject({ url: link });
  t.equal(page.statusCode, 200);
  t.match(page.body, /Cancel my pitch/);
  t.equal((await app.inject({ url: link })).statusCode, 200);
  t.equal(pitchMails().length, 1, 'opening the page changed nothing');
  const token = decodeURIComponent(link.split('token=')[1]!);
  const tampered = await app.inject({ url: `/pitches/cancel?token=${encodeURIComponent(token.slice(0, -2) + 'xx')}` });
  t.equal(tampered.statusCode, 404);
  const posted = await app.inject({
    method: 'POST',
    url: '/pitches/cancel',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    payload: `token=${encodeURIComponent(token)}`,
  });
  t.equal(posted.statusCode, 200);
  t.match(posted.body, /Your pitch is cancelled/);
  await mail('Pitch cancelled: Winter huddle');
  t.equal(
    (await app.inject({ method: 'GET', url: `/v1/bookings/${booking.id}`, headers: member('x@example.org', 'X').auth })).statusCode,
    404,
  );
});

t.test('the cancel page never refuses a genuine link for load; only links that do not work are slowed (issue 11, item 22)', async (t) => {
  const { app, book, member, mail } = await setup(t, { smtp: true });
  await book(member('ada@example.org', 'Acme').auth);
  const confirmed = (await mail('Pitch confirmed: Winter huddle'))[0]!;
  const link = /https:\/\/convene\.test(\/pitches\/cancel\?token=[^\s"]+)/.exec(confirmed.parsed.text ?? '')![1]!;
  // A link scanner at a mail provider opens it over and over from one address.
  const scanned = await Promise.all(Array.from({ length: 150 }, () => app.inject({ url: link, remoteAddress: '198.51.100.9' })));
  t.same([...new Set(scanned.map((r) => r.statusCode))], [200], '150 opens of a genuine link from one address: all 200');
  const guesses = [];
  for (let i = 0; i < 35; i++) {
    guesses.push((await app.inject({ url: `/pitches/cancel?token=guess${i}`, remoteAddress: '198.51.100.9' })).statusCode);
  }
  t.equal(guesses[0], 404);
  t.equal(guesses.at(-1), 429, 'guessing tokens is slowed down');
  t.equal((await app.inject({ url: link, remoteAddress: '198.51.100.9' })).statusCode, 200, 'the genuine link still opens');
});

t.test('a race over real HTTP: 200 organisations, 5 slots, exactly 5 bookings', async (t) => {
  const { app, member, huddleId, activeCount } = await setup(t);
  const members = Array.from({ length: 200 }, (_, i) => member(`racer${i}@example.org`, `Org ${i}`));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const responses = await Promise.all(
    members.map((m) =>
      fetch(`${address}/v1/huddles/${huddleId}/bookings`, {
        method: 'POST',
        headers: { ...m.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Race' }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } })),
    ),
  );
  const created = responses.filter((r) => r.status === 201).length;
  const refused = responses.filter((r) => r.status === 409 && (r.body.code === 'SLOT_TAKEN' || r.body.code === 'NO_SLOTS_LEFT')).length;
  t.equal(created, 5, 'exactly 5 succeed');
  t.equal(refused, 195, 'the rest get SLOT_TAKEN or NO_SLOTS_LEFT');
  t.equal(responses.filter((r) => r.status >= 500).length, 0, 'no 5xx');
  t.equal(activeCount(), 5, 'the database holds exactly 5 active bookings');

  // One organisation racing 20 requests for the same huddle gets one booking.
  const { app: app2, member: member2, huddleId: huddle2, activeCount: count2 } = await setup(t);
  const colleagues = Array.from({ length: 20 }, (_, i) => member2(`colleague${i}@example.org`, 'Same Org Ltd'));
  const address2 = await app2.listen({ host: '127.0.0.1', port: 0 });
  const results = await Promise.all(
    colleagues.map((m) =>
      fetch(`${address2}/v1/huddles/${huddle2}/bookings`, {
        method: 'POST',
        headers: { ...m.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Us' }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } })),
    ),
  );
  t.equal(results.filter((r) => r.status === 201).length, 1);
  t.equal(results.filter((r) => r.body.code === 'BOOKING_LIMIT_REACHED').length, 19);
  t.equal(count2(), 1);
});

t.test("the private feed holds exactly the member's pitches, with the online link; public views leak nothing", async (t) => {
  const { app, book, member, huddleId } = await setup(t);
  const ada = member('ada@example.org', 'Acme');
  const grace = member('grace@example.org', 'Navy');
  const adaBooking = (await book(ada.auth, { title: 'Gears' })).json();
  const graceBooking = (await book(grace.auth, { title: 'Compilers' })).json();
  const feedOf = async (auth: Record<string, string>) =>
    (await app.inject({ url: '/v1/me', headers: auth })).json().calendar.ics.replace('https://convene.test', '') as string;

  const adaFeed = await app.inject({ url: await feedOf(ada.auth) });
  t.equal(adaFeed.statusCode, 200);
  t.match(adaFeed.headers['content-type'], /^text\/calendar; charset=utf-8/);
  t.match(adaFeed.headers['cache-control'], /^private/);
  const parsed = parseWithIcalJs(adaFeed.body);
  t.equal(parsed.method, 'PUBLISH');
  t.same(
    parsed.events.map((e) => e.uid),
    [`pitch-${adaBooking.id}@convene.test`],
    "only Ada's pitch",
  );
  t.match(parsed.events[0]!.description, /secret-room/, 'with the online link');
  t.same(parsed.events[0]!.attendees, [], 'no attendees in a published feed');
  await libicalAccepts(t, adaFeed.body, 'libical: a valid PUBLISH');
  await withPythonParse(t, adaFeed.body, 'python icalendar reads one event', (t, python) => {
    t.equal(python.events.length, 1);
  });
  t.notMatch(adaFeed.body, new RegExp(graceBooking.id), "nothing of Grace's");

  const again = await app.inject({ url: await feedOf(ada.auth), headers: { 'if-none-match': adaFeed.headers.etag as string } });
  t.equal(again.statusCode, 304);

  const publicFeed = await app.inject({ url: '/v1/clusters/north-west/calendar.ics' });
  t.notMatch(publicFeed.body, /secret-room|pitch-|ada@example|ATTENDEE/, 'the public feed has no pitches, links or people');
  const publicHuddle = await app.inject({ url: `/v1/huddles/${huddleId}` });
  t.notMatch(publicHuddle.body, /secret-room/);

  const old = await feedOf(ada.auth);
  await app.inject({ method: 'POST', url: '/v1/me/calendar-feed/rotate', headers: ada.auth });
  const gone = await app.inject({ url: old });
  t.equal(gone.statusCode, 404);
  t.equal(gone.json().code, 'FEED_NOT_FOUND');
  t.equal((await app.inject({ url: await feedOf(ada.auth) })).statusCode, 200, 'the new address works');
  t.equal((await app.inject({ url: '/v1/feeds/cnv_feed_made-up/calendar.ics' })).statusCode, 404);
});

t.test('default cutoff and booking close agree; contradicting settings are refused; the too-late page names whom to ask', async (t) => {
  const pitch = { slotCount: 3, slotMinutes: 5, changeoverMinutes: 1, startOffsetMinutes: 10 };
  const { app, auth, database, clock, huddleId, member, book, mail } = await setup(t, { smtp: true, huddle: { pitch } });
  const view = (await app.inject({ url: `/v1/huddles/${huddleId}` })).json();
  t.equal(view.pitch.bookingClosesAt, '2026-11-30T09:30:00.000Z', 'booking closes 24 h before by default');
  t.equal(view.pitch.cancellationCutoffHours, 24, 'and members may cancel until then');

  // Booked 30 h before: under 48 h and 24 h this pitch could never be cancelled by its member.
  clock.set('2026-11-30T03:30:00Z');
  const ada = member('ada@example.org', 'Acme');
  const booking = (await book(ada.auth)).json();
  t.equal(booking.status, 'confirmed');
  const [confirmation] = await mail('Pitch confirmed: Winter huddle');
  t.match(confirmation!.parsed.text, /See or cancel your pitch/);
  t.match(confirmation!.parsed.text, /You can cancel it yourself until 2026-11-30 09:30 UTC/);
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: ada.auth })).statusCode, 200);

  // Settings that contradict are refused, and change nothing.
  const before = database.sqlite.prepare('SELECT count(*) AS n FROM huddles').get() as { n: number };
  const contradicting = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddles',
    headers: auth,
    payload: { ...HUDDLE, pitch: { slotCount: 2, bookingClosesHoursBefore: 24, cancellationCutoffHours: 48 } },
  });
  t.equal(contradicting.statusCode, 400);
  t.match(contradicting.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'body/pitch/cancellationCutoffHours' }] });
  t.same(database.sqlite.prepare('SELECT count(*) AS n FROM huddles').get(), before, 'no huddle made');
  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${huddleId}`,
    headers: auth,
    payload: { pitch: { bookingClosesHoursBefore: 12 } },
  });
  t.equal(patched.json().code, 'VALIDATION_FAILED', 'closing booking after the cutoff is refused');
  t.equal((await app.inject({ url: `/v1/huddles/${huddleId}` })).json().pitch.bookingClosesAt, '2026-11-30T09:30:00.000Z', 'unchanged');
  const policy = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: auth,
    payload: { bookingPolicy: { cancellationCutoffHours: 48 } },
  });
  t.match(policy.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'body/bookingPolicy/cancellationCutoffHours' }] });

  // A huddle saved before the rule with a cutoff past its booking close: members may cancel until booking closes.
  database.sqlite.prepare('UPDATE huddles SET cancellation_cutoff_hours = 48 WHERE id = ?').run(huddleId);
  const bob = member('bob@example.org', 'Bobbins');
  const second = (await book(bob.auth)).json();
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/bookings/${second.id}`, headers: bob.auth })).statusCode, 200);

  // Past the cutoff, the email link's page and the API say whom to write to.
  await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: auth,
    payload: { contactEmail: 'huddles@north-west.example' },
  });
  const cat = member('cat@example.org', 'Catalyst');
  const third = (await book(cat.auth)).json();
  const [catMail] = (await mail('Pitch confirmed: Winter huddle', 3)).filter((m) => m.envelope.to.includes('cat@example.org'));
  const link = /https:\/\/convene\.test(\/pitches\/cancel\?token=[^\s"]+)/.exec(catMail!.parsed.text ?? '')![1]!;
  clock.set('2026-11-30T10:00:00Z');
  const page = await app.inject({ url: link });
  t.match(page.body, /too late to cancel it here/);
  t.match(page.body, /huddles@north-west\.example/, 'the page gives the organisers’ address');
  const refused = await app.inject({ method: 'DELETE', url: `/v1/bookings/${third.id}`, headers: cat.auth });
  t.equal(refused.json().code, 'CANCELLATION_CUTOFF_PASSED');
  t.match(refused.json().detail, /huddles@north-west\.example/);
});

t.test('a member suspended while their booking request is still arriving cannot book: the member is read when it is handled', async (t) => {
  const { app, huddleId, member, auth, activeCount } = await setup(t);
  const ada = member('ada@example.org', 'Analytical Engines');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  const body = JSON.stringify({ title: 'Our news' });
  // The headers first: the token is checked as they arrive, while the member is still active.
  socket.write(
    `POST /v1/huddles/${huddleId}/bookings HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ada.auth.authorization}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
  );
  await new Promise((resolve) => setTimeout(resolve, 150));
  const suspended = await app.inject({
    method: 'PATCH',
    url: `/v1/clusters/north-west/members/${ada.member.id}`,
    headers: auth,
    payload: { status: 'suspended' },
  });
  t.equal(suspended.statusCode, 200);
  // Then the body, after the suspension.
  socket.write(body);
  await once(socket, 'end');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  t.ok(status === 403 || status === 401, `refused (${status})`);
  t.equal(activeCount(), 0, 'no booking outlives the suspension');
});
