// Subscribers in the console over real HTTP: list and search by address, status and topic (and as CSV),
// one person's consent record and export, unsubscribing on request, erasure after a confirmation step,
// and suppressed addresses lifted with a note; a viewer sees it all and changes nothing.
import t from 'tap';
import { manualClock } from '../src/lib/clock.js';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, servicesFor, consoleCookie } from './fixtures.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

t.test('list, search, export, unsubscribe, erase and lift a suppression from the console', async (t) => {
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database } = await buildTestApp(t, { clock });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const services = servicesFor(database, clock);
  const signUp = (email: string, name: string, topics: string[]) =>
    app.inject({ method: 'POST', url: '/v1/clusters/north-west/subscriptions', payload: { email, name, topics } });
  t.equal((await signUp('ada@example.org', 'Ada Lovelace', ['newsletter'])).statusCode, 202);
  t.equal((await signUp('bob@example.org', 'Bob Brown', ['huddle-invites'])).statusCode, 202);
  t.equal((await signUp('cat@example.org', 'Cat', ['newsletter'])).statusCode, 202);
  t.equal((await signUp('dan@example.org', 'Dan', ['newsletter'])).statusCode, 202);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const idOf = (email: string) => (database.sqlite.prepare('SELECT id FROM subscribers WHERE email = ?').get(email) as { id: string }).id;
  const ada = idOf('ada@example.org');
  database.sqlite.prepare("UPDATE subscribers SET status = 'confirmed', confirmed_at = ? WHERE id = ?").run(clock.now().getTime(), ada);

  const signIn = (email: string) => consoleCookie(database, clock, email);
  const cookie = signIn('organiser@north-west.example');
  const get = (path: string, who = cookie) => app.inject({ url: `/console/north-west${path}`, headers: { cookie: who } });
  const post = (path: string, payload: string, who = cookie) =>
    app.inject({ method: 'POST', url: `/console/north-west${path}`, headers: { ...form, cookie: who }, payload });
  const csrfOf = (body: string) => encodeURIComponent(/name="_csrf" value="([^"]+)"/.exec(body)![1]!);

  const list = await get('/subscribers');
  t.equal(list.statusCode, 200);
  t.match(list.body, /ada@example\.org<\/a> <span>Ada Lovelace<\/span><br\/><span>confirmed; the newsletter<\/span>/);
  t.match(list.body, /bob@example\.org<\/a> <span>Bob Brown<\/span><br\/><span>pending \(not confirmed\); invitations to huddles<\/span>/);
  const byName = (await get('/subscribers?q=LOVELACE')).body;
  t.match(byName, /ada@example\.org/, 'search by name, any case');
  t.notMatch(byName, /bob@example/);
  const confirmedOnly = (await get('/subscribers?status=confirmed')).body;
  t.match(confirmedOnly, /ada@example\.org/);
  t.notMatch(confirmedOnly, /bob@example/);
  const invitesOnly = (await get('/subscribers?topic=huddle-invites')).body;
  t.match(invitesOnly, /bob@example\.org/);
  t.notMatch(invitesOnly, /ada@example/);
  const api = await app.inject({ url: '/v1/clusters/north-west/subscribers?q=bob', headers: org.auth });
  t.same(
    (api.json().items as { email: string }[]).map((s) => s.email),
    ['bob@example.org'],
    'the API searches too',
  );
  const csv = await get('/subscribers.csv?status=confirmed');
  t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
  t.equal(csv.body.trim().split(/\r?\n/).length, 2, 'the header and the one confirmed subscriber');
  t.match(csv.body, /ada@example\.org,Ada Lovelace,confirmed,newsletter/);

  const person = await get(`/subscribers/${ada}`);
  t.equal(person.statusCode, 200);
  t.match(person.body, /<li>Monday, 23 November 2026, 09:00 GMT: requested \(api\)<\/li>/);
  const exported = await get(`/subscribers/${ada}/export.json`);
  t.match(exported.headers['content-disposition'], /attachment; filename="subscriber-/);
  t.equal(exported.json().subscriber.email, 'ada@example.org');
  t.equal(exported.json().consent[0].kind, 'requested');
  const csrf = csrfOf(person.body);
  const unsubscribed = await post(`/subscribers/${ada}/unsubscribe`, `_csrf=${csrf}`);
  t.equal(unsubscribed.headers.location, `/console/north-west/subscribers/${ada}?done=unsubscribed`);
  t.equal((database.sqlite.prepare('SELECT status FROM subscribers WHERE id = ?').get(ada) as { status: string }).status, 'unsubscribed');
  t.match((await get(`/subscribers/${ada}?done=unsubscribed`)).body, /Unsubscribed: they receive nothing more\./);

  const bob = idOf('bob@example.org');
  const confirmPage = await get(`/subscribers/${bob}/erase`);
  t.match(confirmPage.body, /<h1>Erase bob@example\.org\?<\/h1>/);
  t.ok(idOf('bob@example.org'), 'the confirmation step erases nothing');
  const erased = await post(`/subscribers/${bob}/erase`, `_csrf=${csrf}`);
  t.equal(erased.headers.location, '/console/north-west/suppressions?done=erased');
  t.equal(database.sqlite.prepare("SELECT 1 FROM subscribers WHERE email = 'bob@example.org'").get(), undefined, 'erased');
  t.equal((await get(`/subscribers/${bob}`)).statusCode, 404);

  database.db.transaction((tx) => services.subscribers.suppressEverywhere(tx, 'cat@example.org', 'bounced', '550 5.1.1 no such user'));
  const suppressions = await get('/suppressions?done=erased');
  t.match(suppressions.body, /Erased\. The address is suppressed and will never be mailed again\./);
  t.match(suppressions.body, /<strong>an erased address<\/strong><br\/><span>erased, this cluster, since/);
  t.match(
    suppressions.body,
    /<strong>cat@example\.org<\/strong><br\/><span>bounced, every cluster, since [^<]+<\/span><p class="slot">550 5\.1\.1 no such user<\/p>/,
  );
  const short = await post('/suppressions/lift', `_csrf=${csrf}&email=cat%40example.org&note=ok`);
  t.equal(short.statusCode, 400);
  t.match(short.body, /<p class="field-error" id="note-\d-error">Say why, in at least 3 characters\.<\/p>/);
  const lifted = await post(
    '/suppressions/lift',
    `_csrf=${csrf}&email=cat%40example.org&note=${encodeURIComponent('Mailbox fixed, she phoned')}`,
  );
  t.equal(lifted.headers.location, '/console/north-west/suppressions?done=lifted');
  t.notMatch((await get('/suppressions')).body, /cat@example\.org/);
  const note = database.sqlite.prepare("SELECT after FROM audit_events WHERE action LIKE 'suppression.%' ORDER BY rowid DESC").get() as {
    after: string;
  };
  t.match(note.after, /Mailbox fixed, she phoned/, 'the note is in the audit log');
  const notSuppressed = await post('/suppressions/lift', `_csrf=${csrf}&email=nobody%40example.org&note=because`);
  t.equal(notSuppressed.statusCode, 404);

  // Another cluster's subscriber under this cluster's address is not found.
  createClusterWithOrganiser(database, 'yorkshire', clock);
  t.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/v1/clusters/yorkshire/subscriptions',
        payload: { email: 'yan@example.org', topics: ['newsletter'] },
      })
    ).statusCode,
    202,
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  const yan = idOf('yan@example.org');
  t.equal((await get(`/subscribers/${yan}`)).statusCode, 404);
  t.equal((await post(`/subscribers/${yan}/erase`, `_csrf=${csrf}`)).statusCode, 404);
  t.ok(idOf('yan@example.org'), 'their subscriber is untouched');

  // A viewer reads every page and changes nothing.
  services.organisers.create('north-west', { email: 'funder@example.org', name: 'Fran', role: 'viewer' }, { type: 'cli', label: 'test' });
  database.db.transaction((tx) => services.subscribers.suppressEverywhere(tx, 'dan@example.org', 'complained', null));
  const viewer = signIn('funder@example.org');
  const viewerPage = await get(`/subscribers/${ada}`, viewer);
  t.equal(viewerPage.statusCode, 200);
  t.notMatch(viewerPage.body, /Erase…|Unsubscribe them/);
  t.notMatch((await get('/suppressions', viewer)).body, /Lift the suppression/);
  const viewerCsrf = csrfOf(viewerPage.body);
  t.equal((await post(`/subscribers/${ada}/erase`, `_csrf=${viewerCsrf}`, viewer)).statusCode, 403);
  t.equal((await post('/suppressions/lift', `_csrf=${viewerCsrf}&email=dan%40example.org&note=because`, viewer)).statusCode, 403);
  t.ok(idOf('ada@example.org'), 'still there');
  t.match((await get('/suppressions', viewer)).body, /dan@example\.org/, 'still suppressed');
});
