// Huddles over HTTP: create, read, list, edit, publish, cancel, with time zones done right.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';

const base = {
  title: 'December huddle',
  description: 'Pitches and news',
  start: '2026-12-01T09:30',
  timezone: 'Europe/London',
  durationMinutes: 120,
  venue: { name: 'Bruntwood SciTech', address: 'Manchester Science Park' },
  onlineUrl: 'https://meet.example.org/secret-room',
  capacity: 60,
  themes: ['digital', 'devices'],
  pitch: { slotCount: 6, slotMinutes: 5, changeoverMinutes: 1, startOffsetMinutes: 30 },
};

async function setup(t: Test) {
  const built = await buildTestApp(t);
  const org = createClusterWithOrganiser(built.database);
  const create = (body: Record<string, unknown> = {}) =>
    built.app.inject({ method: 'POST', url: '/v1/clusters/north-west/huddles', headers: org.auth, payload: { ...base, ...body } });
  return { ...built, ...org, create };
}

t.test('an organiser creates a draft; the public cannot see it until it is published', async (t) => {
  const { app, auth, create } = await setup(t);
  const created = await create();
  t.equal(created.statusCode, 201, created.body);
  const huddle = created.json();
  t.match(created.headers.location, `/v1/huddles/${huddle.id}`);
  t.match(huddle, {
    status: 'draft',
    start: { utc: '2026-12-01T09:30:00Z', local: '2026-12-01T09:30:00+00:00', timezone: 'Europe/London' },
    end: { utc: '2026-12-01T11:30:00Z' },
    onlineUrl: 'https://meet.example.org/secret-room',
    sequence: 0,
    pitch: { slotCount: 6, bookingClosesAt: '2026-11-30T09:30:00.000Z', cancellationCutoffHours: 24 },
    calendar: {
      ics: `https://convene.test/v1/huddles/${huddle.id}/calendar.ics`,
      webcal: `webcal://convene.test/v1/huddles/${huddle.id}/calendar.ics`,
    },
  });
  t.match(huddle.calendar.google, /^https:\/\/calendar\.google\.com\/calendar\/r\?cid=webcal%3A%2F%2F/);

  t.equal((await app.inject(`/v1/huddles/${huddle.id}`)).statusCode, 404, 'a draft is not public');
  t.equal((await app.inject('/v1/clusters/north-west/huddles')).json().items.length, 0);

  const published = await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: auth, payload: { status: 'published' } });
  t.equal(published.statusCode, 200);
  t.equal(published.json().sequence, 1, 'publishing is a status change');

  const publicView = await app.inject(`/v1/huddles/${huddle.id}`);
  t.equal(publicView.statusCode, 200);
  t.equal(publicView.json().hasOnlineLink, true);
  t.notOk('onlineUrl' in publicView.json(), 'no online link in public');
  t.notMatch(publicView.body, /secret-room/);
  const list = await app.inject('/v1/clusters/north-west/huddles');
  t.equal(list.json().items.length, 1);
  t.notMatch(list.body, /secret-room/);
});

t.test('a huddle read again is the same answer, follows every edit, and never mixes the public and organiser views', async (t) => {
  // Views are kept per row version; the test clock stands still, so the edits below share one millisecond.
  const { app, auth, create } = await setup(t);
  const huddle = (await create({ status: 'published' })).json();
  const first = await app.inject(`/v1/huddles/${huddle.id}`);
  const again = await app.inject(`/v1/huddles/${huddle.id}`);
  t.equal(again.body, first.body, 'byte-identical');
  t.equal(again.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(first.headers['content-type'], again.headers['content-type']);
  const organiser = await app.inject({ url: `/v1/huddles/${huddle.id}`, headers: auth });
  t.equal(organiser.json().onlineUrl, 'https://meet.example.org/secret-room', 'the organiser sees the link');
  t.notMatch((await app.inject(`/v1/huddles/${huddle.id}`)).body, /secret-room/, 'the public still does not');
  const listed = await app.inject('/v1/clusters/north-west/huddles');
  t.equal(listed.headers['content-type'], 'application/json; charset=utf-8');
  t.same(listed.json(), { items: [first.json()], nextCursor: null }, 'a list shows the same view');
  t.ok(listed.body.includes(first.body), 'serialised the same way');
  for (const title of ['First rename', 'Second rename']) {
    t.equal((await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: auth, payload: { title } })).statusCode, 200);
    t.equal((await app.inject(`/v1/huddles/${huddle.id}`)).json().title, title, `public view after "${title}"`);
    t.equal((await app.inject({ url: `/v1/huddles/${huddle.id}`, headers: auth })).json().title, title, `organiser view after "${title}"`);
    t.equal((await app.inject('/v1/clusters/north-west/huddles')).json().items[0].title, title, `public list after "${title}"`);
    t.equal(
      (await app.inject({ url: '/v1/clusters/north-west/huddles', headers: auth })).json().items[0].title,
      title,
      `organiser list after "${title}"`,
    );
  }
  const cancelled = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddle.id}/cancel`,
    headers: auth,
    payload: { reason: 'Snow' },
  });
  t.equal(cancelled.statusCode, 200);
  t.match(
    (await app.inject(`/v1/huddles/${huddle.id}`)).json(),
    { status: 'cancelled', cancellation: { reason: 'Snow' } },
    'the cancellation shows at once',
  );
});

t.test('times: a summer huddle shows its BST offset; an explicit offset is an instant', async (t) => {
  const { create } = await setup(t);
  const summer = (await create({ start: '2026-07-07T09:30' })).json();
  t.same(summer.start, { utc: '2026-07-07T08:30:00Z', local: '2026-07-07T09:30:00+01:00', timezone: 'Europe/London' });
  const offset = (await create({ start: '2026-07-07T12:00:00+02:00' })).json();
  t.equal(offset.start.utc, '2026-07-07T10:00:00Z');
  t.equal(offset.start.local, '2026-07-07T11:00:00+01:00');
  const newYork = (await create({ start: '2026-07-07T09:30', timezone: 'America/New_York' })).json();
  t.equal(newYork.start.utc, '2026-07-07T13:30:00Z');
});

t.test('the spring-forward gap is refused; the autumn overlap means its first occurrence', async (t) => {
  const { create } = await setup(t);
  const gap = await create({ start: '2026-03-29T01:30' });
  t.equal(gap.statusCode, 400);
  t.equal(gap.json().code, 'NONEXISTENT_LOCAL_TIME');
  t.match(gap.json().detail, /does not exist in Europe\/London/);

  const overlap = (await create({ start: '2026-10-25T01:30' })).json();
  t.equal(overlap.start.utc, '2026-10-25T00:30:00Z', 'the first 01:30 (BST)');
  t.equal(overlap.start.local, '2026-10-25T01:30:00+01:00');
  const second = (await create({ start: '2026-10-25T01:30:00+00:00' })).json();
  t.equal(second.start.utc, '2026-10-25T01:30:00Z', 'the second 01:30 with an explicit offset');
});

t.test('bad input is a clear 400 and creates nothing', async (t) => {
  const { app, auth, create } = await setup(t);
  const cases: [Record<string, unknown>, string][] = [
    [{ timezone: 'Europe/Atlantis' }, 'timezone'],
    [{ start: 'next tuesday' }, 'start'],
    [{ start: '2026-02-30T09:00' }, 'start'],
    [{ durationMinutes: 0 }, 'durationMinutes'],
    [{ durationMinutes: 100000 }, 'durationMinutes'],
    [{ venue: null, onlineUrl: null }, 'venue'],
    [{ onlineUrl: 'javascript:alert(1)' }, 'onlineUrl'],
    [{ title: 'Bad\u0007bell' }, 'title'],
    [{ title: 'x'.repeat(201) }, 'title'],
    [{ themes: ['astrology'] }, 'themes'],
    [{ pitch: { slotCount: 30, slotMinutes: 10 } }, 'pitch'],
    [{ capacity: -1 }, 'capacity'],
    [{ colour: 'red' }, 'colour'],
  ];
  for (const [body, field] of cases) {
    const response = await create(body);
    t.equal(response.statusCode, 400, `${field}: ${response.body}`);
    t.match(response.json().errors?.[0]?.field ?? response.json().detail, field);
  }
  const list = await app.inject({ url: '/v1/clusters/north-west/huddles?status=draft', headers: auth });
  t.equal(list.json().items.length, 0, 'nothing was created');
});

t.test('every change a calendar shows bumps SEQUENCE (a title too); a change of time moves the slots; capacity does not', async (t) => {
  const { app, auth, create } = await setup(t);
  const huddle = (await create({ status: 'published' })).json();
  t.equal(huddle.sequence, 0);
  const recapped = await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: auth, payload: { capacity: 40 } });
  t.equal(recapped.json().sequence, 0, 'capacity is not in a calendar entry');
  const retitled = await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: auth, payload: { title: 'New title' } });
  t.equal(retitled.json().sequence, 1, 'the title is (SUMMARY)');
  const described = await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: auth, payload: { description: 'New' } });
  t.equal(described.json().sequence, 2, 'so is the description');
  const moved = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${huddle.id}`,
    headers: auth,
    payload: { start: '2026-12-02T14:00' },
  });
  t.equal(moved.statusCode, 200);
  t.equal(moved.json().sequence, 3);
  t.equal(moved.json().start.utc, '2026-12-02T14:00:00Z');
  const slots = (await app.inject(`/v1/huddles/${huddle.id}/slots`)).json().items;
  t.equal(slots.length, 6);
  t.same(slots[0].start.utc, '2026-12-02T14:30:00Z');
  t.same(slots[1].start.utc, '2026-12-02T14:36:00Z', '5 minutes and a 1 minute changeover');
  t.same(slots[5].end.utc, '2026-12-02T15:05:00Z');
  t.ok(slots.every((slot: { available: boolean }) => slot.available));
});

t.test('cancel with a reason: kept public for 30 days, then gone; no further edits', async (t) => {
  const { app, auth, create, clock } = await setup(t);
  const huddle = (await create({ status: 'published' })).json();
  const cancelled = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddle.id}/cancel`,
    headers: auth,
    payload: { reason: 'Venue flooded' },
  });
  t.equal(cancelled.statusCode, 200);
  t.match(cancelled.json(), { status: 'cancelled', cancellation: { reason: 'Venue flooded' }, sequence: 1 });
  t.equal((await app.inject(`/v1/huddles/${huddle.id}`)).json().status, 'cancelled');
  const again = await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/cancel`, headers: auth, payload: { reason: 'again' } });
  t.equal(again.json().code, 'HUDDLE_CANCELLED');
  const edit = await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: auth, payload: { title: 'x' } });
  t.equal(edit.statusCode, 409);
  (clock as unknown as { advance(ms: number): void }).advance(31 * 86_400_000);
  t.equal((await app.inject(`/v1/huddles/${huddle.id}`)).statusCode, 404, 'no longer public after 30 days');
  t.equal((await app.inject({ url: `/v1/huddles/${huddle.id}`, headers: auth })).statusCode, 200, 'organisers still see it');
});

t.test('lists filter by range, theme and status, and page with a cursor', async (t) => {
  const { app, auth, create } = await setup(t);
  for (let month = 1; month <= 5; month++) {
    await create({ start: `2027-0${month}-05T10:00`, status: 'published', themes: month % 2 ? ['digital'] : ['devices'] });
  }
  await create({ start: '2027-03-10T10:00' });
  const all = (await app.inject({ url: '/v1/clusters/north-west/huddles?limit=2', headers: auth })).json();
  t.equal(all.items.length, 2);
  const seen = [...all.items];
  let cursor = all.nextCursor;
  while (cursor) {
    const page = (await app.inject({ url: `/v1/clusters/north-west/huddles?limit=2&cursor=${cursor}`, headers: auth })).json();
    seen.push(...page.items);
    cursor = page.nextCursor;
  }
  t.equal(seen.length, 6, 'organisers see drafts too');
  t.same(
    seen.map((h: { start: { utc: string } }) => h.start.utc),
    [...seen.map((h: { start: { utc: string } }) => h.start.utc)].sort(),
  );
  const digital = (await app.inject('/v1/clusters/north-west/huddles?theme=digital')).json().items;
  t.equal(digital.length, 3);
  const range = (await app.inject('/v1/clusters/north-west/huddles?from=2027-02-01T00:00:00Z&to=2027-04-01T00:00:00Z')).json().items;
  t.equal(range.length, 2, 'public: the draft in range is hidden');
  const drafts = (await app.inject({ url: '/v1/clusters/north-west/huddles?status=draft', headers: auth })).json().items;
  t.equal(drafts.length, 1);
  t.equal((await app.inject('/v1/clusters/north-west/huddles?cursor=garbage')).statusCode, 400);
});

t.test("organiser routes refuse the public, other clusters' keys, and hide other clusters' huddles", async (t) => {
  const { app, database, create } = await setup(t);
  const other = createClusterWithOrganiser(database, 'west-midlands');
  const huddle = (await create()).json();
  t.equal((await app.inject({ method: 'POST', url: '/v1/clusters/north-west/huddles', payload: base })).statusCode, 401);
  t.equal(
    (await app.inject({ method: 'POST', url: '/v1/clusters/north-west/huddles', headers: other.auth, payload: base })).statusCode,
    403,
  );
  const patch = await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.id}`, headers: other.auth, payload: { title: 'mine' } });
  t.equal(patch.statusCode, 404, "another cluster's huddle is not found");
  const missing = await app.inject({
    method: 'PATCH',
    url: '/v1/huddles/01900000-0000-7000-8000-000000000000',
    headers: other.auth,
    payload: { title: 'mine' },
  });
  t.same(patch.json().title, missing.json().title, 'same answer as a huddle that does not exist');
  t.equal(
    (await app.inject({ url: `/v1/huddles/${huddle.id}`, headers: other.auth })).statusCode,
    404,
    'another cluster cannot read a draft',
  );
  t.equal(
    (await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/cancel`, headers: other.auth, payload: { reason: 'x' } }))
      .statusCode,
    404,
  );
});

t.test('a start with an offset no clock uses is 400 and creates nothing (issue 11, item 7)', async (t) => {
  const { app, auth, create } = await setup(t);
  for (const start of [
    '2027-01-01T09:30:00+25:00',
    '2027-01-01T09:30:00-99:00',
    '2027-01-01T09:30:00+14:01',
    '2027-01-01T09:30:00-12:30',
    '2027-01-01T09:30:00+05:60',
  ]) {
    const response = await create({ start });
    t.equal(response.statusCode, 400, start);
    t.equal(response.json().code, 'VALIDATION_FAILED');
    t.match(response.json().errors, [{ field: 'body/start', message: /offset .* no clock uses/ }]);
  }
  // The real extremes are taken: Kiribati, Baker Island, Nepal, Chatham.
  for (const [start, utc] of [
    ['2027-01-01T09:30:00+14:00', '2026-12-31T19:30:00Z'],
    ['2027-01-01T09:30:00-12:00', '2027-01-01T21:30:00Z'],
    ['2027-01-01T09:30:00+05:45', '2027-01-01T03:45:00Z'],
    ['2027-01-01T09:30:00+12:45', '2026-12-31T20:45:00Z'],
  ]) {
    const response = await create({ start });
    t.equal(response.statusCode, 201, `${start} ${response.body}`);
    t.equal(response.json().start.utc, utc);
  }
  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${(await create()).json().id}`,
    headers: auth,
    payload: { start: '2027-01-01T09:30:00+25:00' },
  });
  t.ok(patched.statusCode >= 400 && patched.statusCode < 500, 'a change to an impossible offset is refused too');
  const filter = await app.inject('/v1/clusters/north-west/huddles?from=2027-01-01T09:30:00%2B25:00');
  t.equal(filter.statusCode, 400, 'and the list filter refuses it');
});

t.test('a start outside the window is 400 TIME_OUT_OF_RANGE; a past start is taken with a notice (issue 11, item 8)', async (t) => {
  const { app, auth, create } = await setup(t); // the clock says 2026-11-23T09:00Z
  for (const start of [
    '9999-12-31T23:30',
    '0001-01-01T09:00',
    '2025-11-01T09:30',
    '2036-12-01T09:30',
    '2027-01-01T09:30:00+00:00'.replace('2027', '2037'),
  ]) {
    const response = await create({ start });
    t.equal(response.statusCode, 400, `${start}: ${response.body}`);
    t.equal(response.json().code, 'TIME_OUT_OF_RANGE');
    t.match(response.json().detail, /check the year/);
    t.match(response.json().errors, [{ field: 'body/start' }]);
  }
  t.equal(
    (await app.inject({ url: '/v1/clusters/north-west/huddles?from=2000-01-01T00:00:00Z', headers: auth })).json().items.length,
    0,
    'nothing created',
  );

  const future = await create({ start: '2035-12-01T09:30' });
  t.equal(future.statusCode, 201, 'nine years ahead is fine');
  t.notOk('notices' in future.json(), 'a future huddle has no notice');

  const past = await create({ start: '2026-06-01T09:30', status: 'published' });
  t.equal(past.statusCode, 201, past.body);
  t.match(past.json().notices, [{ code: 'HUDDLE_IN_PAST', message: /2026-06-01T08:30:00.000Z, which is in the past/ }]);
  const moved = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${future.json().id}`,
    headers: auth,
    payload: { start: '2026-11-20T09:30' },
  });
  t.equal(moved.statusCode, 200, moved.body);
  t.match(moved.json().notices, [{ code: 'HUDDLE_IN_PAST' }], 'moving a huddle into the past says so');
  const tooFar = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${future.json().id}`,
    headers: auth,
    payload: { start: '9999-12-31T23:30' },
  });
  t.equal(tooFar.json().code, 'TIME_OUT_OF_RANGE', 'and so does a change');
  t.notOk('notices' in (await app.inject({ url: `/v1/huddles/${past.json().id}`, headers: auth })).json(), 'reads carry no notices');

  const series = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/huddle-series',
    headers: auth,
    payload: { rrule: 'FREQ=WEEKLY;COUNT=2', template: { ...base, start: '9999-12-31T23:30' } },
  });
  t.equal(series.json().code, 'TIME_OUT_OF_RANGE', 'a series template too');
});
