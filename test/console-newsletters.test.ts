// Newsletters in the console, over real HTTP and a real SMTP server: write one in Markdown and preview
// its text part and recipient count, save it, read its HTML preview (served framed, sandboxed), send a
// test copy to oneself, then send it: the server's scheduler starts it and each reader gets one copy;
// the campaign page shows the figures. A viewer sends nothing. POST /v1/campaigns/{id}/send and /test
// do the same over the API.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { manualClock } from '../src/lib/clock.js';
import { buildTestApp } from './helper.js';
import { consoleCookie } from './fixtures.js';
import { newsletterSetup } from './helpers/newsletter.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

t.test('write, preview, test and send a newsletter from the console; the server sends it once to each reader', async (t) => {
  const world = await newsletterSetup(t);
  const { sink, services } = world;
  const clock = manualClock('2026-11-23T09:00:00Z');
  const env = { SMTP_URL: sink.url, DATA_DIR: world.dataDir, DATABASE_PATH: join(world.dataDir, 'convene.db'), MAIL_WORKER: 'true' };
  const { app, database, services: appServices } = await buildTestApp(t, { database: world.database, clock, env });
  services.organisers.create('north-west', { email: 'olivia@nw.example', name: 'Olivia' }, { type: 'cli', label: 'test' });
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
    /<iframe src="\/console\/north-west\/newsletters\/[0-9a-f-]+\/preview\.html" title="Preview of the newsletter: Winter news" sandbox=""/,
  );
  const id = /newsletters\/([0-9a-f-]+)\?/.exec(saved.headers.location as string)![1]!;
  const html = await get(`/${id}/preview.html`);
  t.equal(html.statusCode, 200);
  t.match(html.headers['content-security-policy'], /sandbox/);
  t.match(html.body, /<h1>Hello Sample<\/h1>/, 'merge fields shown with a sample name');

  const tested = await post(`/${id}/test`, '');
  t.equal(tested.headers.location, `/console/north-west/newsletters/${id}?done=tested&to=olivia%40nw.example`);
  await sink.message('olivia@nw.example', '[Test] Winter news');
  t.equal(sink.messages.filter((m) => m.envelope.to[0]!.startsWith('reader')).length, 0, 'nobody else got anything');

  const viewer = signIn('fran@funder.example');
  t.notMatch((await get(`/${id}`, viewer)).body, /Send it now|Send a test/);
  t.equal((await post(`/${id}/send`, '', viewer)).statusCode, 403, 'a viewer sends nothing');

  const sent = await post(`/${id}/send`, '');
  t.equal(sent.headers.location, `/console/north-west/newsletters/${id}?done=sending`);
  const job = appServices.jobs.find((j) => j.name === 'scheduled-campaigns')!;
  t.equal(job.run(), 1, "the server's scheduler starts it");
  await until('the send to finish', () => appServices.scheduler.sending().length === 0);
  const received = sink.messages.filter((m) => m.parsed.subject === 'Winter news').map((m) => m.envelope.to[0]);
  t.same(received.sort(), ['reader0@example.org', 'reader1@example.org', 'reader2@example.org'], 'each reader once');
  const figures = (await get(`/${id}`)).body;
  t.match(figures, /<dt>Recipients<\/dt><dd>3<\/dd>/);
  t.match(figures, /<dt>Sent<\/dt><dd>3<\/dd>/);
  t.match(figures, /<p><span>sent<\/span><span>, Monday, 23 November 2026, 09:00 GMT<\/span><\/p>/);
  t.equal((await post(`/${id}/send`, '')).statusCode, 409, 'sent once: not again');
  t.match((await get('')).body, /Winter news<\/a><br\/><span>sent; 3 of 3 sent<\/span>/);
});
