// The organiser console over real HTTP: sign in from the emailed link into a session that only the
// console's pages receive, switch between two clusters (organiser in one, viewer in the other), the
// dashboard's counts and what needs attention, API keys made and revoked from the page (a new key works
// on the API at once, a revoked one stops), CSRF and the viewer's refusals, and sign-out.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createCluster, createClusterWithOrganiser, createMemberWithToken, publishHuddle, servicesFor } from './fixtures.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

async function setup(t: Test) {
  const built = await buildTestApp(t);
  const { app, database, clock } = built;
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const emailed = (to: string) =>
    database.sqlite
      .prepare(
        "SELECT subject, text, from_address AS sender FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE kind = 'organiser.sign_in' AND to_address = ? ORDER BY created_at DESC, outbox.rowid DESC",
      )
      .all(to) as { subject: string; text: string; sender: string }[];
  /** Signs in as a person does: asks for a link, opens it, presses the button. Returns the cookie. */
  const signIn = async (email = 'organiser@north-west.example', userAgent = 'Mozilla/5.0 Firefox/140.0') => {
    const asked = await app.inject({
      method: 'POST',
      url: '/console/signin',
      headers: form,
      payload: `email=${encodeURIComponent(email)}`,
    });
    t.equal(asked.statusCode, 200);
    const link = /https:\/\/convene\.test(\/console\/signin\?code=\S+)/.exec(emailed(email)[0]!.text)![1]!;
    const page = await app.inject(link);
    const code = /name="code" value="([^"]+)"/.exec(page.body)![1]!;
    const started = await app.inject({
      method: 'POST',
      url: '/console/signin/session',
      headers: { ...form, 'user-agent': userAgent },
      payload: `code=${encodeURIComponent(code)}`,
    });
    t.equal(started.statusCode, 303);
    const setCookie = String(started.headers['set-cookie']);
    return { setCookie, cookie: setCookie.split(';')[0]!, code, location: started.headers.location };
  };
  const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)![1]!;
  const get = (url: string, cookie: string) => app.inject({ url, headers: { cookie } });
  const post = (url: string, cookie: string, payload: string) => app.inject({ method: 'POST', url, headers: { ...form, cookie }, payload });
  return { ...built, org, emailed, signIn, csrfOf, get, post };
}

t.test('an organiser signs in from the emailed link; the session is the console’s alone', async (t) => {
  const { app, database, signIn, emailed, get } = await setup(t);
  t.equal((await app.inject('/console')).headers.location, '/console/signin', 'signed out, the console asks you to sign in');
  t.equal((await app.inject('/console/north-west')).headers.location, '/console/signin');
  const page = await app.inject('/console/signin');
  t.match(page.body, /<form method="post" action="\/console\/signin"/);
  t.match(page.body, /<h1>Sign in to the console<\/h1>/);
  const stranger = await app.inject({ method: 'POST', url: '/console/signin', headers: form, payload: 'email=nobody%40example.org' });
  const cross = await app.inject({
    method: 'POST',
    url: '/console/signin',
    headers: { ...form, 'sec-fetch-site': 'cross-site' },
    payload: 'email=organiser%40north-west.example',
  });
  t.equal(cross.statusCode, 403, 'another site cannot post the form');
  t.equal(emailed('nobody@example.org').length, 0, 'a stranger is sent nothing');

  const { setCookie, cookie, code, location } = await signIn();
  const known = await app.inject({
    method: 'POST',
    url: '/console/signin',
    headers: form,
    payload: 'email=organiser%40north-west.example',
  });
  t.equal(stranger.body, known.body, 'the answer does not tell an organiser from a stranger');
  t.match(setCookie, /^convene_console=cnv_con_[A-Za-z0-9_-]{43}; /);
  t.match(setCookie, /Path=\/console/, 'sent only to the console’s pages');
  t.match(setCookie, /HttpOnly/);
  t.match(setCookie, /SameSite=Lax/);
  t.equal(location, '/console');
  const mail = emailed('organiser@north-west.example').at(-1)!;
  t.equal(mail.subject, 'Your sign-in link to the Convene console');
  t.match(mail.text, /console of Cluster north-west/);

  t.equal((await get('/console', cookie)).headers.location, '/console/north-west', 'one cluster: straight to it');
  const dashboard = await get('/console/north-west', cookie);
  t.equal(dashboard.statusCode, 200);
  t.match(dashboard.headers['cache-control'], /no-store/);
  t.match(dashboard.body, /Signed in as Olivia Organiser \(organiser@north-west\.example\)/);
  t.match(dashboard.body, /aria-current="page"[^>]*>Dashboard</);
  t.notMatch(dashboard.body, /You are a viewer/);

  const stored = database.sqlite.prepare('SELECT token_hash AS hash, user_agent AS ua FROM organiser_sessions').all() as {
    hash: string;
    ua: string;
  }[];
  t.equal(stored.length, 1);
  t.notMatch(stored[0]!.hash, cookie.split('=')[1]!, 'only a hash of the session is stored');
  t.equal(stored[0]!.ua, 'Mozilla/5.0 Firefox/140.0');

  const again = await app.inject({
    method: 'POST',
    url: '/console/signin/session',
    headers: form,
    payload: `code=${encodeURIComponent(code)}`,
  });
  t.equal(again.statusCode, 400, 'a link works once');
  t.match(again.body, /This sign-in link no longer works/);
  t.equal((await app.inject({ url: '/me', headers: { cookie } })).headers.location, '/signin', 'a console session is no member session');
  const token = cookie.split('=')[1]!;
  const asBearer = await app.inject({ url: '/v1/clusters/north-west/members', headers: { authorization: `Bearer ${token}` } });
  t.equal(asBearer.statusCode, 401, 'nor an API key');
  const audit = database.sqlite.prepare("SELECT actor_label AS label FROM audit_events WHERE action = 'organiser.signed_in'").all();
  t.same(audit, [{ label: 'Olivia Organiser (console)' }]);
});

t.test('a person in two clusters signs in once and switches; a cluster not theirs is refused', async (t) => {
  const { app, database, clock, signIn, emailed, get } = await setup(t);
  createCluster(database, 'yorkshire', clock);
  createCluster(database, 'wales', clock);
  servicesFor(database, clock).organisers.create(
    'yorkshire',
    { email: 'organiser@north-west.example', name: 'Olivia Organiser', role: 'viewer' },
    { type: 'cli', label: 'test' },
  );
  const { cookie } = await signIn();
  t.match(emailed('organiser@north-west.example')[0]!.text, /console of Cluster north-west and Cluster yorkshire/);
  const choice = await get('/console', cookie);
  t.equal(choice.statusCode, 200);
  t.match(choice.body, /href="\/console\/north-west">Cluster north-west<\/a> <span>\(organiser\)<\/span>/);
  t.match(choice.body, /href="\/console\/yorkshire">Cluster yorkshire<\/a> <span>\(viewer\)<\/span>/);
  const viewing = await get('/console/yorkshire', cookie);
  t.equal(viewing.statusCode, 200);
  t.match(viewing.body, /You are a viewer here: you see everything in this cluster and change nothing\./);
  t.match(viewing.body, /Switch cluster:<\/li>\s*<li><a href="\/console\/north-west">Cluster north-west<\/a>/);
  const notTheirs = await get('/console/wales', cookie);
  t.equal(notTheirs.statusCode, 404);
  t.match(notTheirs.body, /Not one of your clusters/);
  t.notMatch(notTheirs.body, /Cluster wales/, 'says nothing of the other cluster');
  t.equal((await get('/console/no-such-cluster', cookie)).statusCode, 404);
  t.throws(
    () => servicesFor(database, clock).clusters.create({ slug: 'signin', name: 'Sign In' }, { type: 'cli', label: 'test' }),
    /names a page of the console/,
    'a cluster may not be named as a console page',
  );
  t.equal((await app.inject('/console/wales')).headers.location, '/console/signin');
});

t.test('the dashboard counts the next huddles and says what needs attention first', async (t) => {
  const { app, database, config, clock, org, signIn, get } = await setup(t);
  const soon = new Date(clock.now().getTime() + 86_400_000);
  const local = soon.toISOString().slice(0, 16);
  const approval = await publishHuddle(app, org.auth, {
    title: 'Approval huddle',
    start: '2027-01-14T09:30',
    capacity: 40,
    pitch: { slotCount: 3, approvalRequired: true },
  });
  await publishHuddle(app, org.auth, { title: 'Tomorrow huddle', start: local, pitch: { slotCount: 4 } });
  await publishHuddle(app, org.auth, { title: 'Draft huddle', start: '2027-02-11T09:30', status: 'draft' });
  const ada = createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@example.org', organisation: 'Acme' });
  const booked = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${approval}/bookings`,
    headers: ada.auth,
    payload: { title: 'Gait' },
  });
  t.equal(booked.statusCode, 201);
  const registered = await app.inject({ method: 'POST', url: `/v1/huddles/${approval}/registrations`, headers: ada.auth });
  t.equal(registered.statusCode, 201);

  const { cookie } = await signIn();
  const body = (await get('/console/north-west', cookie)).body;
  t.match(body, /1 pitch waits for your approval at Approval huddle\./);
  t.match(body, /Tomorrow huddle starts on [^<]+ with 4 free slots\./);
  t.match(body, /Pitches: 0 of 3 slots confirmed; 1 waiting for approval; 2 free/);
  t.match(body, /Registered: 1 of 40 places/);
  t.match(body, /Draft huddle<\/a><span class="tag">draft \(not published\)<\/span>/);
  t.ok(body.indexOf('Tomorrow huddle') < body.indexOf('Approval huddle</a>'), 'soonest first');
});

t.test('API keys: listed, made once-shown and working at once, revoked and refused at once; CSRF and viewers', async (t) => {
  const { app, database, clock, org, signIn, csrfOf, get, post } = await setup(t);
  const { cookie } = await signIn();
  const page = await get('/console/north-west/keys', cookie);
  t.equal(page.statusCode, 200);
  t.match(page.body, new RegExp(`<code>${org.apiKey.slice(0, 14)}</code>`), 'the CLI-made key, by its prefix');
  t.notMatch(page.body, new RegExp(org.apiKey.slice(14, 30)), 'never the key itself');
  t.match(page.body, /Last used<\/dt><dd>never<\/dd>/);
  t.match(page.body, /Since [^<]+, this browser/);
  const csrf = csrfOf(page.body);

  const forged = await post('/console/north-west/keys', cookie, 'days=30&_csrf=nope');
  t.equal(forged.statusCode, 403);
  const badDays = await post('/console/north-west/keys', cookie, `days=0&_csrf=${encodeURIComponent(csrf)}`);
  t.equal(badDays.statusCode, 400);
  t.match(badDays.body, /Enter a whole number of days from 1 to 3650\./);
  const count = () => (database.sqlite.prepare('SELECT count(*) AS n FROM api_keys').get() as { n: number }).n;
  t.equal(count(), 1, 'nothing made by a refused form');

  const made = await post('/console/north-west/keys', cookie, `days=30&_csrf=${encodeURIComponent(csrf)}`);
  t.equal(made.statusCode, 201);
  const key = /<p class="secret">(cnv_org_[A-Za-z0-9_-]{43})<\/p>/.exec(made.body)![1]!;
  t.equal(count(), 2);
  const auth = { authorization: `Bearer ${key}` };
  t.equal((await app.inject({ url: '/v1/clusters/north-west/members', headers: auth })).statusCode, 200, 'the new key works on the API');
  const keyId = (database.sqlite.prepare('SELECT id FROM api_keys WHERE prefix = ?').get(key.slice(0, 14)) as { id: string }).id;
  const expires = (
    database.sqlite.prepare('SELECT expires_at - created_at AS valid FROM api_keys WHERE id = ?').get(keyId) as { valid: number }
  ).valid;
  t.equal(expires, 30 * 86_400_000);
  t.notMatch((await get('/console/north-west/keys', cookie)).body, new RegExp(key.slice(14)), 'shown once');

  const revoked = await post(`/console/north-west/keys/${keyId}/revoke`, cookie, `_csrf=${encodeURIComponent(csrf)}`);
  t.equal(revoked.headers.location, '/console/north-west/keys?done=revoked');
  t.equal((await app.inject({ url: '/v1/clusters/north-west/members', headers: auth })).statusCode, 401, 'revoked: refused at once');
  t.match((await get('/console/north-west/keys?done=revoked', cookie)).body, /The key is revoked: it stops working at once\./);
  const twice = await post(`/console/north-west/keys/${keyId}/revoke`, cookie, `_csrf=${encodeURIComponent(csrf)}`);
  t.equal(twice.statusCode, 404, 'no active key of that id');
  const actions = database.sqlite
    .prepare("SELECT action, actor_label AS label FROM audit_events WHERE action LIKE 'api-key.%' ORDER BY rowid")
    .all();
  t.same(actions, [
    { action: 'api-key.created', label: 'Olivia Organiser (console)' },
    { action: 'api-key.revoked', label: 'Olivia Organiser (console)' },
  ]);

  // A viewer sees the page without the form to make keys, and its POST is refused.
  servicesFor(database, clock).organisers.create(
    'north-west',
    { email: 'funder@example.org', name: 'Fran Funder', role: 'viewer' },
    { type: 'cli', label: 'test' },
  );
  t.equal(count(), 3, 'the viewer’s first key, from the command line');
  const viewer = await signIn('funder@example.org');
  const viewerPage = await get('/console/north-west/keys', viewer.cookie);
  t.notMatch(viewerPage.body, /Make the key/);
  const refused = await post('/console/north-west/keys', viewer.cookie, `days=30&_csrf=${encodeURIComponent(csrfOf(viewerPage.body))}`);
  t.equal(refused.statusCode, 403);
  t.match(refused.body, /A viewer can see this cluster but not change it\./);
  t.equal(count(), 3, 'no key made for the viewer');
  const otherCookie = await post(`/console/north-west/sessions/x/end`, cookie, `_csrf=${encodeURIComponent(csrfOf(viewerPage.body))}`);
  t.equal(otherCookie.statusCode, 403, 'one session’s form token does not work in another');
});

t.test('ending another session and signing out end them at once', async (t) => {
  const { database, signIn, csrfOf, get, post } = await setup(t);
  const first = await signIn('organiser@north-west.example', 'Mozilla/5.0 Chrome/140.0');
  const second = await signIn();
  const page = await get('/console/north-west/keys', second.cookie);
  t.match(page.body, /Since [^<]+, Chrome/);
  const otherId = (database.sqlite.prepare("SELECT id FROM organiser_sessions WHERE user_agent LIKE '%Chrome%'").get() as { id: string })
    .id;
  const ended = await post(`/console/north-west/sessions/${otherId}/end`, second.cookie, `_csrf=${encodeURIComponent(csrfOf(page.body))}`);
  t.equal(ended.headers.location, '/console/north-west/keys?done=ended');
  t.equal((await get('/console/north-west', first.cookie)).headers.location, '/console/signin', 'the other browser is signed out');
  const out = await post('/console/signout', second.cookie, `_csrf=${encodeURIComponent(csrfOf(page.body))}`);
  t.equal(out.headers.location, '/console/signin');
  t.match(String(out.headers['set-cookie']), /convene_console=;/);
  t.equal((await get('/console/north-west', second.cookie)).headers.location, '/console/signin', 'the old cookie no longer works');
});

t.test('the audit log: filtered by who, what and when, on the API and in the console', async (t) => {
  const { app, database, clock, org, signIn, csrfOf, get, post } = await setup(t);
  await publishHuddle(app, org.auth, { title: 'Audit huddle' });
  const { cookie } = await signIn();
  const keys = await get('/console/north-west/keys', cookie);
  await post('/console/north-west/keys', cookie, `days=30&_csrf=${encodeURIComponent(csrfOf(keys.body))}`);
  const api = (query: string) => app.inject({ url: `/v1/clusters/north-west/audit?${query}`, headers: org.auth });
  const actionsOf = async (query: string) => ((await api(query)).json().items as { action: string }[]).map((item) => item.action);

  t.same(await actionsOf('action=api-key.created'), ['api-key.created'], 'one action (the first key is part of organiser.created)');
  t.same(await actionsOf('action=organiser'), ['organiser.signed_in', 'organiser.created'], 'a noun: every action on it');
  t.same(await actionsOf('actor=CONSOLE&action=api-key'), ['api-key.created'], 'who: the name contains it, any case');
  const now = clock.now().toISOString();
  t.same(
    await actionsOf(`to=${encodeURIComponent(now)}&action=api-key`),
    [],
    'nothing before the clock’s now (the test clock stands still)',
  );
  t.equal((await actionsOf(`from=${encodeURIComponent(now)}`)).length >= 4, true, 'from now on: all of it');
  t.equal((await api('action=DROP TABLE')).statusCode, 400, 'an action that is not one is refused');

  const page = await get('/console/north-west/audit?action=api-key.created&actor=console', cookie);
  t.equal(page.statusCode, 200);
  t.match(page.body, /aria-current="page"[^>]*>Audit log</);
  t.match(page.body, /<option value="api-key.created" selected>api-key.created<\/option>/);
  t.match(page.body, /<strong>api-key.created<\/strong><br\/><span>[^<]+, by Olivia Organiser \(console\)<\/span>/);
  t.match(page.body, /Recorded: keyPrefix cnv_org_[A-Za-z0-9_-]{6}\./);
  t.notMatch(page.body, /organiser\.signed_in<\/strong>/);
  const day = clock.now().toISOString().slice(0, 10);
  const today = await get(`/console/north-west/audit?from=${day}&to=${day}`, cookie);
  t.match(today.body, /huddle\.created<\/strong>/, 'a day, in the cluster’s zone');
  const bad = await get('/console/north-west/audit?from=yesterday', cookie);
  t.equal(bad.statusCode, 400);
  t.match(bad.body, /Enter a day as YYYY-MM-DD/);
  const badCursor = await get('/console/north-west/audit?cursor=nope', cookie);
  t.equal(badCursor.statusCode, 400, 'a cursor not given out is refused in words');
  for (let i = 0; i < 60; i++) {
    servicesFor(database, clock).audit.record(
      database.db,
      { type: 'cli', label: 'test' },
      { clusterId: org.cluster.id, action: 'test.filler', targetType: 'x' },
    );
  }
  const first = await get('/console/north-west/audit?action=test.filler', cookie);
  const older = /<a href="(\?[^"]+)">Older changes<\/a>/.exec(first.body)![1]!.replaceAll('&amp;', '&');
  t.match(older, /action=test\.filler/, 'the next page keeps the filter');
  const second = await get(`/console/north-west/audit${older}`, cookie);
  t.equal((second.body.match(/<strong>test\.filler<\/strong>/g) ?? []).length, 10, '60 events: 50, then 10');
});
