// The public web pages over HTTP: the home, a cluster's page with its sign-up form, a huddle's page;
// hostile names render as text, drafts stay hidden, and calendar entries link to the huddle's page.
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, publishHuddle } from './fixtures.js';
import { parseWithIcalJs } from './helpers/calendar.js';

const HOSTILE = '<script>alert(1)</script> & "Quotes"';

async function setup(t: Test) {
  const built = await buildTestApp(t);
  const org = createClusterWithOrganiser(built.database);
  const { app } = built;
  await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: org.auth,
    payload: {
      name: `North West ${HOSTILE}`,
      description: `Health-tech firms, universities and the NHS.\n${HOSTILE}`,
      contactEmail: 'hello@nw.example',
      themes: ['digital', 'devices'],
    },
  });
  const huddle = async (payload: Record<string, unknown>) => ({
    id: await publishHuddle(app, org.auth, { start: '2026-12-01T09:30', ...payload }),
  });

  const page = async (url: string) => {
    const response = await app.inject(url);
    return { status: response.statusCode, type: String(response.headers['content-type']), body: response.body, headers: response.headers };
  };
  return { ...built, ...org, huddle, page };
}

t.test('GET / lists the clusters, or goes straight to the only one', async (t) => {
  const { app, page, database } = await setup(t);
  const one = await app.inject('/');
  t.equal(one.statusCode, 302);
  t.equal(one.headers.location, '/c/north-west');
  createClusterWithOrganiser(database, 'south-east');
  const home = await page('/');
  t.equal(home.status, 200);
  t.match(home.type, /^text\/html; charset=utf-8/);
  t.match(home.body, /<html lang="en-GB">/);
  t.match(home.body, /<a href="\/c\/north-west">North West &lt;script>alert\(1\)&lt;\/script> &amp; &#34;Quotes&#34;<\/a>/);
  t.match(home.body, /<a href="\/c\/south-east">/);
  t.match(home.body, /href="\/docs"/, 'links to the API docs');
});

t.test(
  'a cluster page: upcoming published huddles, cancelled ones marked, a theme filter, subscribe links, the sign-up form',
  async (t) => {
    const { app, auth, huddle, page } = await setup(t);
    await huddle({ title: `Digital ${HOSTILE}`, themes: ['digital'] });
    await huddle({ title: 'Devices day', themes: ['devices'], start: '2026-12-08T09:30' });
    await huddle({ title: 'Secret draft', status: 'draft' });
    const cancelled = await huddle({ title: 'Snowed off', start: '2026-12-15T09:30' });
    await app.inject({ method: 'POST', url: `/v1/huddles/${cancelled.id}/cancel`, headers: auth, payload: { reason: 'Snow' } });

    const cluster = await page('/c/north-west');
    t.equal(cluster.status, 200);
    t.match(cluster.headers['content-security-policy'], /default-src 'none'/);
    t.notMatch(cluster.body, /<script/, 'no script at all, and the hostile names are text');
    t.match(cluster.body, /<h1>North West &lt;script>/);
    t.match(cluster.body, /<p class="description">Health-tech firms, universities and the NHS\.\n&lt;script>/, 'the description, as text');
    t.match((await app.inject('/v1/clusters/north-west')).json(), { description: /^Health-tech firms/ }, 'and in the API profile');
    t.match(cluster.body, /Digital &lt;script>alert\(1\)&lt;\/script> &amp; &#34;Quotes&#34;/);
    t.match(cluster.body, /Devices day/);
    t.notMatch(cluster.body, /Secret draft/, 'drafts stay hidden');
    t.match(cluster.body, /<li class="cancelled"><a href="\/h\/[^"]+">Snowed off<\/a><strong class="tag">Cancelled<\/strong>/);
    t.match(cluster.body, /Tuesday, 1 December 2026, 09:30–11:00 GMT/);
    t.match(cluster.body, /href="webcal:\/\/convene\.test\/v1\/clusters\/north-west\/calendar\.ics"/);
    t.match(cluster.body, /href="https:\/\/calendar\.google\.com\/calendar\/r\?cid=webcal%3A%2F%2Fconvene\.test/);
    t.match(cluster.body, /href="https:\/\/outlook\.office\.com\/calendar\/0\/addfromweb\?url=https%3A%2F%2Fconvene\.test/);
    t.match(cluster.body, /mailto:hello@nw\.example/);
    t.match(cluster.body, /<form method="post" action="\/c\/north-west\/subscribe"/);

    const devices = await page('/c/north-west?theme=devices');
    t.match(devices.body, /Devices day/);
    t.notMatch(devices.body, /Digital &lt;script/, 'the filter keeps one theme');
    t.match(devices.body, /<option value="devices" selected>devices<\/option>/);
    t.notMatch((await page('/c/north-west?theme=<b>')).body, /<b>/, 'an unknown theme is ignored, not echoed');
    t.equal((await page('/c/nowhere')).status, 404);
    t.equal((await page('/c/..%2F..')).status, 404);
  },
);

t.test('the sign-up form: a pending subscriber and a confirmation email; mistakes shown next to the field, typing kept', async (t) => {
  const { app, database } = await setup(t);
  const post = (payload: string) =>
    app.inject({
      method: 'POST',
      url: '/c/north-west/subscribe',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload,
    });
  const subscribers = () => database.sqlite.prepare('SELECT email, status, topics FROM subscribers').all() as { email: string }[];

  const wrong = await post('email=not-an-address&name=Ada+%22%3Ci%3E&topics=newsletter');
  t.equal(wrong.statusCode, 400);
  t.match(wrong.body, /role="alert"/);
  t.match(wrong.body, /<p class="field-error" id="email-error">Enter an email address, like name@example\.org\.<\/p>/);
  t.match(wrong.body, /aria-invalid="true"/);
  t.match(wrong.body, /value="not-an-address"/, 'what was typed is kept');
  t.match(wrong.body, /value="Ada &#34;<i>"/, 'a quote cannot leave the attribute');
  const noTopic = await post('email=ada%40example.org');
  t.equal(noTopic.statusCode, 400);
  t.match(noTopic.body, /id="topics-error">Choose at least one\./);
  t.same(subscribers(), [], 'nothing stored for a form with mistakes');

  const bot = await post('email=bot%40example.org&topics=newsletter&website=http%3A%2F%2Fspam.example');
  t.equal(bot.statusCode, 200, 'a filled-in honeypot is thanked');
  t.same(subscribers(), [], '... and ignored');

  const ok = await post('email=Ada%40Example.org&name=Ada&topics=newsletter&topics=huddle-invites&themes=devices&themes=unknown');
  t.equal(ok.statusCode, 200);
  t.match(ok.body, /Check your email/);
  t.match(ok.headers['cache-control'], /no-store/);
  t.match(subscribers(), [{ email: 'ada@example.org', status: 'pending', topics: '["newsletter","huddle-invites"]' }]);
  const themes = database.sqlite.prepare("SELECT themes FROM subscribers WHERE email = 'ada@example.org'").get() as { themes: string };
  t.equal(themes.themes, '["devices"]', "the themes chosen, among the cluster's");
  const confirmation = database.sqlite.prepare("SELECT subject FROM outbox WHERE to_address = 'ada@example.org'").get() as {
    subject: string;
  };
  t.match(confirmation.subject, /confirm/i, 'the confirmation email is queued');
});

t.test('a huddle page: details, places, the public agenda, add-to-calendar; drafts and unknown ids are 404', async (t) => {
  const { app, database, config, clock, huddle, page, auth } = await setup(t);
  const { id } = await huddle({
    title: `Winter ${HOSTILE}`,
    description: 'Pitches\nand news',
    venue: { name: 'Bright Building', address: 'Science Park, M15 6GZ' },
    onlineUrl: 'https://meet.example.org/secret-room',
    capacity: 40,
    themes: ['digital'],
    pitch: { slotCount: 3, slotMinutes: 5, changeoverMinutes: 1, startOffsetMinutes: 30 },
  });
  const member = createMemberWithToken(database, config, clock, 'north-west', {
    email: 'ada@example.org',
    organisation: `Acme ${HOSTILE}`,
  });
  const booked = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${id}/bookings`,
    headers: member.auth,
    payload: { title: 'Gait <sensors>', summary: 'Trials at two trusts <b>now</b>.\nResults in May.' },
  });
  t.equal(booked.statusCode, 201, booked.body);

  const view = await page(`/h/${id}`);
  t.match(view.body, /<p class="summary">Trials at two trusts &lt;b>now&lt;\/b>\.\nResults in May\.<\/p>/, 'the summary, as text');
  t.equal(view.status, 200);
  t.notMatch(view.body, /<script/);
  t.match(view.body, /<title>Winter &lt;script>.* – North West &lt;script>.* – Convene<\/title>/);
  t.match(view.body, /<h1>Winter &lt;script>alert\(1\)&lt;\/script> &amp; &#34;Quotes&#34;<\/h1>/);
  t.match(view.body, /<time datetime="2026-12-01T09:30:00.000Z">Tuesday, 1 December 2026, 09:30–11:00 GMT<\/time>/);
  t.match(view.body, /Bright Building, Science Park, M15 6GZ/);
  t.match(view.body, /href="https:\/\/www\.openstreetmap\.org\/search\?query=Bright%20Building/);
  t.match(view.body, /Online too: the link is sent to registered attendees and pitchers\./);
  t.notMatch(view.body, /secret-room/, 'the online link is never on the public page');
  t.match(view.body, /40 of 40 places left/);
  t.match(view.body, /10:00 · Slot 1<\/span><br\/><strong>Acme &lt;script>.*<\/strong>: <span>Gait &lt;sensors><\/span>/);
  t.notMatch(view.body, /ada@example\.org/, 'no presenter email in public');
  t.match(view.body, new RegExp(`href="https://convene\\.test/v1/huddles/${id}/calendar\\.ics"`));
  t.match(view.body, /href="https:\/\/calendar\.google\.com\/calendar\/render\?action=TEMPLATE&text=Winter\+/);
  t.match(view.body, /<a class="button" href="\/signin">Sign in<\/a>/);

  const css = await app.inject('/assets/convene.css');
  t.ok(
    Buffer.byteLength(view.body) + Buffer.byteLength(css.body) < 50_000,
    `the page and its stylesheet weigh under 50 KB (${view.body.length + css.body.length} bytes)`,
  );

  const draft = await huddle({ status: 'draft' });
  t.equal((await page(`/h/${draft.id}`)).status, 404, 'a draft is not public');
  t.equal((await page('/h/00000000-0000-4000-8000-000000000000')).status, 404);
  t.equal((await page('/h/not-an-id')).status, 404);

  await app.inject({ method: 'POST', url: `/v1/huddles/${id}/cancel`, headers: auth, payload: { reason: 'Snow & ice' } });
  const cancelled = await page(`/h/${id}`);
  t.match(cancelled.body, /This huddle is cancelled: Snow &amp; ice/);
  t.notMatch(cancelled.body, /Sign in<\/a>/, 'no actions on a cancelled huddle');
});

t.test('calendar entries and invitation emails link to the huddle page, not to JSON', async (t) => {
  const { app, huddle, auth, database } = await setup(t);
  const { id } = await huddle({});
  const ics = (await app.inject('/v1/clusters/north-west/calendar.ics')).body;
  t.match(ics.replace(/\r\n /g, ''), `URL;VALUE=URI:https://convene.test/h/${id}`);
  const feed = parseWithIcalJs(ics);
  t.match(feed.events[0]!.description, `Details: https://convene.test/h/${id}`);
  await app.inject({
    method: 'POST',
    url: `/v1/huddles/${id}/invitations`,
    headers: auth,
    payload: { addresses: [{ email: 'guest@example.org' }] },
  });
  const invitation = database.sqlite
    .prepare("SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE to_address = 'guest@example.org'")
    .get() as { text: string };
  t.match(invitation.text, `https://convene.test/h/${id}`);
  t.notMatch(invitation.text, /\/v1\/huddles\//);
});

t.test(
  "the cluster's own website: its form may return there, its scripts may post the JSON sign-up, it may frame the huddle list",
  async (t) => {
    const { app, auth, database, huddle, page } = await setup(t);
    await huddle({ title: 'Framed huddle' });
    const site = 'http://127.0.0.1:4321';
    const refused = await app.inject({
      method: 'PATCH',
      url: '/v1/clusters/north-west',
      headers: auth,
      payload: { websiteOrigins: ['https://cluster.example/path'] },
    });
    t.equal(refused.statusCode, 400, 'an origin is scheme, host and port only');
    const set = await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers: auth, payload: { websiteOrigins: [site] } });
    t.same(set.json().websiteOrigins, [site]);

    const post = (body: string) =>
      app.inject({
        method: 'POST',
        url: '/c/north-west/subscribe',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: body,
      });
    const back = await post(`email=ada%40example.org&topics=newsletter&return=${encodeURIComponent(`${site}/thanks?from=form`)}`);
    t.equal(back.statusCode, 303);
    t.equal(back.headers.location, `${site}/thanks?from=form`, 'back to the listed website');
    const elsewhere = await post(`email=bob%40example.org&topics=newsletter&return=${encodeURIComponent('https://evil.example/x')}`);
    t.equal(elsewhere.statusCode, 200, 'never an open redirect: an unlisted address gets our own page');
    t.match(elsewhere.body, /Check your email/);
    const pending = database.sqlite.prepare("SELECT count(*) AS n FROM subscribers WHERE status = 'pending'").get() as { n: number };
    t.equal(pending.n, 2, 'both signed up');

    const preflight = (origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/v1/clusters/north-west/subscriptions',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const allowed = await preflight(site);
    t.equal(allowed.statusCode, 204);
    t.equal(allowed.headers['access-control-allow-origin'], site);
    t.match(allowed.headers['access-control-allow-headers'], /Content-Type/);
    t.notOk((await preflight('https://evil.example')).headers['access-control-allow-origin'], 'another origin gets no CORS headers');
    const json = await app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/subscriptions',
      headers: { origin: site, 'content-type': 'application/json' },
      payload: { email: 'cat@example.org' },
    });
    t.equal(json.statusCode, 202);
    t.equal(json.headers['access-control-allow-origin'], site);
    t.match(json.headers.vary, /Origin/);

    const embed = await page('/c/north-west/embed');
    t.equal(embed.status, 200);
    t.match(embed.headers['content-security-policy'], new RegExp(`frame-ancestors 'self' ${site.replace(/[.:/]/g, '\\$&')}`));
    t.notOk(embed.headers['x-frame-options'], 'no X-Frame-Options to forbid the framing');
    t.match(embed.body, /<a href="\/h\/[^"]+" target="_top">Framed huddle<\/a>/);
    t.match((await page('/c/north-west')).headers['content-security-policy'], /frame-ancestors 'none'/, 'other pages are never framed');
  },
);
