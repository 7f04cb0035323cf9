// Newsletters in the console, over real HTTP and a real SMTP server: write one in Markdown and preview
// its text part and recipient count, save it, read its HTML preview (served framed, sandboxed), send a
// test copy to oneself, then send it: the server's scheduler starts it and each reader gets one copy;
// the campaign page shows the figures. A viewer sends nothing. POST /v1/campaigns/{id}/send and /test
// do the same over the API.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { manualClock } from '../src/lib/clock.js';
import { buildTestApp, until } from './helper.js';
import { consoleCookie } from './fixtures.js';
import { newsletterSetup } from './helpers/newsletter.js';
import { axeViolations, launchChromium, screenshot } from './helpers/browser.js';
import { peerTest } from './helpers/peers.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

t.test('write, preview, test and send a newsletter from the console; the server sends it once to each reader', async (t) => {
  const world = await newsletterSetup(t);
  const { sink, services } = world;
  const clock = manualClock('2026-11-23T09:00:00Z');
  const env = { SMTP_URL: sink.url, DATA_DIR: world.dataDir, DATABASE_PATH: join(world.dataDir, 'convene.db'), MAIL_WORKER: 'true' };
  const { app, database, services: appServices } = await buildTestApp(t, { database: world.database, clock, env });
  const olivia = services.organisers.create('north-west', { email: 'olivia@nw.example', name: 'Olivia' }, { type: 'cli', label: 'test' });
  const auth = { authorization: `Bearer ${olivia.apiKey}` };
  services.organisers.create('north-west', { email: 'fran@funder.example', name: 'Fran', role: 'viewer' }, { type: 'cli', label: 'test' });
  world.addReaders(3);
  const signIn = (email: string) => consoleCookie(database, clock, email);
  const cookie = signIn('olivia@nw.example');
  const get = (path: string, who = cookie) => app.inject({ url: `/console/north-west/newsletters${path}`, headers: { cookie: who } });
  const compose = await get('/new');
  t.equal(compose.statusCode, 200);
  const csrf = encodeURIComponent(/name="_csrf" value="([^"]+)"/.exec(compose.body)![1]!);
  const post = (path: string, body: string, who = cookie) =>
    app.inject({
      method: 'POST',
      url: `/console/north-west/newsletters${path}`,
      headers: { ...form, cookie: who },
      payload: `_csrf=${csrf}&${body}`,
    });
  const draft = `subject=${encodeURIComponent('Winter news')}&topic=newsletter&theme=&body=${encodeURIComponent('# Hello {{first_name|there}}\n\nOur [next huddle](https://convene.test/c/north-west).')}`;

  const preview = await post('/new', `${draft}&intent=preview`);
  t.equal(preview.statusCode, 200);
  t.match(preview.body, /<h2 id="draft-preview">3 subscribers would receive it now\.<\/h2>/);
  t.match(preview.body, /<pre class="description">[^<]*Hello/);
  t.match(
    preview.body,
    /<div class="email-body"><h4>Hello Sample<\/h4>\n<p>Our <a href="https:\/\/convene\.test\/c\/north-west">next huddle<\/a>\.<\/p>/,
    'the HTML, before saving',
  );
  t.match(preview.body, /name="subject" type="text" maxlength="200" required value="Winter news"/, 'the form keeps what was typed');
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM campaigns').get() as { n: number }).n, 0, 'a preview saves nothing');
  const empty = await post('/new', 'subject=&topic=newsletter&theme=&body=&intent=save');
  t.equal(empty.statusCode, 400);
  t.match(empty.body, /class="error" role="alert">/);

  const saved = await post('/new', `${draft}&intent=save`);
  t.match(saved.headers.location, /^\/console\/north-west\/newsletters\/[0-9a-f-]+\?done=saved$/);
  const page = await app.inject({ url: saved.headers.location as string, headers: { cookie } });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-security-policy'], /frame-src 'self'/);
  t.match(
    page.body,
    /<iframe src="\/console\/north-west\/newsletters\/[0-9a-f-]+\/preview\.html" title="Preview of the newsletter: Winter news" sandbox="allow-same-origin"/,
  );
  const id = /newsletters\/([0-9a-f-]+)\?/.exec(saved.headers.location as string)![1]!;
  const html = await get(`/${id}/preview.html`);
  t.equal(html.statusCode, 200);
  t.match(html.headers['content-security-policy'], /sandbox/);
  t.match(html.body, /<h1>Hello Sample<\/h1>/, 'merge fields shown with a sample name');

  // A typo seen in the preview is put right in the draft.
  const editPage = await get(`/${id}/edit`);
  t.match(editPage.body, /<h1>Edit Winter news<\/h1>/);
  t.match(editPage.body, /name="subject" type="text" maxlength="200" required value="Winter news"/);
  const edited = await post(`/${id}/edit`, `${draft.replace('Winter%20news', 'Winter%20news%20(updated)')}&intent=save`);
  t.equal(edited.headers.location, `/console/north-west/newsletters/${id}?done=updated`);
  t.match((await get(`/${id}?done=updated`)).body, /<h1>Winter news \(updated\)<\/h1>/);
  t.equal(
    (await app.inject({ method: 'PATCH', url: `/v1/campaigns/${id}`, headers: auth, payload: {} })).statusCode,
    400,
    'an empty change is refused',
  );
  const viaApi = await app.inject({
    method: 'PATCH',
    url: `/v1/campaigns/${id}`,
    headers: auth,
    payload: { subject: 'Winter news (updated)' },
  });
  t.equal(viaApi.json().subject, 'Winter news (updated)', 'the API changes a draft too');
  const tested = await post(`/${id}/test`, '');
  t.equal(tested.headers.location, `/console/north-west/newsletters/${id}?done=tested&to=olivia%40nw.example`);
  await sink.message('olivia@nw.example', '[Test] Winter news (updated)');
  t.equal(sink.messages.filter((m) => m.envelope.to[0]!.startsWith('reader')).length, 0, 'nobody else got anything');

  const viewer = signIn('fran@funder.example');
  t.notMatch((await get(`/${id}`, viewer)).body, /Send it now|Send a test/);
  t.equal((await post(`/${id}/send`, '', viewer)).statusCode, 403, 'a viewer sends nothing');

  const sent = await post(`/${id}/send`, '');
  t.equal(sent.headers.location, `/console/north-west/newsletters/${id}?done=sending`);
  const job = appServices.jobs.find((j) => j.name === 'scheduled-campaigns')!;
  t.equal(job.run(), 1, "the server's scheduler starts it");
  await until('the send to finish', () => appServices.scheduler.sending().length === 0);
  const received = sink.messages.filter((m) => m.parsed.subject === 'Winter news (updated)').map((m) => m.envelope.to[0]);
  t.same(received.sort(), ['reader0@example.org', 'reader1@example.org', 'reader2@example.org'], 'each reader once');
  const figures = (await get(`/${id}`)).body;
  t.match(figures, /<dt>Recipients<\/dt><dd>3<\/dd>/);
  t.match(figures, /<dt>Sent<\/dt><dd>3<\/dd>/);
  t.match(figures, /<p><span>sent<\/span><span>, Monday, 23 November 2026, 09:00 GMT<\/span><\/p>/);
  t.equal((await post(`/${id}/send`, '')).statusCode, 409, 'sent once: not again');
  t.equal((await post(`/${id}/edit`, `${draft}&intent=save`)).statusCode, 409, 'a sent newsletter cannot be changed');
  t.equal((await get(`/${id}/edit`)).statusCode, 303, 'its edit page sends you back to it');
  const late = await app.inject({ method: 'PATCH', url: `/v1/campaigns/${id}`, headers: auth, payload: { subject: 'Too late' } });
  t.equal(late.json().code, 'CAMPAIGN_STARTED');
  t.match((await get('')).body, /Winter news \(updated\)<\/a><br\/><span>sent; 3 of 3 sent<\/span>/);
});

t.test('pausing from the console stops the send, resuming carries on; the figures count who left since', async (t) => {
  const world = await newsletterSetup(t);
  const { sink, services } = world;
  const clock = manualClock('2026-11-23T09:00:00Z');
  const env = { SMTP_URL: sink.url, DATA_DIR: world.dataDir, DATABASE_PATH: join(world.dataDir, 'convene.db'), MAIL_WORKER: 'true' };
  const { app, database, services: appServices } = await buildTestApp(t, { database: world.database, clock, env });
  const olivia = services.organisers.create('north-west', { email: 'olivia@nw.example', name: 'Olivia' }, { type: 'cli', label: 'test' });
  world.addReaders(40);
  // A slow one (5 a second), made over the API: the console sends, pauses and resumes it.
  const made = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/campaigns',
    headers: { authorization: `Bearer ${olivia.apiKey}` },
    payload: { subject: 'Slow news', body: 'Hello.', rate: 5 },
  });
  const id = made.json().id as string;
  const cookie = consoleCookie(database, clock, 'olivia@nw.example');
  const page = await app.inject({ url: `/console/north-west/newsletters/${id}`, headers: { cookie } });
  const csrf = encodeURIComponent(/name="_csrf" value="([^"]+)"/.exec(page.body)![1]!);
  const post = (verb: string) =>
    app.inject({
      method: 'POST',
      url: `/console/north-west/newsletters/${id}/${verb}`,
      headers: { ...form, cookie },
      payload: `_csrf=${csrf}`,
    });
  t.equal((await post('send')).statusCode, 303);
  t.equal(appServices.jobs.find((j) => j.name === 'scheduled-campaigns')!.run(), 1);
  const arrived = () => sink.messages.filter((m) => m.parsed.subject === 'Slow news').length;
  await until('a few copies to arrive', () => arrived() >= 3);
  t.match((await app.inject({ url: `/console/north-west/newsletters/${id}`, headers: { cookie } })).body, /Pause sending/);
  const paused = await post('pause');
  t.equal(paused.headers.location, `/console/north-west/newsletters/${id}?done=paused`);
  // The sender lets go once its sends in flight have ended, and the server's own worker records what it had
  // in flight (the sink counts a message before it answers).
  await until('the sender to let go', () => appServices.scheduler.sending().length === 0);
  await until(
    'the sends in flight at the pause to be recorded',
    () =>
      (
        database.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'newsletter' AND status IN ('queued', 'sending')").get() as {
          n: number;
        }
      ).n === 0,
  );
  const afterThePause = arrived();
  await sleep(2000);
  t.equal(arrived(), afterThePause, 'nothing more leaves once the sends in flight at the pause have ended');
  t.ok(afterThePause < 40, `stopped part way (${afterThePause} of 40)`);
  const shown = (await app.inject({ url: `/console/north-west/newsletters/${id}?done=paused`, headers: { cookie } })).body;
  t.match(shown, /Paused: nothing more leaves\. Resume it here when you are ready\./);
  t.match(shown, /Or from the command line: npm run convene -- newsletter resume /);
  t.match(shown, /<button[^>]*>Resume sending<\/button>/, 'a Resume button');

  // Resumed from the console: the server's scheduler takes it up and sends the rest, nobody twice.
  const resumed = await post('resume');
  t.equal(resumed.headers.location, `/console/north-west/newsletters/${id}?done=resumed`);
  t.match((await app.inject({ url: resumed.headers.location!, headers: { cookie } })).body, /Resuming: the server carries on/);
  t.equal(appServices.jobs.find((j) => j.name === 'scheduled-campaigns')!.run(), 1, 'taken up by the scheduler');
  await until('the rest to arrive', () => arrived() === 40, 20_000);
  await until('the sender to finish', () => appServices.scheduler.sending().length === 0);
  const to = sink.messages.filter((m) => m.parsed.subject === 'Slow news').map((m) => m.envelope.to[0]);
  t.equal(new Set(to).size, 40, 'each reader once');
  t.equal((await post('resume')).statusCode, 409, 'a sent campaign does not resume');

  // A reader who got it unsubscribes: the figures say so.
  const reader = database.sqlite
    .prepare("SELECT subscriber_id AS id FROM deliveries WHERE campaign_id = ? AND status = 'enqueued' LIMIT 1")
    .get(id) as { id: string };
  clock.set('2026-11-23T10:00:00Z');
  appServices.subscribers.unsubscribe(appServices.subscribers.byId(database.db, reader.id)!, { source: 'email-link' });
  t.match(
    (await app.inject({ url: `/console/north-west/newsletters/${id}`, headers: { cookie } })).body,
    /<dt>Unsubscribed since<\/dt><dd>1<\/dd>/,
  );
  const api = await app.inject({ url: `/v1/campaigns/${id}`, headers: { authorization: `Bearer ${olivia.apiKey}` } });
  t.equal(api.json().stats.unsubscribedSince, 1);
});

peerTest(
  t,
  ['chromium'],
  'in Chromium: write, preview, test and send a newsletter, then watch its figures; every page axe-clean',
  async (t) => {
    const world = await newsletterSetup(t);
    const { sink, services } = world;
    const clock = manualClock('2026-11-23T09:00:00Z');
    const env = { SMTP_URL: sink.url, DATA_DIR: world.dataDir, DATABASE_PATH: join(world.dataDir, 'convene.db'), MAIL_WORKER: 'true' };
    const { app, database, services: appServices } = await buildTestApp(t, { database: world.database, clock, env });
    services.organisers.create('north-west', { email: 'olivia@nw.example', name: 'Olivia' }, { type: 'cli', label: 'test' });
    world.addReaders(3);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const browser = await launchChromium(t);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    await context.addCookies([
      { name: 'convene_console', value: consoleCookie(database, clock, 'olivia@nw.example').split('=')[1]!, url: `${base}/console` },
    ]);
    const page = await context.newPage();
    const clean = async (what: string) => {
      await screenshot(page, `newsletter-${what}`);
      // axe cannot run inside the preview's sandboxed frame (it waits on it for ever): the page is checked
      // without it; the frame's title and sandbox are checked over HTTP above.
      await page.locator('iframe.email-preview').evaluateAll((frames) => frames.forEach((frame) => frame.remove()));
      t.same(await axeViolations(page), [], `${what}: no axe violation`);
    };
    await page.goto(`${base}/console/north-west/newsletters`);
    await clean('list');
    await page.getByRole('link', { name: 'Write a newsletter' }).click();
    await clean('compose');
    await page.getByLabel('Subject', { exact: true }).fill('Spring news');
    await page.getByLabel('The newsletter, in Markdown', { exact: true }).fill('# Hello {{first_name|there}}\n\nThree pitches this month.');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.waitForSelector('text=3 subscribers would receive it now.');
    await clean('preview');
    await page.getByRole('button', { name: 'Save the draft' }).click();
    await page.waitForSelector('text=Saved as a draft.');
    t.match(
      await page.frameLocator('iframe.email-preview').locator('h1').textContent(),
      /Hello Sample/,
      'the HTML as an email app shows it',
    );
    await clean('draft');
    await page.getByRole('button', { name: 'Send a test to me' }).click();
    await page.waitForSelector('text=A test copy is on its way to olivia@nw.example.');
    await sink.message('olivia@nw.example', '[Test] Spring news');
    await page.getByRole('button', { name: 'Send it now' }).click();
    await page.waitForSelector('text=Sending: the server starts within seconds.');
    appServices.jobs.find((j) => j.name === 'scheduled-campaigns')!.run();
    await until('the send to finish', () => appServices.scheduler.sending().length === 0);
    await page.goto(page.url().split('?')[0]!);
    t.match(await page.locator('dl.facts').textContent(), /Recipients3[\s\S]*Sent3/);
    await clean('sent');
    t.equal(sink.messages.filter((m) => m.parsed.subject === 'Spring news').length, 3, 'each reader once');
  },
);
