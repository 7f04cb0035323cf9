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

t.test('every part of a rule is checked, and the refusal names the part', async (t) => {
  const { app, auth, series } = await setup(t);
  const cases: [rule: string, part: string, code?: string][] = [
    ['FREQ=WEEKLY;COUNT=3;WKST=XX', 'WKST'],
    ['FREQ=WEEKLY;COUNT=abc', 'COUNT'],
    ['FREQ=WEEKLY;COUNT=0', 'COUNT'],
    ['FREQ=WEEKLY;COUNT=-3', 'COUNT'],
    ['FREQ=WEEKLY;INTERVAL=2147483647;COUNT=3', 'INTERVAL'],
    ['FREQ=WEEKLY;INTERVAL=0;COUNT=3', 'INTERVAL'],
    ['FREQ=WEEKLY;INTERVAL=1.5;COUNT=3', 'INTERVAL'],
    ['FREQ=SECONDLY;COUNT=3', 'FREQ'],
    ['FREQ=FORTNIGHTLY;COUNT=3', 'FREQ'],
    ['COUNT=3', 'FREQ'],
    ['FREQ=WEEKLY;FREQ=MONTHLY;COUNT=3', 'FREQ'],
    ['FREQ=WEEKLY;COUNT=3;COUNT=4', 'COUNT'],
    ['FREQ=WEEKLY;COUNT=3;FOO=1', 'FOO'],
    ['FREQ=WEEKLY;COUNT=3;BYWEEKNO=2', 'BYWEEKNO'],
    ['FREQ=WEEKLY;UNTIL=20270230', 'UNTIL'],
    ['FREQ=WEEKLY;UNTIL=20270101T250000Z', 'UNTIL'],
    ['FREQ=WEEKLY;COUNT=3;BYDAY=XX', 'BYDAY'],
    ['FREQ=WEEKLY;COUNT=3;BYDAY=MO,,TU', 'BYDAY'],
    ['FREQ=WEEKLY;COUNT=3;BYDAY=1TU', 'BYDAY'],
    ['FREQ=MONTHLY;COUNT=3;BYDAY=6TU', 'BYDAY'],
    ['FREQ=MONTHLY;COUNT=3;BYDAY=0TU', 'BYDAY'],
    ['FREQ=MONTHLY;COUNT=3;BYMONTHDAY=0', 'BYMONTHDAY'],
    ['FREQ=MONTHLY;COUNT=3;BYMONTHDAY=32', 'BYMONTHDAY'],
    ['FREQ=WEEKLY;COUNT=3;BYMONTHDAY=3', 'BYMONTHDAY'],
    ['FREQ=MONTHLY;COUNT=3;BYMONTH=13', 'BYMONTH'],
    ['FREQ=MONTHLY;COUNT=3;BYDAY=TU;BYSETPOS=0', 'BYSETPOS'],
    ['FREQ=MONTHLY;COUNT=3;BYSETPOS=1', 'BYSETPOS'],
    ['FREQ=WEEKLY;COUNT=3;', 'rule part'],
  ];
  for (const [rule, part, code = 'INVALID_RECURRENCE'] of cases) {
    const response = await series(rule);
    t.equal(response.statusCode, 400, rule);
    t.match(response.headers['content-type'], /^application\/problem\+json/, rule);
    const body = response.json();
    t.equal(body.code, code, `${rule}: ${body.detail}`);
    t.match(body.detail, part, `${rule}: the detail names ${part}`);
  }
  const all = await app.inject({ url: '/v1/clusters/north-west/huddles?limit=100&from=2025-01-01T00:00:00Z', headers: auth });
  t.same(all.json().items, [], 'nothing was created');
});

t.test('a rule that never occurs, or reaches too far, is refused; the expansion stops at the horizon', async (t) => {
  const { app, auth, series } = await setup(t);
  const cases: [rule: string, code: string, detail: RegExp][] = [
    // The rules of issue 11: each used to walk to the year 9999 on the event loop before answering.
    ['FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=31;UNTIL=99991231', 'INVALID_RECURRENCE', /BYMONTHDAY.*WEEKLY/],
    ['FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31;UNTIL=99991231', 'SERIES_TOO_LONG', /within 10 years.*UNTIL=99991231/],
    ['FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;COUNT=5', 'INVALID_RECURRENCE', /gives no occurrences within 10 years/],
    ['FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=2MO;COUNT=1', 'INVALID_RECURRENCE', /gives no occurrences/],
    ['FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31;UNTIL=20301231', 'INVALID_RECURRENCE', /gives no occurrences/],
    ['FREQ=SECONDLY;UNTIL=99991231', 'INVALID_RECURRENCE', /FREQ=SECONDLY/],
    ['FREQ=MONTHLY;INTERVAL=99;COUNT=3', 'SERIES_TOO_LONG', /COUNT=3 asks for more than the 2/],
    // Leap days: 29 February 2028 and 2032 are within ten years of 6 January 2026, 2036 is not.
    ['FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;COUNT=3', 'SERIES_TOO_LONG', /COUNT=3 asks for more than the 2/],
  ];
  for (const [rule, code, detail] of cases) {
    const response = await series(rule);
    t.equal(response.statusCode, 400, rule);
    t.equal(response.json().code, code, rule);
    t.match(response.json().detail, detail, rule);
  }
  const leap = await series('FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;COUNT=2');
  t.equal(leap.statusCode, 201, leap.body);
  t.same(
    leap.json().huddles.map((h: View) => h.start.local.slice(0, 10)),
    ['2028-02-29', '2032-02-29'],
  );
  const wide = await series('FREQ=WEEKLY;INTERVAL=99;COUNT=3');
  t.same(
    wide.json().huddles.map((h: View) => h.start.local.slice(0, 10)),
    ['2026-01-06', '2027-11-30', '2029-10-23'],
    'every 99 weeks: three huddles, not one',
  );
  const all = await app.inject({ url: '/v1/clusters/north-west/huddles?limit=100&from=2025-01-01T00:00:00Z', headers: auth });
  t.equal(all.json().items.length, 5, 'only the two good series were created');
});

t.test('the answer tells the organiser of every occurrence moved or left out', async (t) => {
  const { series } = await setup(t);
  const plain = (await series('FREQ=MONTHLY;BYDAY=1TU;COUNT=3')).json();
  t.same(plain.adjustments, [], 'nothing moved or left out');

  const wednesday = await series('FREQ=MONTHLY;BYDAY=1TU;COUNT=2', { start: '2026-01-07T09:30' });
  t.equal(wednesday.statusCode, 201, wednesday.body);
  t.same(
    wednesday.json().huddles.map((h: View) => h.start.local),
    ['2026-02-03T09:30:00+00:00', '2026-03-03T09:30:00+00:00'],
  );
  t.match(wednesday.json().adjustments, [
    {
      kind: 'dropped',
      requested: '2026-01-07T09:30',
      startsAt: null,
      detail: /not an occurrence of FREQ=MONTHLY;BYDAY=1TU;COUNT=2.*2026-02-03/,
    },
  ]);
  t.equal(wednesday.json().adjustments.length, 1);

  const night = (await series('FREQ=WEEKLY;COUNT=3', { start: '2026-03-22T01:30' })).json();
  t.same(night.adjustments, [
    {
      kind: 'moved',
      requested: '2026-03-29T01:30',
      startsAt: '2026-03-29T02:30:00+01:00',
      detail: '01:30 does not exist on 2026-03-29 in Europe/London (the clocks go forward): this huddle starts at 02:30',
    },
  ]);

  const monthEnd = (await series('FREQ=MONTHLY;COUNT=3', { start: '2026-01-31T18:00' })).json();
  t.same(
    monthEnd.huddles.map((h: View) => h.start.local.slice(0, 10)),
    ['2026-01-31', '2026-03-31', '2026-05-31'],
  );
  t.same(
    monthEnd.adjustments.map((a: { kind: string; requested: string }) => [a.kind, a.requested]),
    [
      ['dropped', '2026-02-31T18:00'],
      ['dropped', '2026-04-31T18:00'],
    ],
    'each month without a 31st is named; June, after the series ends, is not',
  );
});

t.test('moving this and the following occurrences into a daylight-saving gap is refused, not done silently', async (t) => {
  const { app, auth, series } = await setup(t);
  const { huddles } = (await series('FREQ=WEEKLY;COUNT=3', { start: '2026-03-15T10:00' })).json() as { huddles: View[] };
  const moved = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${huddles[0]!.id}?scope=following`,
    headers: auth,
    payload: { start: '2026-03-15T01:30' },
  });
  t.equal(moved.statusCode, 400, moved.body);
  t.equal(moved.json().code, 'NONEXISTENT_LOCAL_TIME');
  t.match(moved.json().detail, /2026-03-29T01:30 does not exist in Europe\/London/);
  const after = await Promise.all(
    huddles.map(async (h) => (await app.inject({ url: `/v1/huddles/${h.id}`, headers: auth })).json() as View),
  );
  t.same(
    after.map((h) => h.start.local),
    ['2026-03-15T10:00:00+00:00', '2026-03-22T10:00:00+00:00', '2026-03-29T10:00:00+01:00'],
    'nothing changed',
  );
  const fine = await app.inject({
    method: 'PATCH',
    url: `/v1/huddles/${huddles[0]!.id}?scope=following`,
    headers: auth,
    payload: { start: '2026-03-15T03:30' },
  });
  t.equal(fine.statusCode, 200, 'a time that exists on every day moves them all');
});
