// Members in the console over real HTTP: search, add one (each field's refusal next to it), upload a CSV
// whose rejected rows are shown with their lines before anything is saved, then import it; suspend after
// seeing what it does to pitches and waitlist places, and reactivate; a viewer changes nothing. The API
// gains the same search (q) and import (POST /v1/clusters/{cluster}/members/import).
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, publishHuddle, servicesFor, consoleCookie } from './fixtures.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };
const BOUNDARY = '----convene-test-boundary';

/** A multipart/form-data body as a browser sends it: text fields, and at most one file. */
function multipart(fields: Record<string, string>, file?: { name: string; content: string | Buffer }) {
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  const chunks: Buffer[] = parts.map((part) => Buffer.from(part));
  if (file) {
    chunks.push(
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
    );
    chunks.push(Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

async function setup(t: Test) {
  const built = await buildTestApp(t);
  const { app, database, clock } = built;
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const signIn = (email = 'organiser@north-west.example') => consoleCookie(database, clock, email);
  const get = (cookie: string, path: string) => app.inject({ url: `/console/north-west/members${path}`, headers: { cookie } });
  const post = (cookie: string, path: string, payload: string) =>
    app.inject({ method: 'POST', url: `/console/north-west/members${path}`, headers: { ...form, cookie }, payload });
  const upload = (cookie: string, body: Buffer) =>
    app.inject({
      method: 'POST',
      url: '/console/north-west/members/import',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'sec-fetch-site': 'same-origin', cookie },
      payload: body,
    });
  const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)![1]!;
  const count = (sql: string) => (database.sqlite.prepare(sql).get() as { n: number }).n;
  return { ...built, org, signIn, get, post, upload, csrfOf, count };
}

t.test('search members on the page and the API; add one, with each refusal next to its field', async (t) => {
  const { app, database, config, clock, org, signIn, get, post, csrfOf, count } = await setup(t);
  createMemberWithToken(database, config, clock, 'north-west', {
    email: 'ada@acme.example',
    name: 'Ada Lovelace',
    organisation: 'Acme Sensors',
  });
  createMemberWithToken(database, config, clock, 'north-west', {
    email: 'bob@uni.example',
    name: 'Bob Brown',
    organisation: 'Uni of Leeds',
  });
  const cookie = signIn();
  const all = await get(cookie, '');
  t.equal(all.statusCode, 200);
  t.match(all.body, /aria-current="page"[^>]*>Members</);
  t.match(all.body, /Ada Lovelace[\s\S]*Bob Brown/);
  const found = await get(cookie, '?q=ACME');
  t.match(found.body, /Ada Lovelace/);
  t.notMatch(found.body, /Bob Brown/, 'search by organisation, any case');
  t.match((await get(cookie, '?q=bob%40uni')).body, /Bob Brown/, 'and by email');
  t.match((await get(cookie, '?status=suspended')).body, /No member matches\./);
  const api = await app.inject({ url: '/v1/clusters/north-west/members?q=leeds', headers: org.auth });
  t.same(
    (api.json().items as { name: string }[]).map((member) => member.name),
    ['Bob Brown'],
  );

  const page = await get(cookie, '/new');
  const csrf = encodeURIComponent(csrfOf(page.body));
  const bad = await post(cookie, '', `_csrf=${csrf}&email=nope&name=&organisation=Cat+Co&organisationType=charity`);
  t.equal(bad.statusCode, 400);
  t.match(
    bad.body,
    /<p class="field-error" id="email-error">Enter an email address, like name@example.org\.<\/p><input id="email"[^>]*value="nope"[^>]*aria-invalid="true" aria-describedby="email-error"/,
  );
  t.match(bad.body, /id="name-error">Fill in this field/);
  t.match(bad.body, /<option value="charity" selected>Charity<\/option>/, 'what was typed stays');
  const added = await post(cookie, '', `_csrf=${csrf}&email=cat%40co.example&name=Cat+Jones&organisation=Cat+Co&organisationType=charity`);
  t.equal(added.headers.location, '/console/north-west/members?done=added');
  t.equal(
    count("SELECT count(*) AS n FROM outbox WHERE kind = 'member.welcome' AND to_address = 'cat@co.example'"),
    1,
    'welcomed by email',
  );
  const again = await post(cookie, '', `_csrf=${csrf}&email=cat%40co.example&name=Cat+Jones&organisation=Cat+Co&organisationType=charity`);
  t.equal(again.statusCode, 409);
  t.match(again.body, /class="error" role="alert">/);
  const audit = database.sqlite
    .prepare("SELECT actor_label AS label FROM audit_events WHERE action = 'member.created' ORDER BY rowid DESC LIMIT 1")
    .get();
  t.same(audit, { label: 'Olivia Organiser (console)' });
});

t.test('a CSV upload shows every rejected row with its line before anything is saved, then imports', async (t) => {
  const { app, database, config, clock, org, signIn, get, upload, csrfOf, count } = await setup(t);
  createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@acme.example', organisation: 'Acme' });
  const csv = [
    'email,name,organisation,organisation_type',
    'dan@d.example,Dan Day,Day Ltd,company',
    'not-an-address,Eve,Eve plc,company',
    'ada@acme.example,Ada,Acme,company',
    'fay@f.example,Fay,NHS Trust,nhs',
  ].join('\n');
  const cookie = signIn();
  const csrf = csrfOf((await get(cookie, '/import')).body);
  const members = () => count('SELECT count(*) AS n FROM members');
  const outbox = () => count('SELECT count(*) AS n FROM outbox');
  const [before, mailBefore] = [members(), outbox()];

  const preview = await upload(cookie, multipart({ _csrf: csrf }, { name: 'members.csv', content: csv }));
  t.equal(preview.statusCode, 200);
  t.match(preview.body, /<p>2 members can be imported\.<\/p>/);
  t.match(preview.body, /<li>Line 3 \(not-an-address\): &#34;not-an-address&#34; is not an email address<\/li>/);
  t.match(preview.body, /<li>Line 4 \(ada@acme\.example\): ada@acme\.example is a member of &#34;north-west&#34; already<\/li>/);
  t.equal(members(), before, 'nothing saved');
  t.equal(outbox(), mailBefore, 'nobody emailed');

  const carried = /name="csv" value="([^"]*)"/.exec(preview.body)![1]!.replaceAll('&#34;', '"').replaceAll('&amp;', '&');
  t.equal(carried.replace(/\r/g, ''), csv, 'the file’s text travels with the confirming form');
  const done = await upload(cookie, multipart({ _csrf: csrf, confirm: 'yes', csv }));
  t.equal(done.statusCode, 200);
  t.match(done.body, /Imported 2 members\. Each is emailed a welcome with a sign-in link\./);
  t.match(done.body, /Line 3 \(not-an-address\)/, 'the rejected rows are said again');
  t.equal(members(), before + 2);
  t.equal(count("SELECT count(*) AS n FROM outbox WHERE kind = 'member.welcome' AND to_address IN ('dan@d.example', 'fay@f.example')"), 2);

  const broken = await upload(cookie, multipart({ _csrf: csrf }, { name: 'x.csv', content: 'email,name\nx@y.example,X' }));
  t.equal(broken.statusCode, 400);
  t.match(broken.body, /the header row lacks organisation, organisationtype/);
  const latin1 = await upload(
    cookie,
    multipart(
      { _csrf: csrf },
      { name: 'x.csv', content: Buffer.from('email,name,organisation,organisation_type\nz@z.example,Zo\xeb,Z,company', 'latin1') },
    ),
  );
  t.equal(latin1.statusCode, 400);
  t.match(latin1.body, /The file is not UTF-8 text/);
  const none = await upload(cookie, multipart({ _csrf: csrf }));
  t.equal(none.statusCode, 400);
  t.match(none.body, /Choose a CSV file to upload\./);
  const forged = await upload(cookie, multipart({ _csrf: 'x', confirm: 'yes', csv }));
  t.equal(forged.statusCode, 403);

  // The API does the same.
  const apiCsv = 'email,name,organisation,organisation_type\ngus@g.example,Gus,G,investor\nbad,Bad,B,company\n';
  const dry = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/members/import',
    headers: org.auth,
    payload: { csv: apiCsv, dryRun: true },
  });
  t.same(dry.json(), { imported: 1, rejected: [{ line: 3, email: 'bad', reason: '"bad" is not an email address' }], dryRun: true });
  t.equal(members(), before + 2, 'a dry run saves nothing');
  const real = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/members/import',
    headers: org.auth,
    payload: { csv: apiCsv },
  });
  t.equal(real.json().imported, 1);
  const unreadable = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/members/import',
    headers: org.auth,
    payload: { csv: 'name\nx' },
  });
  t.equal(unreadable.statusCode, 400);
  t.equal(unreadable.json().code, 'VALIDATION_FAILED');
});

t.test('suspend after seeing what it does; reactivate; a viewer sees members and changes nothing', async (t) => {
  const { app, database, config, clock, org, signIn, get, post, upload, csrfOf, count } = await setup(t);
  const ada = createMemberWithToken(database, config, clock, 'north-west', {
    email: 'ada@acme.example',
    name: 'Ada',
    organisation: 'Acme',
  });
  const huddleId = await publishHuddle(app, org.auth, { title: 'Spring huddle', start: '2027-03-11T09:30', pitch: { slotCount: 1 } });
  t.equal(
    (await app.inject({ method: 'POST', url: `/v1/huddles/${huddleId}/bookings`, headers: ada.auth, payload: { title: 'Gait' } }))
      .statusCode,
    201,
  );
  const cookie = signIn();
  const page = await get(cookie, `/${ada.member.id}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, /<a class="button" href="\/console\/north-west\/members\/[^"]+\/suspend">Suspend…<\/a>/);
  const confirm = await get(cookie, `/${ada.member.id}/suspend`);
  t.match(confirm.body, /<h1>Suspend Ada\?<\/h1>/);
  t.match(
    confirm.body,
    /cancels their pitch to come, telling them, and offers the slots to the waitlist:<\/span><ul><li>“Gait” at Spring huddle<\/li>/,
  );
  t.match(confirm.body, /withdraws no waitlist place or offer/);
  t.equal(count("SELECT count(*) AS n FROM bookings WHERE status = 'confirmed'"), 1, 'the confirmation step changes nothing');
  const csrf = encodeURIComponent(csrfOf(confirm.body));
  const suspended = await post(cookie, `/${ada.member.id}/suspend`, `_csrf=${csrf}`);
  t.equal(suspended.headers.location, `/console/north-west/members/${ada.member.id}?done=suspended`);
  t.equal(count("SELECT count(*) AS n FROM bookings WHERE status = 'cancelled'"), 1, 'the pitch is cancelled');
  t.equal((await app.inject({ url: '/v1/me', headers: ada.auth })).statusCode, 401, 'Ada is signed out');
  const reactivated = await post(cookie, `/${ada.member.id}/reactivate`, `_csrf=${csrf}`);
  t.match(reactivated.headers.location, /done=reactivated$/);
  t.equal((database.sqlite.prepare('SELECT status FROM members WHERE id = ?').get(ada.member.id) as { status: string }).status, 'active');
  t.equal((await get(cookie, '/00000000-0000-7000-8000-000000000000')).statusCode, 404);

  servicesFor(database, clock).organisers.create(
    'north-west',
    { email: 'funder@example.org', name: 'Fran', role: 'viewer' },
    { type: 'cli', label: 'test' },
  );
  const viewer = signIn('funder@example.org');
  const list = await get(viewer, '');
  t.equal(list.statusCode, 200);
  t.match(list.body, /Ada/);
  t.notMatch(list.body, /Add a member|Upload a CSV/);
  t.notMatch((await get(viewer, `/${ada.member.id}`)).body, /Suspend…/);
  const viewerCsrf = encodeURIComponent(csrfOf(list.body));
  t.equal((await post(viewer, `/${ada.member.id}/suspend`, `_csrf=${viewerCsrf}`)).statusCode, 403);
  t.equal((await post(viewer, '', `_csrf=${viewerCsrf}&email=x%40y.example&name=X&organisation=Y&organisationType=other`)).statusCode, 403);
  const csv = 'email,name,organisation,organisation_type\nx@y.example,X,Y,other';
  t.equal((await upload(viewer, multipart({ _csrf: decodeURIComponent(viewerCsrf), confirm: 'yes', csv }))).statusCode, 403);
  t.equal(count('SELECT count(*) AS n FROM members'), 1, 'nothing added');
  t.equal((database.sqlite.prepare('SELECT status FROM members').get() as { status: string }).status, 'active');
});

t.test(
  'review: unreadable uploads are 400 pages, never faults; search folds any script’s case; ids of another cluster are 404',
  async (t) => {
    const { app, database, config, clock, signIn, get, upload, csrfOf } = await setup(t);
    createMemberWithToken(database, config, clock, 'north-west', {
      email: 'emile@z.example',
      name: 'Émile Zola',
      organisation: 'Ærø Labs',
    });
    const cookie = signIn();
    const csrf = csrfOf((await get(cookie, '/import')).body);
    for (const body of [
      Buffer.from('garbage'),
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}`),
    ]) {
      const answer = await upload(cookie, body);
      t.equal(answer.statusCode, 400, 'an unreadable or cut-short upload');
      t.match(answer.headers['content-type'], /text\/html/);
      t.match(answer.body, /The upload could not be read/);
    }
    const anonymous = await app.inject({
      method: 'POST',
      url: '/console/north-west/members/import',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'sec-fetch-site': 'same-origin' },
      payload: Buffer.from('garbage'),
    });
    t.equal(anonymous.statusCode, 303, 'without a session the body is not read');
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/console/signin',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'sec-fetch-site': 'same-origin' },
      payload: multipart({ email: 'x@y.example' }),
    });
    t.equal(elsewhere.statusCode, 415, 'other console forms take no multipart');
    t.match(elsewhere.headers['content-type'], /text\/html/);
    const huge = await app.inject({
      method: 'POST',
      url: '/console/north-west/members',
      headers: { ...form, cookie },
      payload: `_csrf=x&name=${'a'.repeat(300 * 1024)}`,
    });
    t.equal(huge.statusCode, 413);
    t.match(huge.body, /What was sent is too large/);

    for (const q of ['émile', 'ÉMILE', 'ærø'])
      t.match((await get(cookie, `?q=${encodeURIComponent(q)}`)).body, /Émile Zola/, `"${q}" finds Émile`);

    // Another cluster's records under this cluster's address are not found.
    const other = createClusterWithOrganiser(database, 'yorkshire', clock);
    const theirs = createMemberWithToken(database, config, clock, 'yorkshire', { email: 'y@y.example', organisation: 'Y' });
    const huddleId = await publishHuddle(app, other.auth, { pitch: { slotCount: 1 } }, 'yorkshire');
    const booking = (
      await app.inject({ method: 'POST', url: `/v1/huddles/${huddleId}/bookings`, headers: theirs.auth, payload: { title: 'T' } })
    ).json().id;
    t.equal((await get(cookie, `/${theirs.member.id}`)).statusCode, 404, 'their member');
    t.equal((await app.inject({ url: `/console/north-west/huddles/${huddleId}`, headers: { cookie } })).statusCode, 404, 'their huddle');
    const huddlePage = await app.inject({ url: `/console/north-west/huddles/${huddleId}/run-of-show.csv`, headers: { cookie } });
    t.equal(huddlePage.statusCode, 404, 'their run of show');
    const keys = await app.inject({ url: '/console/north-west/keys', headers: { cookie } });
    const approve = await app.inject({
      method: 'POST',
      url: `/console/north-west/huddles/${huddleId}/pitches/${booking}/approve`,
      headers: { ...form, cookie },
      payload: `_csrf=${encodeURIComponent(csrfOf(keys.body))}`,
    });
    t.equal(approve.statusCode, 404, 'their pitch');
    const theirKey = (database.sqlite.prepare('SELECT id FROM api_keys WHERE organiser_id = ?').get(other.organiser.id) as { id: string })
      .id;
    const revoke = await app.inject({
      method: 'POST',
      url: `/console/north-west/keys/${theirKey}/revoke`,
      headers: { ...form, cookie },
      payload: `_csrf=${encodeURIComponent(csrfOf(keys.body))}`,
    });
    t.equal(revoke.statusCode, 404, 'their key');
    t.equal((await app.inject({ url: '/v1/clusters/yorkshire/members', headers: other.auth })).statusCode, 200, 'which still works');
    const end = await app.inject({
      method: 'POST',
      url: '/console/north-west/sessions/00000000-0000-7000-8000-000000000000/end',
      headers: { ...form, cookie },
      payload: `_csrf=${encodeURIComponent(csrfOf(keys.body))}`,
    });
    t.equal(end.statusCode, 404, 'a session that is not open is not "ended"');
    t.match(end.body, /There is no such session open/);
  },
);
