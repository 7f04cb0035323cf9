// The organiser's journeys in Debian's Chromium, over real HTTP and a real SMTP server: sign in from the
// email, schedule a monthly series across the spring clock change (the previewed dates are the saved
// ones), upload a members CSV with one bad row, approve one pitch and reject another (both emails
// arrive), check people in at the door on a 360 px screen, and download the impact report whose CSV
// figures match what the journey made. axe-core checks every page on the way; a viewer then opens every
// one of them and finds nothing to change. Skipped without Chromium (test/helpers/peers.ts says how).
import { readFile } from 'node:fs/promises';
import t from 'tap';
import type { Page } from 'playwright-core';
import { manualClock } from '../src/lib/clock.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, servicesFor } from './fixtures.js';
import { axeViolations, launchChromium, screenshot } from './helpers/browser.js';
import { peerTest } from './helpers/peers.js';
import { startSmtpSink } from './helpers/smtp.js';

peerTest(t, ['chromium'], 'an organiser schedules, imports, decides pitches, checks people in and reports', async (t) => {
  const sink = await startSmtpSink(t);
  const transport = createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 });
  t.teardown(() => transport.close());
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database, config } = await buildTestApp(t, {
    clock,
    transport,
    env: { MAIL_WORKER: 'true', PUBLIC_BASE_URL: 'http://127.0.0.1:1' },
  });
  createClusterWithOrganiser(database, 'north-west', clock);
  servicesFor(database, clock).organisers.create(
    'north-west',
    { email: 'funder@example.org', name: 'Fran Funder', role: 'viewer' },
    { type: 'cli', label: 'test' },
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(t);
  const visited: string[] = [];
  const clean = async (page: Page, what: string) => {
    t.same(await axeViolations(page), [], `${what}: no axe violation`);
    visited.push(new URL(page.url()).pathname + new URL(page.url()).search);
    await screenshot(page, `journey-${what}`);
  };
  /** Signs in from the email that arrived over SMTP, as a person does. */
  const signIn = async (page: Page, email: string) => {
    const subject = 'Your sign-in link to the Convene console';
    const links = () => sink.messages.filter((m) => m.envelope.to[0] === email && m.parsed.subject === subject);
    const before = links().length;
    await page.goto(`${base}/console/signin`);
    await page.getByLabel('Your email address', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.waitForSelector('h1:has-text("Check your email")');
    // The newest link (an earlier one is spent).
    for (let waited = 0; links().length === before; waited += 25) {
      if (waited > 10_000) throw new Error(`no sign-in email to ${email}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const mail = links().at(-1)!;
    const link = /http:\/\/127\.0\.0\.1:1(\/console\/signin\?code=\S+)/.exec(mail.parsed.text ?? '')![1]!;
    await page.goto(base + link);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console/north-west`);
  };

  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
  await signIn(page, 'organiser@north-west.example');
  await clean(page, 'dashboard');

  // A monthly series across the clock change: previewed, then saved with those dates.
  await page.getByRole('link', { name: 'Schedule a huddle' }).click();
  await clean(page, 'new-huddle');
  await page.getByLabel('Title', { exact: true }).fill('Monthly huddle');
  await page.getByLabel('Day', { exact: true }).fill('2027-01-28');
  await page.getByLabel('Start time', { exact: true }).fill('01:30');
  await page.getByLabel('Venue (optional)', { exact: true }).fill('Bright Building');
  await page.getByLabel('Number of slots (0: no pitches)', { exact: true }).fill('3');
  await page.getByLabel('Pitches wait for an organiser’s approval', { exact: true }).check();
  await page.getByLabel('Every month, on the same day of the month', { exact: true }).check();
  await page.getByLabel('How many huddles in all (2 to 100)', { exact: true }).fill('4');
  await page.getByRole('button', { name: 'Preview the dates' }).click();
  await page.waitForSelector('h2:has-text("4 huddles would be made")');
  await clean(page, 'series-preview');
  const previewed = await page.locator('#preview + ol li').allTextContents();
  t.same(previewed, [
    'Thursday, 28 January 2027, 01:30 GMT',
    'Sunday, 28 February 2027, 01:30 GMT',
    'Sunday, 28 March 2027, 02:30 BSTmoved by a clock change',
    'Wednesday, 28 April 2027, 01:30 BST',
  ]);
  await page.getByRole('button', { name: 'Save and publish' }).click();
  await page.waitForSelector('text=Saved: 4 huddles. This is the first.');
  await clean(page, 'huddle');
  const saved = (database.sqlite.prepare('SELECT starts_at AS at FROM huddles ORDER BY starts_at').all() as { at: number }[]).map((row) =>
    new Date(row.at).toISOString(),
  );
  t.same(
    saved,
    ['2027-01-28T01:30:00.000Z', '2027-02-28T01:30:00.000Z', '2027-03-28T01:30:00.000Z', '2027-04-28T00:30:00.000Z'],
    'the saved huddles start at the previewed times (02:30 BST is 01:30 UTC)',
  );
  const huddleUrl = page.url().split('?')[0]!;
  const huddleId = huddleUrl.split('/').at(-1)!;

  // Members from a CSV with one bad row: shown before anything is saved, then imported.
  await page.getByRole('link', { name: 'Members' }).click();
  await page.getByRole('link', { name: 'Upload a CSV of members' }).click();
  await clean(page, 'import');
  const csv =
    'email,name,organisation,organisation_type\nada@acme.example,Ada,Acme,company\nnobody,Bad Row,X,company\nbob@uni.example,Bob,Uni,university\n';
  await page
    .getByLabel('The CSV file', { exact: true })
    .setInputFiles({ name: 'members.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Check the file' }).click();
  await page.waitForSelector('text=2 members can be imported.');
  t.match(await page.locator('main').textContent(), /Line 3 \(nobody\): "nobody" is not an email address/);
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM members').get() as { n: number }).n, 0, 'nothing saved before Import');
  await clean(page, 'import-preview');
  await page.getByRole('button', { name: 'Import 2 members' }).click();
  await page.waitForSelector('text=Imported 2 members.');
  await clean(page, 'imported');
  await sink.message('ada@acme.example', 'Welcome to Cluster north-west on Convene');

  // Ada and Bob ask to pitch; one is approved, the other rejected with a reason, and both hear.
  const tokenOf = (email: string) => {
    const member = database.sqlite.prepare('SELECT id FROM members WHERE email = ?').get(email) as { id: string };
    const services = servicesFor(database, clock, config);
    const code = database.db.transaction((tx) => services.signIn.issueCode(tx, member.id));
    return { authorization: `Bearer ${services.signIn.exchange(code).token}` };
  };
  for (const email of ['ada@acme.example', 'bob@uni.example']) {
    const booked = await app.inject({
      method: 'POST',
      url: `/v1/huddles/${huddleId}/bookings`,
      headers: tokenOf(email),
      payload: { title: `${email} news` },
    });
    t.equal(booked.statusCode, 201);
  }
  await page.goto(huddleUrl);
  await page.getByRole('button', { name: 'Approve: ada@acme.example news' }).click();
  await page.waitForSelector('text=Approved.');
  await page.getByLabel('Reason for rejecting (sent to them, optional)', { exact: true }).fill('Not health-tech enough this time');
  await page.getByRole('button', { name: 'Reject: bob@uni.example news' }).click();
  await page.waitForSelector('text=Rejected.');
  await clean(page, 'pitches-decided');
  const approved = await sink.message('ada@acme.example', 'Pitch approved: Monthly huddle');
  t.ok(
    approved.parsed.attachments.some((part) => part.contentType.startsWith('text/calendar')),
    'the approval carries the calendar entry',
  );
  const rejected = await sink.message('bob@uni.example', 'Pitch not accepted: Monthly huddle');
  t.match(rejected.parsed.text, /Not health-tech enough this time/);

  // At the door, on a phone, the evening before (check-in opens a day ahead): Ada is checked in with one
  // tap. Weeks have passed, so the organiser signs in again.
  clock.set('2027-01-27T18:00:00Z');
  await signIn(page, 'organiser@north-west.example');
  await page.setViewportSize({ width: 360, height: 800 });
  await page.goto(`${huddleUrl}/checkin`);
  await clean(page, 'checkin');
  await page.getByRole('button', { name: 'Check in: Ada' }).click();
  await page.waitForSelector('text=1 checked in; 1 expected.');
  const wide = await page.evaluate(
    () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
  );
  t.ok(wide <= 360, `the door list fits 360 px (${wide})`);
  await clean(page, 'checked-in');
  await page.setViewportSize({ width: 1280, height: 900 });

  // After the huddle, January's report, downloaded as CSV (the later huddles have not happened yet).
  clock.set('2027-01-29T09:00:00Z');
  await page.goto(`${base}/console/north-west/report?from=2027-01-01&to=2027-01-31`);
  await clean(page, 'report');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'This report as CSV (spreadsheet)' }).click(),
  ]);
  const figures = new Map(
    (await readFile((await download.path())!, 'utf8'))
      .trim()
      .split(/\r?\n/)
      .map((line) => line.split(','))
      .map(([section, item, value]) => [`${section}/${item}`, value]),
  );
  t.equal(figures.get('huddles/held'), '1', 'one huddle held in January');
  t.equal(figures.get('organisations/engaged'), '1', 'Acme pitched and came');
  t.equal(figures.get('organisations by type/company'), '1');
  t.equal(figures.get('pitches/confirmed'), '1', 'the rejected pitch does not count');
  t.equal(figures.get('attendance/attended'), '1');
  t.equal(figures.get('organisations/first-time pitchers'), '1');
  for (const path of ['/audit', '/subscribers', '/keys']) {
    await page.goto(`${base}/console/north-west${path}`);
    await clean(page, path.slice(1));
  }

  // A viewer opens every page the organiser did and finds nothing to change.
  const viewer = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(viewer, 'funder@example.org');
  for (const path of new Set(visited.filter((p) => p.startsWith('/console/north-west')))) {
    const answer = await viewer.goto(`${base}${path}`);
    t.equal(answer?.status(), 200, `the viewer opens ${path}`);
    // Only their own way out is offered: signing out, and their own keys and sessions.
    const forms = await viewer.locator('form[method="post"]').evaluateAll((all) => all.map((form) => form.getAttribute('action') ?? ''));
    t.same(
      forms.filter((action) => !/\/signout$|\/keys\/[^/]+\/revoke$|\/sessions\/[^/]+\/end$/.test(action)),
      [],
      `nothing to change on ${path}`,
    );
    t.same(await axeViolations(viewer), [], `${path} as a viewer: no axe violation`);
  }
});
