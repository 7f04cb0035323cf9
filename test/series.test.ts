// Series: an RRULE expanded in the series' zone, at most 100 occurrences, edited one or this-and-following.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';

const template = {
  title: 'Monthly huddle',
  start: '2026-01-06T09:30',
  timezone: 'Europe/London',
  durationMinutes: 90,
  venue: { name: 'Alderley Park' },
  pitch: { slotCount: 4, slotMinutes: 5, changeoverMinutes: 0, startOffsetMinutes: 30 },
};

async function setup(t: Test) {
  const built = await buildTestApp(t);
  const org = createClusterWithOrganiser(built.database);
  const series = (rrule: string, overrides: Record<string, unknown> = {}, status = 'published') =>
    built.app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/huddle-series',
      headers: org.auth,
      payload: { rrule, template: { ...template, ...overrides }, status },
    });
  return { ...built, ...org, series };
}

type View = { id: string; start: { utc: string; local: string }; title: string; status: string; seriesId: string };

t.test('the first Tuesday of each month stays at 09:30 London time through summer time', async (t) => {
  const { series } = await setup(t);
  const response = await series('FREQ=MONTHLY;BYDAY=1TU;COUNT=12');
  t.equal(response.statusCode, 201, response.body);
  const body = response.json();
  t.equal(body.rrule, 'FREQ=MONTHLY;BYDAY=1TU;COUNT=12');
  t.equal(body.huddles.length, 12);
  const locals = body.huddles.map((h: View) => h.start.local);
  t.equal(locals[0], '2026-01-06T09:30:00+00:00');
  t.equal(locals[3], '2026-04-07T09:30:00+01:00', 'April is in BST');
  t.equal(locals[6], '2026-07-07T09:30:00+01:00');
  t.equal(locals[10], '2026-11-03T09:30:00+00:00');
  t.ok(
    locals.every((local: string) => local.slice(11, 16) === '09:30'),
    'always 09:30 local',
  );
  t.equal(body.huddles[6].start.utc, '2026-07-07T08:30:00Z');
  t.equal(new Set(body.huddles.map((h: View) => h.id)).size, 12, 'each occurrence is its own huddle');
  t.ok(body.huddles.every((h: View) => h.seriesId === body.id));
});

t.test('weekly across both 2026 DST changes keeps the wall-clock time; a time in the gap moves forward', async (t) => {
  const { series } = await setup(t);
  const spring = (await series('FREQ=WEEKLY;BYDAY=SU;COUNT=3', { start: '2026-03-22T10:00' })).json();
  t.same(
    spring.huddles.map((h: View) => h.start.local),
    ['2026-03-22T10:00:00+00:00', '2026-03-29T10:00:00+01:00', '2026-04-05T10:00:00+01:00'],
  );
  const autumn = (await series('FREQ=WEEKLY;UNTIL=20261101', { start: '2026-10-18T10:00' })).json();
  t.same(
    autumn.huddles.map((h: View) => h.start.local),
    ['2026-10-18T10:00:00+01:00', '2026-10-25T10:00:00+00:00', '2026-11-01T10:00:00+00:00'],
  );

  const night = (await series('FREQ=WEEKLY;COUNT=2', { start: '2026-03-22T01:30' })).json();
  t.equal(
    night.huddles[1].start.local,
    '2026-03-29T02:30:00+01:00',
    '01:30 does not exist on 29 March: moved forward by the gap (RFC 5545)',
  );
  const overlap = (await series('FREQ=WEEKLY;COUNT=2', { start: '2026-10-18T01:30' })).json();
  t.equal(overlap.huddles[1].start.utc, '2026-10-25T00:30:00Z', 'the repeated 01:30 on 25 October is its first occurrence');
});

t.test('bad rules and long series are refused and create nothing', async (t) => {
  const { app, auth, series } = await setup(t);
  const cases: [string, string][] = [
    ['FREQ=WEEKLY', 'SERIES_TOO_LONG'],
    ['FREQ=WEEKLY;COUNT=101', 'SERIES_TOO_LONG'],
    ['FREQ=DAILY;COUNT=3', 'INVALID_RECURRENCE'],
    ['FREQ=WEEKLY;COUNT=3;BYHOUR=9', 'INVALID_RECURRENCE'],
    ['FREQ=WEEKLY;COUNT=3;UNTIL=20270101', 'INVALID_RECURRENCE'],
    ['this is not a rule', 'INVALID_RECURRENCE'],
    ['FREQ=MONTHLY;UNTIL=2027', 'INVALID_RECURRENCE'],
    ['FREQ=WEEKLY;UNTIL=20250101', 'INVALID_RECURRENCE'],
  ];
  for (const [rule, code] of cases) {
    const response = await series(rule);
    t.equal(response.statusCode, 400, rule);
    t.equal(response.json().code, code, rule);
  }
  t.equal((await series('FREQ=WEEKLY;COUNT=100')).json().huddles.length, 100, '100 is allowed');
  const all = await app.inject({ url: '/v1/clusters/north-west/huddles?limit=100&from=2025-01-01T00:00:00Z', headers: auth });
  t.equal(all.json().items.length, 100, 'only the allowed series was created');
});

t.test('edit this occurrence, or this and all following', async (t) => {
  const { app, auth, series } = await setup(t);
  const { huddles } = (await series('FREQ=MONTHLY;BYDAY=1TU;COUNT=6')).json() as { huddles: View[] };
  const third = huddles[2]!;

  const one = await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddles[0]!.id}`, headers: auth, payload: { title: 'Kick-off' } });
  t.equal(one.json().title, 'Kick-off');

  const following = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${third.id}?scope=following`,
    headers: auth,
    payload: { start: '2026-03-03T10:15', title: 'Later huddle' },
  });
  t.equal(following.statusCode, 200, following.body);
  const after = await Promise.all(
    huddles.map(async (h) => (await app.inject({ url: `/v1/huddles/${h.id}`, headers: auth })).json() as View & { sequence: number }),
  );
  t.same(
    after.map((h) => h.title),
    ['Kick-off', 'Monthly huddle', 'Later huddle', 'Later huddle', 'Later huddle', 'Later huddle'],
  );
  t.same(
    after.map((h) => h.start.local.slice(11, 16)),
    ['09:30', '09:30', '10:15', '10:15', '10:15', '10:15'],
  );
  t.equal(after[3]!.start.local, '2026-04-07T10:15:00+01:00', 'BST occurrence keeps the new wall-clock time');
  t.same(
    after.map((h) => h.sequence),
    [1, 0, 1, 1, 1, 1],
    'a new title or time is a new SEQUENCE, each edit once',
  );

  const cancelled = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddles[4]!.id}/cancel?scope=following`,
    headers: auth,
    payload: { reason: 'Series ends early' },
  });
  t.equal(cancelled.statusCode, 200);
  const statuses = await Promise.all(
    huddles.map(async (h) => (await app.inject({ url: `/v1/huddles/${h.id}`, headers: auth })).json().status),
  );
  t.same(statuses, ['published', 'published', 'published', 'published', 'cancelled', 'cancelled']);
});
