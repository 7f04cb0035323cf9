// Invitations, updates and cancellations, captured from a real SMTP server on 127.0.0.1 and parsed as calendars.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { startSmtpSink, type ReceivedMessage } from './helpers/smtp.js';
import { libicalAccepts, parseWithIcalJs, withPythonParse } from './helpers/calendar.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';
import type { Huddle } from '../src/db/schema.js';
import { whenText } from '../src/shared/huddle-text.js';

const huddle = {
  title: 'Winter huddle',
  description: 'Pitches and news',
  start: '2026-12-01T09:30',
  durationMinutes: 120,
  venue: { name: 'Bruntwood SciTech' },
  onlineUrl: 'https://meet.example.org/room-42',
  status: 'published',
};

async function setup(t: Test) {
  const sink = await startSmtpSink(t);
  const transport = createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 });
  t.teardown(() => transport.close());
  const built = await buildTestApp(t, { env: { MAIL_WORKER: 'true' }, transport });
  const org = createClusterWithOrganiser(built.database);
  const created = await built.app.inject({ method: 'POST', url: '/v1/clusters/north-west/huddles', headers: org.auth, payload: huddle });
  const invite = (payload: Record<string, unknown>) =>
    built.app.inject({ method: 'POST', url: `/v1/huddles/${created.json().id}/invitations`, headers: org.auth, payload });
  return { ...built, ...org, sink, huddleId: created.json().id as string, invite };
}

function calendarOf(message: ReceivedMessage) {
  const part = message.parsed.attachments.find((a) => a.contentType === 'text/calendar');
  if (!part) throw new Error('no text/calendar part');
  const mime = (part.headers.get('content-type') as { params: Record<string, string> }).params.method;
  return { mime, text: part.content.toString('utf8') };
}

t.test('each invitee gets one email with a METHOD:REQUEST invitation naming them as ATTENDEE', async (t) => {
  const { sink, invite, huddleId } = await setup(t);
  const response = await invite({
    addresses: [{ email: 'Ada@Example.org', name: 'Ada Lovelace' }, { email: 'grace@example.org' }, { email: 'ada@example.org' }],
  });
  t.equal(response.statusCode, 202, response.body);
  t.same(response.json(), { invited: 2, alreadyInvited: 0 });
  await sink.waitFor(2);

  const byRecipient = new Map(sink.messages.map((m) => [m.envelope.to[0], m]));
  t.same([...byRecipient.keys()].sort(), ['ada@example.org', 'grace@example.org'], 'one each, duplicates folded');
  const ada = byRecipient.get('ada@example.org')!;
  t.equal(ada.parsed.subject, 'Invitation: Winter huddle');
  t.match(ada.parsed.text, /Tuesday 1 December 2026, 09:30–11:30 \(Europe\/London, GMT\)/);
  t.match(ada.parsed.html, /Winter huddle/);
  const { mime, text } = calendarOf(ada);
  t.equal(mime, 'REQUEST', 'MIME method= REQUEST');
  const parsed = parseWithIcalJs(text);
  t.equal(parsed.method, 'REQUEST', 'the calendar says REQUEST too');
  t.match(parsed.events[0], {
    uid: `huddle-${huddleId}@convene.test`,
    sequence: 0,
    start: '2026-12-01T09:30:00.000Z',
    organizer: 'mailto:convene@localhost',
  });
  t.ok(parsed.events[0]!.organizer, 'ORGANIZER present (MAIL_FROM, or the cluster contact when set)');
  t.same(
    parsed.events[0]!.attendees.map((a) => a.toLowerCase()),
    ['mailto:ada@example.org'],
    'the recipient is the only ATTENDEE',
  );
  t.match(parsed.events[0]!.description, /room-42/, 'invitees get the online link');
  await libicalAccepts(t, text, 'libical: valid under the RFC 5546 rules for REQUEST');
  await withPythonParse(t, text, 'python icalendar reads the same invitation', (t, python) => {
    t.equal(python.method, 'REQUEST');
    t.equal(python.events[0]!.dtstart, '2026-12-01T09:30:00+00:00');
  });

  const again = await invite({ addresses: [{ email: 'ada@example.org' }, { email: 'linus@example.org' }] });
  t.same(again.json(), { invited: 1, alreadyInvited: 1 }, 'never invited twice');
  await sink.waitFor(3);
  t.equal(sink.messages.filter((m) => m.envelope.to[0] === 'ada@example.org').length, 1);
});

t.test('any change a calendar shows sends REQUEST with a higher SEQUENCE; cancellation sends CANCEL with the same UID', async (t) => {
  const { app, auth, sink, invite, huddleId } = await setup(t);
  await invite({ addresses: [{ email: 'ada@example.org' }] });
  await sink.waitFor(1);
  const invitation = parseWithIcalJs(calendarOf(sink.messages[0]!).text).events[0]!;
  await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddleId}`, headers: auth, payload: { capacity: 50 } });
  await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddleId}`, headers: auth, payload: { title: 'Just a new title' } });
  await sink.waitFor(2);
  const retitle = sink.messages[1]!;
  t.equal(retitle.parsed.subject, 'Updated: Just a new title', 'a title change is an update (capacity alone sent nothing)');
  t.match(retitle.parsed.text, /has changed: the title\./);
  const retitled = parseWithIcalJs(calendarOf(retitle).text).events[0]!;
  t.match(retitled, { uid: invitation.uid, summary: 'Just a new title', sequence: 1 }, 'same UID, higher SEQUENCE');
  t.ok(retitled.stamp >= invitation.stamp, 'a DTSTAMP no older than the invitation');
  await libicalAccepts(t, calendarOf(retitle).text, 'libical: the title update is a valid REQUEST');

  const moved = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${huddleId}`,
    headers: auth,
    payload: { start: '2026-12-03T14:00', description: 'New agenda' },
  });
  t.equal(moved.statusCode, 200);
  await sink.waitFor(3);
  const update = sink.messages[2]!;
  t.equal(update.parsed.subject, 'Updated: Just a new title');
  t.match(update.parsed.text, /has changed: the time and the description\./);
  const updated = calendarOf(update);
  t.equal(updated.mime, 'REQUEST');
  const updatedEvent = parseWithIcalJs(updated.text).events[0]!;
  t.equal(updatedEvent.sequence, 2, 'SEQUENCE grew');
  t.equal(updatedEvent.start, '2026-12-03T14:00:00.000Z');

  const cancelled = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddleId}/cancel`,
    headers: auth,
    payload: { reason: 'Venue flooded' },
  });
  t.equal(cancelled.statusCode, 200);
  await sink.waitFor(4);
  const cancellation = sink.messages[3]!;
  t.equal(cancellation.parsed.subject, 'Cancelled: Just a new title');
  t.match(cancellation.parsed.text, /Venue flooded/);
  const { mime, text } = calendarOf(cancellation);
  t.equal(mime, 'CANCEL');
  const parsed = parseWithIcalJs(text);
  t.equal(parsed.method, 'CANCEL');
  t.match(parsed.events[0], { uid: `huddle-${huddleId}@convene.test`, status: 'CANCELLED', sequence: 3 });
  t.same(
    parsed.events[0]!.attendees.map((a) => a.toLowerCase()),
    ['mailto:ada@example.org'],
  );
  await libicalAccepts(t, text, 'libical: valid under the RFC 5546 rules for CANCEL');
  await libicalAccepts(t, updated.text, 'libical: the update is a valid REQUEST');
  t.equal(sink.messages.length, 4, 'one email per change a calendar shows, none for capacity');
});

t.test('invitations are refused for drafts, bad input, unknown audiences and other clusters', async (t) => {
  const { app, auth, database, invite, huddleId } = await setup(t);
  const draft = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddles',
    headers: auth,
    payload: { ...huddle, status: 'draft' },
  });
  const toDraft = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${draft.json().id}/invitations`,
    headers: auth,
    payload: { addresses: [{ email: 'a@example.org' }] },
  });
  t.equal(toDraft.json().code, 'HUDDLE_NOT_PUBLISHED');
  t.equal((await invite({})).statusCode, 400);
  t.equal((await invite({ addresses: [{ email: 'not-an-address' }] })).statusCode, 400);
  t.equal((await invite({ addresses: [{ email: 'a@example.org\r\nBcc: b@example.org' }] })).statusCode, 400);
  t.equal((await invite({ addresses: Array.from({ length: 501 }, (_, i) => ({ email: `p${i}@example.org` })) })).statusCode, 400);
  const unknownAudience = await invite({ audience: 'everyone' });
  t.equal(unknownAudience.statusCode, 400, 'only the members and subscribers audiences exist');
  const other = createClusterWithOrganiser(database, 'west-midlands');
  const foreign = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddleId}/invitations`,
    headers: other.auth,
    payload: { addresses: [{ email: 'a@example.org' }] },
  });
  t.equal(foreign.statusCode, 404);
  const list = await app.inject({ url: `/v1/huddles/${huddleId}/invitations`, headers: auth });
  t.same(list.json().items, [], 'nothing was invited');

  await app.inject({ method: 'POST', url: `/v1/huddles/${huddleId}/cancel`, headers: auth, payload: { reason: 'Venue flooded' } });
  const toCancelled = await invite({ addresses: [{ email: 'a@example.org' }] });
  t.equal(toCancelled.statusCode, 409);
  t.equal(toCancelled.json().code, 'HUDDLE_CANCELLED', 'a cancelled huddle says so, rather than asking to publish it');
});

t.test('the "when" line follows the huddle\'s times and zone, however often it is asked for', async (t) => {
  const at = (start: string, end: string, timezone: string) => ({ startsAt: new Date(start), endsAt: new Date(end), timezone }) as Huddle;
  const winter = at('2026-12-01T09:30:00Z', '2026-12-01T11:30:00Z', 'Europe/London');
  t.equal(whenText(winter), 'Tuesday 1 December 2026, 09:30–11:30 (Europe/London, GMT)');
  t.equal(whenText(winter), 'Tuesday 1 December 2026, 09:30–11:30 (Europe/London, GMT)', 'asked again');
  t.equal(
    whenText(at('2026-12-01T09:30:00Z', '2026-12-01T11:30:00Z', 'Europe/Paris')),
    'Tuesday 1 December 2026, 10:30–12:30 (Europe/Paris, CET)',
    'same instants, another zone',
  );
  t.equal(
    whenText(at('2026-12-02T10:00:00Z', '2026-12-02T12:00:00Z', 'Europe/London')),
    'Wednesday 2 December 2026, 10:00–12:00 (Europe/London, GMT)',
    'moved',
  );
  t.equal(
    whenText(at('2026-12-01T09:30:00Z', '2026-12-01T12:30:00Z', 'Europe/London')),
    'Tuesday 1 December 2026, 09:30–12:30 (Europe/London, GMT)',
    'longer',
  );
});

t.test('an invitation to the subscribers audience is withheld from someone who unsubscribes before it leaves', async (t) => {
  const sink = await startSmtpSink(t);
  const { app, database, services } = await buildTestApp(t, { env: { SMTP_URL: sink.url, MAIL_WORKER: 'false' } });
  const { auth, cluster } = createClusterWithOrganiser(database);
  const subscribe = (email: string) => {
    services.subscribers.signUp(cluster, { email, topics: ['huddle-invites'] }, { source: 'api', ip: '203.0.113.9', userAgent: null });
    const subscriber = services.subscribers.findByEmail(cluster, email);
    services.subscribers.confirm(subscriber, { source: 'email-link' });
    return subscriber;
  };
  const stays = subscribe('stays@example.org');
  const leaves = subscribe('leaves@example.org');
  const drops = subscribe('drops-topic@example.org');
  const created = await app.inject({ method: 'POST', url: '/v1/clusters/north-west/huddles', headers: auth, payload: huddle });
  const invited = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${created.json().id}/invitations`,
    headers: auth,
    payload: { audience: 'subscribers' },
  });
  t.match(invited.json(), { invited: 3 });
  // While the invitations wait in the outbox, one person unsubscribes and another drops the topic.
  const oneClick = await app.inject({
    method: 'POST',
    url:
      new URL(services.subscribers.link('unsubscribe', leaves.id)).pathname +
      new URL(services.subscribers.link('unsubscribe', leaves.id)).search,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'List-Unsubscribe=One-Click',
  });
  t.equal(oneClick.statusCode, 200, oneClick.body);
  services.subscribers.updatePreferences(
    services.subscribers.findByEmail(cluster, drops.email),
    cluster,
    { topics: ['newsletter'], themes: [] },
    { source: 'email-link', ip: '203.0.113.9', userAgent: null },
  );
  await services.mail.worker({ concurrency: 2 }).drain();

  const invitations = sink.messages.filter((m) => /Invitation/.test(m.parsed.subject ?? ''));
  t.same(
    invitations.map((m) => m.envelope.to[0]),
    [stays.email],
    'only the one who still wants invitations gets one',
  );
  const statuses = database.sqlite
    .prepare(
      "SELECT to_address AS address, status, last_error AS reason FROM outbox WHERE kind = 'huddle.invitation-to-subscriber' ORDER BY to_address",
    )
    .all();
  t.match(statuses, [
    { address: 'drops-topic@example.org', status: 'withheld', reason: /left the topic/ },
    { address: 'leaves@example.org', status: 'withheld', reason: /unsubscribed/ },
    { address: 'stays@example.org', status: 'sent' },
  ]);
});
