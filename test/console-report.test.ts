// Check-in at the door and the impact report, over real HTTP: people checked in from the console's door
// list (expected ones, a walk-in found by name, an undo) and through the API; then the report for a
// range, whose figures (organisations by type, first-time pitchers, no-shows, repeat attendance) match
// what the test made, in JSON, on the page (with its SVG charts) and in the CSV.
import t from 'tap';
import { manualClock } from '../src/lib/clock.js';
import type { OrganisationType } from '../src/db/schema.js';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, publishHuddle, servicesFor, consoleCookie } from './fixtures.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

t.test('check people in at the door, then the impact report counts exactly what was recorded', async (t) => {
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database, config } = await buildTestApp(t, { clock });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const services = servicesFor(database, clock, config);
  const person = (email: string, name: string, organisation: string, organisationType: OrganisationType) =>
    createMemberWithToken(database, config, clock, 'north-west', { email, name, organisation, organisationType });
  const ada = person('ada@acme.example', 'Ada', 'Acme', 'company');
  const bob = person('bob@uni.example', 'Bob', 'Uni of Leeds', 'university');
  const cat = person('cat@trust.example', 'Cat', 'Leeds NHS Trust', 'nhs');
  const dan = person('dan@vc.example', 'Dan', 'VC Fund', 'investor');
  const eve = person('eve@charity.example', 'Eve', 'Care Charity', 'charity');
  const huddle = (title: string, start: string) => publishHuddle(app, org.auth, { title, start, pitch: { slotCount: 3 } });
  const before = await huddle('Before', '2026-12-03T09:30');
  const second = await huddle('Second', '2026-12-17T09:30');
  const third = await huddle('Third', '2026-12-29T09:30');
  const last = await huddle('Last day', '2026-12-31T09:30');
  const future = await huddle('Next year', '2027-01-20T09:30');
  const pitch = async (who: { auth: Record<string, string> }, huddleId: string) =>
    t.equal(
      (await app.inject({ method: 'POST', url: `/v1/huddles/${huddleId}/bookings`, headers: who.auth, payload: { title: 'News' } }))
        .statusCode,
      201,
    );
  const register = async (who: { auth: Record<string, string> }, huddleId: string) =>
    t.equal((await app.inject({ method: 'POST', url: `/v1/huddles/${huddleId}/registrations`, headers: who.auth })).statusCode, 201);
  await pitch(ada, before);
  await pitch(ada, second);
  await pitch(cat, second);
  await pitch(dan, third);
  await register(ada, second);
  await register(bob, second);
  await register(bob, third);
  await register(bob, future);

  // Check-in opens the day before a huddle.
  const early = await app.inject({ method: 'PUT', url: `/v1/huddles/${second}/attendance/${ada.member.id}`, headers: org.auth });
  t.equal(early.json().code, 'CHECK_IN_NOT_OPEN', 'not weeks ahead');

  // The door list of the second huddle, on the console, on its morning.
  clock.set('2026-12-17T08:45:00Z');
  /** A console session started now (sessions last 14 days, and the test's clock moves on by weeks). */
  const signIn = () => consoleCookie(database, clock, 'organiser@north-west.example');
  let cookie = signIn();
  const door = async (query = '') =>
    (await app.inject({ url: `/console/north-west/huddles/${second}/checkin${query}`, headers: { cookie } })).body;
  const list = await door();
  t.match(list, /0 checked in; 3 expected\./);
  t.match(list, /<strong>Ada<\/strong> <span>Acme<\/span><span class="tag">registered, pitching<\/span>/);
  t.match(list, /<strong>Bob<\/strong> <span>Uni of Leeds<\/span><span class="tag">registered<\/span>/);
  t.match(list, /<strong>Cat<\/strong> <span>Leeds NHS Trust<\/span><span class="tag">pitching<\/span>/);
  t.notMatch(list, /Eve/);
  const csrf = encodeURIComponent(/name="_csrf" value="([^"]+)"/.exec(list)![1]!);
  const tap = (memberId: string, extra = '') =>
    app.inject({
      method: 'POST',
      url: `/console/north-west/huddles/${second}/checkin/${memberId}`,
      headers: { ...form, cookie },
      payload: `_csrf=${csrf}${extra}`,
    });
  const tapped = await tap(ada.member.id);
  t.equal(
    tapped.headers.location,
    `/console/north-west/huddles/${second}/checkin#m-${ada.member.id}`,
    'back to the same place in the list',
  );
  await tap(cat.member.id);
  await tap(bob.member.id);
  t.match(await door(), /3 checked in; 3 expected\./);
  await tap(bob.member.id, '&undo=yes');
  t.match(await door(), /2 checked in; 3 expected\./, 'Bob’s tap was a mistake: undone');
  const found = await door('?q=eve');
  t.match(found, /Other members matching<\/h2><ul class="cards"><li id="m-[^"]+"><strong>Eve<\/strong>/, 'a walk-in found by name');
  const walkIn = await tap(eve.member.id, '&q=eve');
  t.equal(walkIn.headers.location, `/console/north-west/huddles/${second}/checkin?q=eve#m-${eve.member.id}`);
  t.match(
    await door(),
    /<li id="m-[^"]+"><strong>Eve<\/strong> <span>Care Charity<\/span><br\/><span class="done">Checked in<\/span>/,
    'the walk-in joins the list',
  );
  createClusterWithOrganiser(database, 'yorkshire', clock);
  const stranger = createMemberWithToken(database, config, clock, 'yorkshire', { email: 'y@y.example', organisation: 'Y' });
  t.equal((await tap(stranger.member.id)).statusCode, 404, 'another cluster’s member is not checked in');

  // The third huddle through the API: Bob and Dan came, and Ada walked in; on the last day, Eve again.
  clock.set('2026-12-29T09:00:00Z');
  for (const who of [bob, dan, ada]) {
    const put = await app.inject({ method: 'PUT', url: `/v1/huddles/${third}/attendance/${who.member.id}`, headers: org.auth });
    t.equal(put.statusCode, 204);
  }
  t.equal(
    (await app.inject({ method: 'PUT', url: `/v1/huddles/${third}/attendance/${ada.member.id}`, headers: org.auth })).statusCode,
    204,
    'again: no change',
  );
  const listed = await app.inject({ url: `/v1/huddles/${third}/attendance`, headers: org.auth });
  t.equal(listed.json().items.length, 3);
  t.equal(
    (await app.inject({ method: 'PUT', url: `/v1/huddles/${third}/attendance/${ada.member.id}`, headers: ada.auth })).statusCode,
    403,
    'members do not check in',
  );

  clock.set('2026-12-31T09:00:00Z');
  t.equal((await app.inject({ method: 'PUT', url: `/v1/huddles/${last}/attendance/${eve.member.id}`, headers: org.auth })).statusCode, 204);
  clock.set('2027-01-05T09:00:00Z');
  cookie = signIn();
  const expected = {
    cluster: 'north-west',
    from: '2026-12-10',
    to: '2026-12-31',
    timezone: 'Europe/London',
    huddles: 3,
    organisations: { engaged: 5, byType: { company: 1, university: 1, nhs: 1, 'public-sector': 0, investor: 1, charity: 1, other: 0 } },
    firstTimePitchers: 2,
    pitches: { confirmed: 3, byTheme: [{ theme: null, count: 3 }] },
    attendance: { registered: 3, attended: 7, registeredAttended: 2, noShows: 1, unregisteredAttended: 5, repeatPeople: 2, people: 5 },
    perHuddle: [
      { id: second, title: 'Second', start: '2026-12-17', registered: 2, attended: 3, pitches: 2 },
      { id: third, title: 'Third', start: '2026-12-29', registered: 1, attended: 3, pitches: 1 },
      { id: last, title: 'Last day', start: '2026-12-31', registered: 0, attended: 1, pitches: 0 },
    ],
  };
  const report = await app.inject({ url: '/v1/clusters/north-west/report?from=2026-12-10&to=2026-12-31', headers: org.auth });
  t.equal(report.statusCode, 200);
  t.same(report.json(), expected, 'the figures are what the test made');
  t.equal((await app.inject({ url: '/v1/clusters/north-west/report?from=2026-12-31&to=2026-12-10', headers: org.auth })).statusCode, 400);
  const wider = await app.inject({ url: '/v1/clusters/north-west/report?from=2026-12-10&to=2027-01-31', headers: org.auth });
  t.equal(wider.json().huddles, 3, 'a huddle still to come is not counted (nor its registrations as no-shows)');
  t.equal(wider.json().attendance.noShows, 1);

  const csv = await app.inject({ url: '/console/north-west/report.csv?from=2026-12-10&to=2026-12-31', headers: { cookie } });
  t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
  const cells = new Map(
    csv.body
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((line) => {
        const [section, item, value] = line.split(',');
        return [`${section}/${item}`, value];
      }),
  );
  t.equal(cells.get('organisations/engaged'), '5');
  t.equal(cells.get('organisations by type/charity'), '1');
  t.equal(cells.get('organisations/first-time pitchers'), '2');
  t.equal(cells.get('attendance/no-shows'), '1');
  t.equal(cells.get('attendance/people who came more than once'), '2');
  t.equal(cells.get('huddle 2026-12-17 Second/attended'), '3');
  const apiCsv = await app.inject({
    url: '/v1/clusters/north-west/report?from=2026-12-10&to=2026-12-31',
    headers: { ...org.auth, accept: 'text/csv' },
  });
  t.equal(apiCsv.body, csv.body, 'the API’s CSV is the same');

  const page = await app.inject({ url: '/console/north-west/report?from=2026-12-10&to=2026-12-31', headers: { cookie } });
  t.equal(page.statusCode, 200);
  t.match(page.body, /3 published huddles held\./);
  t.match(page.body, /<dt>Organisations engaged \(pitched, or came\)<\/dt><dd>5<\/dd>/);
  t.match(page.body, /<dt>Registered and did not come<\/dt><dd>1<\/dd>/);
  t.match(
    page.body,
    /<svg role="img" aria-label="Organisations engaged, by type: Company 1; University 1; NHS 1; Public sector 0; Investor 1; Charity 1; Other 0"/,
  );
  t.match(
    page.body,
    /aria-label="Registered and came, by huddle: 2026-12-17 Second 2 registered, 3 came; 2026-12-29 Third 1 registered, 3 came; 2026-12-31 Last day 0 registered, 1 came"/,
  );
  t.notMatch(page.body, /<script/, 'no chart script');
  const quarter = await app.inject({ url: '/console/north-west/report', headers: { cookie } });
  t.match(quarter.body, /<input id="from" name="from" type="date" value="2027-01-01"/, 'this quarter by default');

  // A viewer reads the door list and checks nobody in.
  services.organisers.create('north-west', { email: 'fran@funder.example', name: 'Fran', role: 'viewer' }, { type: 'cli', label: 'test' });
  const fran = consoleCookie(database, clock, 'fran@funder.example');
  const franList = await app.inject({ url: `/console/north-west/huddles/${last}/checkin`, headers: { cookie: fran } });
  t.notMatch(franList.body, /Check in:/, 'no button');
  const franCsrf = encodeURIComponent(/name="_csrf" value="([^"]+)"/.exec(franList.body)![1]!);
  const refused = await app.inject({
    method: 'POST',
    url: `/console/north-west/huddles/${last}/checkin/${dan.member.id}`,
    headers: { ...form, cookie: fran },
    payload: `_csrf=${franCsrf}`,
  });
  t.equal(refused.statusCode, 403);
  t.equal((await app.inject({ url: `/v1/huddles/${last}/attendance`, headers: org.auth })).json().items.length, 1, 'nobody added');
});
