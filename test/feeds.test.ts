// Calendar feeds, parsed by two independent iCalendar implementations, with ETag/304 and cache invalidation.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { libicalAccepts, parseWithIcalJs, withPythonParse } from './helpers/calendar.js';
import { createFeedsService } from '../src/modules/feeds/feeds.service.js';

const huddle = {
  title: 'Winter huddle',
  description: 'Pitches, news and coffee',
  start: '2026-12-01T09:30',
  timezone: 'Europe/London',
  durationMinutes: 120,
  venue: { name: 'Bruntwood SciTech', address: 'Manchester Science Park\nLloyd Street North' },
  onlineUrl: 'https://meet.example.org/very-private-room',
  themes: ['digital'],
  status: 'published',
};

async function setup(t: Test) {
  const built = await buildTestApp(t);
  const org = createClusterWithOrganiser(built.database);
  const create = async (body: Record<string, unknown> = {}) => {
    const response = await built.app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/huddles',
      headers: org.auth,
      payload: { ...huddle, ...body },
    });
    if (response.statusCode !== 201) throw new Error(response.body);
    return response.json() as { id: string };
  };
  const feed = (query = '', headers: Record<string, string> = {}) =>
    built.app.inject({ url: `/v1/clusters/north-west/calendar.ics${query}`, headers });
  return { ...built, ...org, create, feed };
}

t.test('the public feed parses in ical.js and python icalendar with the right instants and no private data', async (t) => {
  const { create, feed } = await setup(t);
  const winter = await create();
  const summer = await create({ title: 'Summer huddle', start: '2027-07-06T09:30', themes: ['devices'] });
  await create({ title: 'Draft huddle', status: 'draft' });

  const response = await feed();
  t.equal(response.statusCode, 200);
  t.equal(response.headers['content-type'], 'text/calendar; charset=utf-8');
  t.match(response.headers['cache-control'], /max-age=/);
  t.ok(response.headers.etag);
  t.ok(response.headers['last-modified']);
  const text = response.body;
  t.notMatch(text, /very-private-room/, 'no online link in the public feed');
  t.notMatch(text, /ATTENDEE/, 'no attendees in the public feed');
  t.notMatch(text, /organiser@north-west/, 'no organiser address');
  t.match(text, /REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n/);
  t.match(text, /X-PUBLISHED-TTL:PT1H\r\n/);

  const ical = parseWithIcalJs(text);
  t.equal(ical.name, 'Cluster north-west');
  t.equal(ical.events.length, 2, 'drafts are not published');
  const [first, second] = ical.events;
  t.match(first, {
    uid: `huddle-${winter.id}@convene.test`,
    summary: 'Winter huddle',
    start: '2026-12-01T09:30:00.000Z',
    end: '2026-12-01T11:30:00.000Z',
    status: 'CONFIRMED',
    sequence: 0,
  });
  t.match(second, { uid: `huddle-${summer.id}@convene.test`, start: '2027-07-06T08:30:00.000Z', end: '2027-07-06T10:30:00.000Z' });
  t.match(first!.location, 'Bruntwood SciTech, Manchester Science Park, Lloyd Street North');
  t.ok(first!.lastModified, 'LAST-MODIFIED on every event');
  t.match(first!.stamp, /Z$/);

  await withPythonParse(t, text, 'python icalendar reads the same calendar', (t, python) => {
    t.equal(python.events.length, 2);
    t.equal(python.method, 'PUBLISH');
    t.equal(python.events[0]!.dtstart, '2026-12-01T09:30:00+00:00');
    t.equal(python.events[1]!.dtstart, '2027-07-06T08:30:00+00:00', 'python reads the same instant');
    t.equal(python.events[1]!.uid, `huddle-${summer.id}@convene.test`);
  });

  await libicalAccepts(t, text, 'libical: valid under the RFC 5546 rules for PUBLISH');

  const devices = parseWithIcalJs((await feed('?theme=devices')).body);
  t.same(
    devices.events.map((e) => e.summary),
    ['Summer huddle'],
    'the theme filter',
  );
});

t.test('ETag and Last-Modified give 304; an edit gives a new ETag and a higher SEQUENCE', async (t) => {
  const { app, auth, create, feed } = await setup(t);
  const winter = await create();
  const first = await feed();
  const etag = first.headers.etag as string;
  const notModified = await feed('', { 'if-none-match': etag });
  t.equal(notModified.statusCode, 304);
  t.equal(notModified.body, '');
  t.equal(notModified.headers.etag, etag);
  t.equal((await feed('', { 'if-modified-since': first.headers['last-modified'] as string })).statusCode, 304);
  t.equal((await feed('', { 'if-none-match': '"something-else"' })).statusCode, 200);
  t.equal((await feed()).body, first.body, 'byte-identical while nothing changes');

  const moved = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${winter.id}`,
    headers: auth,
    payload: { start: '2026-12-02T10:00' },
  });
  t.equal(moved.statusCode, 200);
  const after = await feed('', { 'if-none-match': etag });
  t.equal(after.statusCode, 200, 'the old ETag no longer matches');
  t.not(after.headers.etag, etag);
  const event = parseWithIcalJs(after.body).events[0]!;
  t.equal(event.sequence, 1);
  t.equal(event.start, '2026-12-02T10:00:00.000Z');
  t.equal(event.uid, `huddle-${winter.id}@convene.test`, 'the UID is stable');
});

t.test('an edit shows in the feed even when it lands in the same millisecond as the last one', async (t) => {
  // The test clock does not move, as two edits within one millisecond would not: the row's version tells them apart.
  const { app, auth, create, feed } = await setup(t);
  const winter = await create();
  t.equal(parseWithIcalJs((await feed()).body).events[0]!.summary, 'Winter huddle');
  const renamed = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${winter.id}`,
    headers: auth,
    payload: { title: 'Renamed huddle' },
  });
  t.equal(renamed.statusCode, 200);
  t.equal(parseWithIcalJs((await feed()).body).events[0]!.summary, 'Renamed huddle');
  const shown = await app.inject({ url: `/v1/huddles/${winter.id}` });
  t.equal(shown.json().title, 'Renamed huddle', 'and in the public view');
  for (const name of ['North West Health', 'North West HealthTech']) {
    const cluster = await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers: auth, payload: { name } });
    t.equal(cluster.statusCode, 200, cluster.body);
    t.match((await feed()).body, new RegExp(`X-WR-CALNAME:${name}\r\n`), `the cluster renamed "${name}", twice in one millisecond`);
  }
});

t.test('a cancelled huddle stays in the feed as STATUS:CANCELLED for 30 days', async (t) => {
  const { app, auth, create, feed, clock } = await setup(t);
  const winter = await create({ start: '2027-02-01T09:30' });
  await app.inject({ method: 'POST', url: `/v1/huddles/${winter.id}/cancel`, headers: auth, payload: { reason: 'Snow' } });
  const [event] = parseWithIcalJs((await feed()).body).events;
  t.match(event, { status: 'CANCELLED', sequence: 1, summary: 'Cancelled: Winter huddle' });
  t.match(event!.description, /Snow/);
  await withPythonParse(t, (await feed()).body, 'python icalendar reads STATUS:CANCELLED', (t, python) => {
    t.equal(python.events[0]!.status, 'CANCELLED');
  });
  (clock as unknown as { advance(ms: number): void }).advance(31 * 86_400_000);
  t.equal(parseWithIcalJs((await feed()).body).events.length, 0, 'gone after 30 days');
});

t.test('hostile text cannot break the feed', async (t) => {
  const { create, feed } = await setup(t);
  const nasty = 'Pitch; night, with "quotes" \\ back\\slash 😀 and\r\nBEGIN:VEVENT\r\nUID:evil';
  await create({
    title: `Emoji 🚀; commas, semicolons ${'long '.repeat(30)}`.slice(0, 200),
    description: nasty + 'x'.repeat(9000),
    venue: { name: 'Room; 1, "A"', address: nasty },
  });
  const text = (await feed()).body;
  t.ok(
    text.split('\r\n').every((line) => Buffer.byteLength(line) <= 75),
    'lines folded at 75 octets',
  );
  t.notMatch(text, /\r\nUID:evil/, 'no injected property');
  const parsed = parseWithIcalJs(text);
  t.equal(parsed.events.length, 1);
  t.match(parsed.events[0]!.description, 'BEGIN:VEVENT');
  t.match(parsed.events[0]!.location, 'Room; 1, "A"');
  t.match(parsed.events[0]!.summary, /^Emoji 🚀; commas, semicolons/);
  await withPythonParse(t, text, 'python icalendar reads one event', (t, python) => {
    t.equal(python.events.length, 1);
  });
  await libicalAccepts(t, text, 'libical: a valid PUBLISH');
});

t.test("one huddle's calendar file; the cluster profile links to the feed", async (t) => {
  const { app, create } = await setup(t);
  const winter = await create();
  const draft = await create({ status: 'draft' });
  const response = await app.inject(`/v1/huddles/${winter.id}/calendar.ics`);
  t.equal(response.statusCode, 200);
  t.equal(parseWithIcalJs(response.body).events[0]!.uid, `huddle-${winter.id}@convene.test`);
  t.equal((await app.inject(`/v1/huddles/${draft.id}/calendar.ics`)).statusCode, 404);
  const profile = (await app.inject('/v1/clusters/north-west')).json();
  t.same(profile.calendar.webcal, 'webcal://convene.test/v1/clusters/north-west/calendar.ics');
  t.equal((await app.inject('/v1/clusters/nowhere/calendar.ics')).statusCode, 404);
});

t.test('a feed built in pages is the feed built at once; concurrent requests share one build', async (t) => {
  const { app, auth, services, feed } = await setup(t);
  const series = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddle-series',
    headers: auth,
    payload: { rrule: 'FREQ=WEEKLY;COUNT=20', status: 'published', template: { ...huddle, status: undefined, themes: ['digital'] } },
  });
  t.equal(series.statusCode, 201, series.body);
  // Some huddles start at the same instant, so pages also split ties on the id.
  await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddles',
    headers: auth,
    payload: { ...huddle, title: 'Same time', themes: ['devices'] },
  });
  const whole = await feed();
  const themed = await feed('?theme=digital');
  t.equal(parseWithIcalJs(whole.body).events.length, 21);
  t.equal(parseWithIcalJs(themed.body).events.length, 20);

  const feedsIn = (pageSize: number) => createFeedsService({ ...services, pageSize });
  const paged = feedsIn(3);
  const cluster = services.clusters.stamp('north-west');
  t.equal((await paged.clusterFeed(cluster, undefined)).body, whole.body, 'pages of 3 give the same bytes');
  t.equal((await paged.clusterFeed(cluster, 'digital')).body, themed.body, 'and with a theme');

  const fresh = feedsIn(3);
  const [a, b] = await Promise.all([fresh.clusterFeed(cluster, undefined), fresh.clusterFeed(cluster, undefined)]);
  t.equal(a, b, 'two requests during one build get the same result object');
});
