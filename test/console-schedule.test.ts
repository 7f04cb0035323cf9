// Scheduling from the console over real HTTP: a monthly series across the spring clock change, previewed
// (the moved occurrence marked) and then saved with exactly the previewed dates; the pitch rules refused
// against their fields; a change that moves a booked pitch confirmed as a step (the pitcher emailed);
// publishing a draft; cancelling after seeing who will be told; a viewer schedules nothing.
import t, { type Test } from 'tap';
import { manualClock } from '../src/lib/clock.js';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, servicesFor, consoleCookie } from './fixtures.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

/** The form as a browser sends it, from the fields given over the new-huddle defaults. */
function fields(values: Record<string, string | string[]>): string {
  const all: Record<string, string | string[]> = {
    title: 'Monthly huddle',
    description: '',
    date: '2027-01-28',
    time: '01:30',
    duration: '90',
    venueName: 'Hall',
    venueAddress: '',
    onlineUrl: '',
    capacity: '',
    slotCount: '3',
    slotMinutes: '5',
    changeoverMinutes: '1',
    startOffsetMinutes: '0',
    opensDaysBefore: '',
    closesHoursBefore: '24',
    cutoffHours: '24',
    repeat: 'none',
    interval: '1',
    count: '4',
    ...values,
  };
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(all)) for (const one of [value].flat()) params.append(name, one);
  return params.toString();
}

async function setup(t: Test) {
  const clock = manualClock('2026-11-23T09:00:00Z');
  const built = await buildTestApp(t, { clock });
  const { app, database } = built;
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const services = servicesFor(database, clock);
  const signIn = (email = 'organiser@north-west.example') => consoleCookie(database, clock, email);
  const cookie = signIn();
  const newPage = await app.inject({ url: '/console/north-west/huddles/new', headers: { cookie } });
  const csrf = encodeURIComponent(/name="_csrf" value="([^"]+)"/.exec(newPage.body)![1]!);
  const post = (path: string, body: string, who = cookie) =>
    app.inject({
      method: 'POST',
      url: `/console/north-west/huddles${path}`,
      headers: { ...form, cookie: who },
      payload: `_csrf=${csrf}&${body}`,
    });
  return { ...built, clock, org, services, signIn, cookie, csrf, newPage, post };
}

t.test('a monthly series across the clock change: previewed, then saved with the previewed dates', async (t) => {
  const { app, database, org, cookie, newPage, post } = await setup(t);
  t.equal(newPage.statusCode, 200);
  t.match(newPage.body, /In the cluster’s time zone, Europe\/London\./);
  t.match(newPage.body, /<input id="slotCount" name="slotCount" type="text" value="6"/, 'the cluster’s defaults, six slots');
  const series = fields({ repeat: 'monthly-day' });

  const preview = await post('/new', `${series}&intent=preview`);
  t.equal(preview.statusCode, 200);
  t.match(preview.body, /4 huddles would be made:/);
  const previewed = [...preview.body.matchAll(/<li><span>([^<]+)<\/span>(<span class="tag">moved by a clock change<\/span>)?<\/li>/g)].map(
    (match) => [match[1], Boolean(match[2])],
  );
  t.same(previewed, [
    ['Thursday, 28 January 2027, 01:30 GMT', false],
    ['Sunday, 28 February 2027, 01:30 GMT', false],
    ['Sunday, 28 March 2027, 02:30 BST', true],
    ['Wednesday, 28 April 2027, 01:30 BST', false],
  ]);
  t.match(preview.body, /moved from 2027-03-28 01:30 to 2027-03-28 02:30:00\+01:00: the clocks go forward then/);
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM huddles').get() as { n: number }).n, 0, 'a preview saves nothing');
  t.match(preview.body, /value="monthly-day" id="repeat-monthly-day" checked/, 'the form keeps what was chosen');

  const saved = await post('/new', `${series}&intent=draft`);
  t.equal(saved.statusCode, 303);
  t.match(saved.headers.location, /^\/console\/north-west\/huddles\/[0-9a-f-]+\?done=series&n=4$/);
  const starts = (
    database.sqlite.prepare('SELECT starts_at AS at, status FROM huddles ORDER BY starts_at').all() as { at: number; status: string }[]
  ).map((row) => new Date(row.at).toISOString());
  t.same(
    starts,
    ['2027-01-28T01:30:00.000Z', '2027-02-28T01:30:00.000Z', '2027-03-28T01:30:00.000Z', '2027-04-28T00:30:00.000Z'],
    'the previewed dates, saved',
  );
  const page = await app.inject({ url: saved.headers.location as string, headers: { cookie } });
  t.match(page.body, /Saved: 4 huddles\. This is the first\./);
  t.match(page.body, /draft \(not published\)/);

  const api = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddle-series/preview',
    headers: org.auth,
    payload: {
      rrule: 'FREQ=MONTHLY;BYMONTHDAY=28;COUNT=4',
      template: { title: 'X', start: '2027-01-28T01:30', durationMinutes: 90, venue: { name: 'Hall' } },
    },
  });
  t.equal(api.statusCode, 200, 'the API previews too');
  t.same(
    (api.json().occurrences as { start: { utc: string } }[]).map((o) => o.start.utc.replace('.000', '')),
    starts.map((s) => s.replace('.000', '')),
  );
  t.equal(api.json().adjustments[0].kind, 'moved');
});

t.test('the pitch rules are refused against their fields; bad numbers too; nothing saved', async (t) => {
  const { database, post } = await setup(t);
  const contradiction = await post('/new', `${fields({ closesHoursBefore: '12', cutoffHours: '48' })}&intent=draft`);
  t.equal(contradiction.statusCode, 400);
  t.match(
    contradiction.body,
    /<p class="field-error" id="cutoffHours-error">[^<]*bookingClosesHoursBefore[^<]*<\/p><input id="cutoffHours"[^>]*aria-invalid="true"/,
  );
  const tooMany = await post('/new', `${fields({ slotCount: '50', slotMinutes: '10', duration: '60' })}&intent=draft`);
  t.equal(tooMany.statusCode, 400);
  t.match(tooMany.body, /id="slotCount-error">/);
  const typo = await post('/new', `${fields({ duration: 'ninety', date: '28/01/2027' })}&intent=draft`);
  t.equal(typo.statusCode, 400);
  t.match(typo.body, /id="duration-error">Enter a whole number from 5 to 1440\.<\/p>/);
  t.match(typo.body, /id="date-error">Enter a day, like 2026-12-10\.<\/p>/);
  t.match(typo.body, /value="ninety"/, 'what was typed stays');
  const nowhere = await post('/new', `${fields({ venueName: '' })}&intent=draft`);
  t.equal(nowhere.statusCode, 400);
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM huddles').get() as { n: number }).n, 0);
});

t.test('a change that moves a booked pitch is a step to confirm; publish; cancel after seeing who is told', async (t) => {
  const { app, database, config, clock, cookie, post, signIn } = await setup(t);
  const made = await post('/new', `${fields({ title: 'One-off', date: '2027-02-10', time: '09:30' })}&intent=publish`);
  t.match(made.headers.location, /\?done=published$/);
  const id = /huddles\/([0-9a-f-]+)\?/.exec(made.headers.location as string)![1]!;
  const ada = createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@example.org', organisation: 'Acme' });
  t.equal(
    (await app.inject({ method: 'POST', url: `/v1/huddles/${id}/bookings`, headers: ada.auth, payload: { title: 'Gait' } })).statusCode,
    201,
  );
  const edit = await app.inject({ url: `/console/north-west/huddles/${id}/edit`, headers: { cookie } });
  t.match(edit.body, /<input id="time" name="time" type="time" value="09:30"/);

  const later = fields({ title: 'One-off', date: '2027-02-10', time: '10:00' });
  const guarded = await post(`/${id}/edit`, later);
  t.equal(guarded.statusCode, 409);
  t.match(guarded.body, /This change moves 1 booked pitch to a new time\. Its pitcher is emailed the new time with a calendar update\./);
  t.match(guarded.body, /<button type="submit" name="bookings" value="move">Save and move the pitches<\/button>/);
  t.equal(
    new Date((database.sqlite.prepare('SELECT starts_at AS at FROM huddles').get() as { at: number }).at).toISOString(),
    '2027-02-10T09:30:00.000Z',
    'nothing changed yet',
  );
  const moved = await post(`/${id}/edit`, `${later}&bookings=move`);
  t.equal(moved.headers.location, `/console/north-west/huddles/${id}?done=saved`);
  const told = database.sqlite
    .prepare("SELECT count(*) AS n FROM outbox WHERE to_address = 'ada@example.org' AND kind = 'pitch.moved'")
    .get() as { n: number };
  t.equal(told.n, 1, 'the pitcher is emailed the new time');

  const cancelPage = await app.inject({ url: `/console/north-west/huddles/${id}/cancel`, headers: { cookie } });
  t.match(cancelPage.body, /emailed a calendar cancellation with your reason: 1 pitcher, 0 registered attendees and 0 invited people\./);
  t.equal((await post(`/${id}/cancel`, 'reason=')).statusCode, 400, 'a reason is needed');
  const cancelled = await post(`/${id}/cancel`, `reason=${encodeURIComponent('The venue flooded')}`);
  t.equal(cancelled.headers.location, `/console/north-west/huddles/${id}?done=cancelled`);
  t.equal(
    (database.sqlite.prepare('SELECT status, cancel_reason AS reason FROM huddles').get() as { status: string; reason: string }).reason,
    'The venue flooded',
  );
  const cancellation = database.sqlite
    .prepare("SELECT count(*) AS n FROM outbox WHERE to_address = 'ada@example.org' AND kind = 'pitch.cancelled'")
    .get() as { n: number };
  t.equal(cancellation.n, 1, 'the pitcher is told');

  servicesFor(database, clock).organisers.create(
    'north-west',
    { email: 'funder@example.org', name: 'Fran', role: 'viewer' },
    { type: 'cli', label: 'test' },
  );
  const viewer = signIn('funder@example.org');
  const viewerForm = await app.inject({ url: '/console/north-west/huddles/new', headers: { cookie: viewer } });
  const viewerCsrf = encodeURIComponent(/name="_csrf" value="([^"]+)"/.exec(viewerForm.body)![1]!);
  const refused = await app.inject({
    method: 'POST',
    url: '/console/north-west/huddles/new',
    headers: { ...form, cookie: viewer },
    payload: `_csrf=${viewerCsrf}&${fields({})}&intent=publish`,
  });
  t.equal(refused.statusCode, 403);
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM huddles').get() as { n: number }).n, 1, 'the viewer made nothing');
});

t.test('an edit sends only what changed: the ones after keep their own changes; a form sent back unchanged tells nobody', async (t) => {
  const { app, database, org, cookie, post } = await setup(t);
  const series = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddle-series',
    headers: org.auth,
    payload: {
      rrule: 'FREQ=WEEKLY;COUNT=3',
      template: {
        title: 'Weekly',
        start: '2027-02-02T09:30',
        durationMinutes: 60,
        venue: { name: 'Hall', address: 'Line one\nLine two' },
        description: 'First\nSecond',
      },
      status: 'published',
    },
  });
  t.equal(series.statusCode, 201, series.body);
  const [first, , third] = (series.json().huddles as { id: string }[]).map((h) => h.id) as [string, string, string];
  const own = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${third}`,
    headers: org.auth,
    payload: { title: 'Weekly: special guest', capacity: 200 },
  });
  t.equal(own.statusCode, 200);
  const updates = () => (database.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE kind LIKE 'huddle.%'").get() as { n: number }).n;
  const sequence = (id: string) =>
    (database.sqlite.prepare('SELECT sequence FROM huddles WHERE id = ?').get(id) as { sequence: number }).sequence;

  // The form as a browser sends it back untouched (textareas with CRLF line ends).
  const edit = await app.inject({ url: `/console/north-west/huddles/${first}/edit`, headers: { cookie } });
  t.match(edit.body, /<textarea id="venueAddress" name="venueAddress" rows="2">Line one\nLine two<\/textarea>/);
  const untouched = fields({
    title: 'Weekly',
    date: '2027-02-02',
    time: '09:30',
    duration: '60',
    venueName: 'Hall',
    venueAddress: 'Line one\r\nLine two',
    description: 'First\r\nSecond',
    slotCount: '0',
    closesHoursBefore: '24',
    cutoffHours: '24',
  });
  const before = sequence(first);
  const same = await post(`/${first}/edit`, `${untouched}&scope=following`);
  t.equal(same.headers.location, `/console/north-west/huddles/${first}?done=saved`);
  t.equal(sequence(first), before, 'nothing changed: no new calendar sequence');

  const bigger = await post(
    `/${first}/edit`,
    `${fields({ ...Object.fromEntries(new URLSearchParams(untouched)), capacity: '80' })}&scope=following`,
  );
  t.equal(bigger.statusCode, 303);
  const rows = database.sqlite.prepare('SELECT title, capacity FROM huddles ORDER BY starts_at').all();
  t.same(
    rows,
    [
      { title: 'Weekly', capacity: 80 },
      { title: 'Weekly', capacity: 80 },
      { title: 'Weekly: special guest', capacity: 80 },
    ],
    'only the capacity went to the ones after; the third keeps its own title',
  );
  t.equal(updates(), 0, 'a capacity change tells nobody');

  const bad = await post(
    `/${first}/edit`,
    `${fields({ ...Object.fromEntries(new URLSearchParams(untouched)), onlineUrl: 'javascript:alert(1)', title: 'x'.repeat(250) })}`,
  );
  t.equal(bad.statusCode, 400, 'the API schema’s checks apply to the form');
  t.match(bad.body, /id="onlineUrl-error">Not accepted:/);
  t.match(bad.body, /id="title-error">Not accepted:/);
  t.equal((database.sqlite.prepare('SELECT online_url AS url FROM huddles WHERE id = ?').get(first) as { url: string | null }).url, null);
});
