// Pitches in the console, over real HTTP: a huddle's slots with each pitch; approve one and reject
// another with a reason (each pitcher emailed), move a confirmed pitch to a free slot (emailed with a
// calendar update; the API's POST /v1/bookings/{id}/move does the same), the run of show to print and
// as CSV; a viewer sees it all without a form and is refused every change.
import t, { type Test } from 'tap';
import { parseWithIcalJs } from './helpers/calendar.js';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, publishHuddle, servicesFor } from './fixtures.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

async function setup(t: Test, pitch: Record<string, unknown> = { slotCount: 3 }) {
  const built = await buildTestApp(t);
  const { app, database, config, clock } = built;
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const huddleId = await publishHuddle(app, org.auth, { title: 'Spring huddle', start: '2027-03-11T09:30', pitch });
  const member = (email: string, organisation: string) =>
    createMemberWithToken(database, config, clock, 'north-west', { email, organisation });
  const book = async (who: { auth: Record<string, string> }, payload: Record<string, unknown>) => {
    const response = await app.inject({ method: 'POST', url: `/v1/huddles/${huddleId}/bookings`, headers: who.auth, payload });
    t.equal(response.statusCode, 201);
    return response.json() as { id: string; slot: { id: string; position: number } };
  };
  const slots = async () => (await app.inject({ url: `/v1/huddles/${huddleId}/slots` })).json().items as { id: string; position: number }[];
  const mail = (to: string, kind: string) =>
    database.sqlite
      .prepare(
        'SELECT subject, text, calendar FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE to_address = ? AND kind = ? ORDER BY outbox.rowid',
      )
      .all(to, kind) as { subject: string; text: string; calendar: string | null }[];
  /** An organiser (or, with a role, another person) signed in to the console; returns their cookie. */
  const signIn = async (email = 'organiser@north-west.example') => {
    const code = servicesFor(database, clock).consoleSignIn;
    code.requestLink(email);
    const text = (
      database.sqlite
        .prepare(
          "SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE kind = 'organiser.sign_in' AND to_address = ? ORDER BY outbox.rowid DESC",
        )
        .get(email) as { text: string }
    ).text;
    const issued = code.startSession(decodeURIComponent(/code=(\S+)/.exec(text)![1]!), null);
    return `convene_console=${issued.token}`;
  };
  const page = (cookie: string, path = '') => app.inject({ url: `/console/north-west/huddles/${huddleId}${path}`, headers: { cookie } });
  const csrfOf = (body: string) => encodeURIComponent(/name="_csrf" value="([^"]+)"/.exec(body)![1]!);
  const post = (cookie: string, path: string, payload: string) =>
    app.inject({ method: 'POST', url: `/console/north-west/huddles/${huddleId}${path}`, headers: { ...form, cookie }, payload });
  return { ...built, org, huddleId, member, book, slots, mail, signIn, page, csrfOf, post };
}

t.test('the API moves a pitch to a free slot, tells a confirmed pitcher, and refuses what it cannot do', async (t) => {
  const { app, database, clock, org, huddleId, member, book, slots, mail } = await setup(t);
  const ada = member('ada@example.org', 'Acme');
  const bob = member('bob@example.org', 'Bob Ltd');
  const adas = await book(ada, { title: 'Gait sensor' });
  const bobs = await book(bob, { title: 'Bob news' });
  const [, , third] = await slots();
  const move = (id: string, payload: unknown, headers: Record<string, string> = org.auth) =>
    app.inject({ method: 'POST', url: `/v1/bookings/${id}/move`, headers, payload: payload as Record<string, unknown> });

  const moved = await move(adas.id, { slotId: third!.id });
  t.equal(moved.statusCode, 200);
  t.equal(moved.json().slot.position, 3);
  const told = mail('ada@example.org', 'pitch.moved');
  t.equal(told.length, 1, 'Ada is told');
  t.match(told[0]!.text, /the time of your slot/);
  const calendar = parseWithIcalJs(told[0]!.calendar!);
  t.equal(calendar.method, 'REQUEST');
  t.equal(calendar.events[0]!.sequence, 1, 'the calendar entry is updated (SEQUENCE 1)');
  t.equal(calendar.events[0]!.start, '2027-03-11T09:42:00.000Z', 'at slot 3’s time');
  const free = (await app.inject({ url: `/v1/huddles/${huddleId}/slots` })).json().items as { position: number; available: boolean }[];
  t.same(
    free.map((slot) => slot.available),
    [true, false, false],
    'slot 1 is free again, 3 is taken',
  );

  t.equal((await move(bobs.id, { slotId: third!.id })).json().code, 'SLOT_TAKEN');
  t.equal((await move(bobs.id, { slotId: '00000000-0000-7000-8000-000000000000' })).json().code, 'SLOT_NOT_FOUND');
  t.equal((await move(bobs.id, {})).statusCode, 400, 'a slot is required');
  t.equal((await move(bobs.id, { slotId: third!.id }, ada.auth)).statusCode, 403, 'members cannot move pitches');
  const viewer = servicesFor(database, clock).organisers.create(
    'north-west',
    { email: 'funder@example.org', name: 'Fran', role: 'viewer' },
    { type: 'cli', label: 'test' },
  );
  t.equal(
    (await move(bobs.id, { slotId: (await slots())[0]!.id }, { authorization: `Bearer ${viewer.apiKey}` })).statusCode,
    403,
    'nor viewers',
  );
  const other = createClusterWithOrganiser(database, 'yorkshire', clock);
  t.equal((await move(bobs.id, { slotId: (await slots())[0]!.id }, other.auth)).statusCode, 404, 'nor another cluster’s organisers');
  t.equal((await move(bobs.id, { slotId: bobs.slot.id })).statusCode, 200, 'to its own slot: nothing changes');
  t.equal(mail('bob@example.org', 'pitch.moved').length, 0, 'and nobody is told');
  const audit = database.sqlite.prepare("SELECT before, after FROM audit_events WHERE action = 'booking.moved'").all();
  t.same(audit, [{ before: '{"slot":1}', after: '{"slot":3}' }]);
});

t.test('approve one pitch, reject another with a reason, move a third; the run of show prints and downloads', async (t) => {
  const { huddleId, member, book, slots, mail, signIn, page, csrfOf, post } = await setup(t, { slotCount: 4, approvalRequired: true });
  const ada = member('ada@example.org', 'Acme <Sensors>');
  const bob = member('bob@example.org', 'Bob Ltd');
  const cat = member('cat@example.org', 'Cat Co');
  const adas = await book(ada, { title: 'Gait sensor', summary: 'Line one\nLine two' });
  const bobs = await book(bob, { title: 'Bob news' });
  const cats = await book(cat, { title: 'Cat care' });
  const cookie = await signIn();

  const shown = await page(cookie);
  t.equal(shown.statusCode, 200);
  t.match(shown.body, /<h1>Spring huddle<\/h1>/);
  t.match(shown.body, /“Gait sensor”<\/strong> <span>Acme &lt;Sensors> \(ada\)<\/span><span class="tag">waiting for approval<\/span>/);
  t.match(shown.body, /<h3>Slot 4, 09:48–09:53<\/h3><p>Free<\/p>/);
  const csrf = csrfOf(shown.body);

  const approved = await post(cookie, `/pitches/${adas.id}/approve`, `_csrf=${csrf}`);
  t.equal(approved.statusCode, 303);
  t.equal(approved.headers.location, `/console/north-west/huddles/${huddleId}?done=approved`);
  t.equal(mail('ada@example.org', 'pitch.approved').length, 1, 'Ada is emailed the approval');
  const rejected = await post(
    cookie,
    `/pitches/${bobs.id}/reject`,
    `_csrf=${csrf}&reason=${encodeURIComponent('Not health-tech\u0007 enough')}`,
  );
  t.match(rejected.headers.location, /\?done=rejected$/);
  const rejection = mail('bob@example.org', 'pitch.rejected');
  t.equal(rejection.length, 1, 'Bob is emailed the rejection');
  t.match(rejection[0]!.text, /Not health-tech enough/, 'with the reason, control characters gone');
  t.match(
    (await page(cookie, '?done=rejected')).body,
    /Rejected\. They are emailed, with your reason if you gave one; the slot is free again\./,
  );

  await post(cookie, `/pitches/${cats.id}/approve`, `_csrf=${csrf}`);
  const fourth = (await slots())[3]!;
  const moved = await post(cookie, `/pitches/${cats.id}/move`, `_csrf=${csrf}&slotId=${fourth.id}`);
  t.match(moved.headers.location, /\?done=moved$/);
  t.equal(mail('cat@example.org', 'pitch.moved').length, 1, 'Cat is emailed the new time');
  const after = (await page(cookie)).body;
  t.match(after, /<h3>Slot 4, 09:48–09:53<\/h3><strong>“Cat care”/);
  t.match(after, /Rejected and cancelled pitches[\s\S]*“Bob news” Bob Ltd \(bob\): rejected/);

  const taken = await post(cookie, `/pitches/${adas.id}/move`, `_csrf=${csrf}&slotId=${fourth.id}`);
  t.equal(taken.statusCode, 409);
  t.match(taken.body, /class="error" role="alert">Someone has just booked that slot/);
  const twice = await post(cookie, `/pitches/${adas.id}/approve`, `_csrf=${csrf}`);
  t.equal(twice.statusCode, 409, 'approving twice is refused in words');
  const unknown = await post(cookie, `/pitches/not-an-id/approve`, `_csrf=${csrf}`);
  t.equal(unknown.statusCode, 404);
  const forged = await post(cookie, `/pitches/${adas.id}/move`, `_csrf=x&slotId=${fourth.id}`);
  t.equal(forged.statusCode, 403);

  const print = await page(cookie, '/run-of-show');
  t.equal(print.statusCode, 200);
  t.match(
    print.body,
    /<ol class="agenda"><li><strong>Slot 1, 09:30–09:35<\/strong><br\/><span>“Gait sensor”, Acme &lt;Sensors> \(ada\)<\/span><p class="summary">Line one\nLine two<\/p><\/li><li><strong>Slot 4, 09:48–09:53<\/strong>/,
  );
  t.notMatch(print.body, /Bob news/, 'only confirmed pitches');
  const csv = await page(cookie, '/run-of-show.csv');
  t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
  t.match(csv.headers['content-disposition'], /attachment; filename="run-of-show-/);
  const lines = csv.body.trim().split(/\r?\n/);
  t.equal(lines[0], 'slot,start,end,status,organisation,organisation_type,name,email,title,summary,booked_at');
  t.equal(lines.length, 1 + 2 + 1, 'two confirmed pitches (one summary on two lines)');
  t.match(
    lines[1],
    /^1,2027-03-11T09:30:00\+00:00,2027-03-11T09:35:00\+00:00,confirmed,Acme <Sensors>,company,ada,ada@example\.org,Gait sensor,"Line one/,
  );
});

t.test('a viewer sees the huddle and the run of show, with no form, and is refused every change', async (t) => {
  const { app, database, clock, member, book, signIn, page, csrfOf, post } = await setup(t, { slotCount: 2, approvalRequired: true });
  const adas = await book(member('ada@example.org', 'Acme'), { title: 'Gait sensor' });
  servicesFor(database, clock).organisers.create(
    'north-west',
    { email: 'funder@example.org', name: 'Fran', role: 'viewer' },
    { type: 'cli', label: 'test' },
  );
  const cookie = await signIn('funder@example.org');
  const shown = await page(cookie);
  t.equal(shown.statusCode, 200);
  t.match(shown.body, /Gait sensor/);
  t.notMatch(shown.body, /Approve|Reject|Move/, 'no form that changes anything');
  t.equal((await page(cookie, '/run-of-show')).statusCode, 200);
  t.equal((await page(cookie, '/run-of-show.csv')).statusCode, 200);
  const csrf = csrfOf(shown.body);
  for (const verb of ['approve', 'reject', 'move']) {
    const refused = await post(cookie, `/pitches/${adas.id}/${verb}`, `_csrf=${csrf}`);
    t.equal(refused.statusCode, 403, `${verb} refused`);
    t.match(refused.body, /A viewer can see this cluster but not change it\./);
  }
  t.equal((database.sqlite.prepare('SELECT status FROM bookings').get() as { status: string }).status, 'pending', 'nothing changed');
  const elsewhere = await app.inject({ url: '/console/north-west/huddles/00000000-0000-7000-8000-000000000000', headers: { cookie } });
  t.equal(elsewhere.statusCode, 404);
  t.match(elsewhere.body, /No such huddle in this cluster/);
});

t.test('invite members and pasted addresses from the console; a bad line sends nothing; a viewer invites nobody', async (t) => {
  const { app, database, clock, huddleId, member, signIn, mail, csrfOf, post } = await setup(t);
  member('ada@example.org', 'Acme');
  const cookie = await signIn();
  const page = await app.inject({ url: `/console/north-west/huddles/${huddleId}/invitations`, headers: { cookie } });
  t.equal(page.statusCode, 200);
  t.match(page.body, /Nobody has been invited yet\./);
  const csrf = csrfOf(page.body);
  const invitations = () =>
    (database.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE kind LIKE 'invitation%'").get() as { n: number }).n;

  const bad = await post(
    cookie,
    '/invitations',
    `_csrf=${csrf}&audience=members&addresses=${encodeURIComponent('zed@example.org\nnot an address')}`,
  );
  t.equal(bad.statusCode, 400);
  t.match(bad.body, /These lines are not an address: not an address\. Nothing was sent\./);
  t.match(
    bad.body,
    /<textarea id="addresses" name="addresses" rows="5">zed@example.org\nnot an address<\/textarea>/,
    'what was pasted stays',
  );
  t.match(bad.body, /value="members" id="audience-1" checked/);
  t.equal(invitations(), 0);
  t.equal((await post(cookie, '/invitations', `_csrf=${csrf}&audience=&addresses=`)).statusCode, 400, 'nobody chosen');

  const sent = await post(
    cookie,
    '/invitations',
    `_csrf=${csrf}&audience=members&addresses=${encodeURIComponent('Zed Zee <zed@example.org>\n\nada@example.org')}`,
  );
  t.equal(sent.headers.location, `/console/north-west/huddles/${huddleId}/invitations?invited=2&already=0`);
  t.equal(mail('zed@example.org', 'huddle.invitation').length, 1, 'Zed is emailed an invitation');
  t.equal(mail('ada@example.org', 'huddle.invitation').length, 1, 'Ada once, though named twice');
  t.ok(mail('zed@example.org', 'huddle.invitation')[0]!.calendar, 'with the calendar invitation');
  const after = await app.inject({ url: sent.headers.location as string, headers: { cookie } });
  t.match(after.body, /Invited 2 people\./);
  t.match(after.body, /<li>Zed Zee &lt;zed@example\.org>: by address, /);
  const again = await post(cookie, '/invitations', `_csrf=${csrf}&addresses=zed%40example.org`);
  t.match(again.headers.location, /invited=0&already=1$/);
  t.match((await app.inject({ url: `/console/north-west/huddles/${huddleId}`, headers: { cookie } })).body, /Invitations \(2 invited\)/);

  servicesFor(database, clock).organisers.create(
    'north-west',
    { email: 'funder@example.org', name: 'Fran', role: 'viewer' },
    { type: 'cli', label: 'test' },
  );
  const viewer = await signIn('funder@example.org');
  const viewerPage = await app.inject({ url: `/console/north-west/huddles/${huddleId}/invitations`, headers: { cookie: viewer } });
  t.notMatch(viewerPage.body, /Send the invitations/);
  t.equal((await post(viewer, '/invitations', `_csrf=${csrfOf(viewerPage.body)}&addresses=yan%40example.org`)).statusCode, 403);
  t.equal(mail('yan@example.org', 'huddle.invitation').length, 0);
});
