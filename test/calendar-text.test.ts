// People's text in every calendar Convene writes: a cluster, huddle or person named with quotes,
// semicolons, commas, backslashes and carets must read back exactly in ical.js, libical and Python's
// icalendar, in the public feed, a huddle's .ics, a member's feed and an emailed invitation.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken } from './fixtures.js';
import { startSmtpSink } from './helpers/smtp.js';
import { libicalAccepts, parseWithIcalJs, withLibicalRead, withPythonParse } from './helpers/calendar.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';

const CLUSTER = 'North West "HealthTec"; Cluster, C:\\Data ^ 2026';
const TITLE = 'Gait, sensors; and \\ backslash C:\\Data\\Trials';
const VENUE = 'Hall "A"; Floor 2, Wing\\B';
const PERSON = 'Robert "Bob" Smith; PhD';

/** What Python's icalendar 4 (Debian 12) shows for a CN: the RFC 6868 text, not decoded (icalendar 6 decodes it). */
const rfc6868 = (value: string) => value.replace(/\^/g, '^^').replace(/"/g, "^'");

async function setup(t: Test) {
  const sink = await startSmtpSink(t);
  const transport = createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 });
  t.teardown(() => transport.close());
  const built = await buildTestApp(t, { env: { MAIL_WORKER: 'true' }, transport });
  const { app, database, config, clock } = built;
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const renamed = await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers: org.auth, payload: { name: CLUSTER } });
  t.equal(renamed.statusCode, 200, renamed.body);
  const created = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddles',
    headers: org.auth,
    payload: {
      title: TITLE,
      description: 'Line one; with, marks\nLine two \\ end',
      start: '2026-12-01T09:30',
      durationMinutes: 60,
      venue: { name: VENUE },
      status: 'published',
    },
  });
  t.equal(created.statusCode, 201, created.body);
  const member = createMemberWithToken(database, config, clock, 'north-west', {
    email: 'bob@example.org',
    name: PERSON,
    organisation: 'Smith "Devices"',
  });
  return { ...built, ...org, sink, member, huddleId: created.json().id as string };
}

/** The same checks on one calendar, in all three parsers. */
async function readsBack(t: Test, text: string, what: string, expect: { calendarName?: string; attendee?: string }) {
  const parsed = parseWithIcalJs(text);
  const event = parsed.events.find((e) => e.summary === TITLE);
  t.ok(event, `${what}: ical.js reads the title exactly`);
  t.equal(event?.organizerName, CLUSTER, `${what}: ical.js reads the organiser's name exactly`);
  t.match(event?.location, VENUE, `${what}: ical.js reads the venue exactly`);
  if (expect.calendarName) {
    t.equal(parsed.name, expect.calendarName, `${what}: ical.js reads X-WR-CALNAME exactly`);
    t.equal(parsed.rfc7986Name, expect.calendarName, `${what}: ical.js reads NAME exactly`);
  }
  if (expect.attendee) t.same(event?.attendeeNames, [expect.attendee], `${what}: ical.js reads the attendee's name exactly`);
  await libicalAccepts(t, text, `${what}: libical finds it valid`);
  await withLibicalRead(t, text, `${what}: libical reads the same texts`, (t, read) => {
    const event = read.events.find((e) => e.summary === TITLE);
    t.ok(event, 'the title');
    t.equal(event?.organizerName, CLUSTER, "the organiser's name");
    t.match(event?.location, VENUE, 'the venue');
    if (expect.calendarName) t.same([read.name, read.rfc7986Name], [expect.calendarName, expect.calendarName], 'the calendar names');
    if (expect.attendee) t.same(event?.attendeeNames, [expect.attendee], "the attendee's name");
  });
  await withPythonParse(t, text, `${what}: python icalendar reads the same texts`, (t, python) => {
    const event = python.events.find((e) => e.summary === TITLE);
    t.ok(event, 'the title');
    t.ok(event?.organizer, 'the ORGANIZER is kept');
    t.equal(event?.organizerName, rfc6868(CLUSTER), "the organiser's name, RFC 6868-encoded");
    t.match(event?.location, VENUE, 'the venue');
    if (expect.calendarName) t.equal(python.name, expect.calendarName, 'X-WR-CALNAME');
    if (expect.attendee) t.same(event?.attendeeNames, [rfc6868(expect.attendee)], "the attendee's name, RFC 6868-encoded");
  });
}

t.test('names with quotes, semicolons, commas, backslashes and carets read back exactly in every calendar', async (t) => {
  const { app, auth, sink, member, huddleId } = await setup(t);

  const feed = await app.inject({ url: '/v1/clusters/north-west/calendar.ics' });
  t.equal(feed.statusCode, 200);
  t.notMatch(feed.body, /CN="[^"\r\n]*\\"/, 'no backslash-escaped quote inside a parameter');
  await readsBack(t, feed.body, 'the public feed', { calendarName: CLUSTER });

  const single = await app.inject({ url: `/v1/huddles/${huddleId}/calendar.ics` });
  t.equal(single.statusCode, 200);
  await readsBack(t, single.body, "the huddle's .ics", {});

  const registered = await app.inject({ method: 'POST', url: `/v1/huddles/${huddleId}/registrations`, headers: member.auth });
  t.equal(registered.statusCode, 201, registered.body);
  const me = await app.inject({ url: '/v1/me', headers: member.auth });
  const memberFeed = await app.inject({ url: me.json().calendar.ics.replace('https://convene.test', '') });
  t.equal(memberFeed.statusCode, 200);
  await readsBack(t, memberFeed.body, "the member's feed", { calendarName: `${CLUSTER}: ${PERSON}` });

  const invited = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddleId}/invitations`,
    headers: auth,
    payload: { addresses: [{ email: 'grace@example.org', name: PERSON }] },
  });
  t.equal(invited.statusCode, 202, invited.body);
  const invitation = await sink.message('grace@example.org', `Invitation: ${TITLE}`);
  const part = invitation.parsed.attachments.find((a) => a.contentType === 'text/calendar');
  t.ok(part, 'the invitation carries a calendar');
  await readsBack(t, part!.content.toString('utf8'), 'the invitation', { calendarName: CLUSTER, attendee: PERSON });
});

t.test('a line end or a control character in a name never breaks a calendar line', async (t) => {
  const { textValue, paramValue, personLine } = await import('../src/lib/ical-text.js');
  t.equal(textValue('a;b,c\\d\r\ne\nf\rg\u0001h\ti'), 'a\\;b\\,c\\\\d\\ne\\nf\\ng' + 'h\ti');
  t.equal(paramValue('say "hi"\n^ok\u0007'), `"say ^'hi^'^n^^ok"`);
  t.equal(personLine('ORGANIZER', { email: 'a@example.org', name: '  ' }), 'ORGANIZER:mailto:a@example.org', 'a blank name writes no CN');
  const calendar = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//EN',
    'BEGIN:VEVENT',
    'UID:x@example.org',
    'DTSTAMP:20261201T000000Z',
    'DTSTART:20261201T093000Z',
    `SUMMARY:${textValue('one\ntwo; three')}`,
    personLine('ATTENDEE', { email: 'b@example.org', name: 'two\nlines "quoted" ^' }),
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
  const event = parseWithIcalJs(calendar).events[0]!;
  t.equal(event.summary, 'one\ntwo; three');
  t.same(event.attendeeNames, ['two\nlines "quoted" ^']);
});
