// A member's journeys in Debian's Chromium: sign in from the emailed link, book a pitch on the huddle
// page, find it in "My huddles" and cancel it; a second member gets the freed slot offered by email and
// takes it in the browser; registering to attend. axe-core checks every page on the way.
// Skipped without Chromium (test/helpers/peers.ts says how to install it).
import t from 'tap';
import type { Page } from 'playwright-core';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, publishHuddle } from './fixtures.js';
import { axeViolations, launchChromium, screenshot } from './helpers/browser.js';
import { peerTest } from './helpers/peers.js';

peerTest(t, ['chromium'], 'sign in, book, cancel; the next in line takes the freed slot; register to attend', async (t) => {
  const { app, database, config, clock } = await buildTestApp(t, { env: { PUBLIC_BASE_URL: 'http://127.0.0.1:1' } });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const huddleId = await publishHuddle(app, org.auth, { capacity: 30, pitch: { slotCount: 1 } });
  createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@example.org', organisation: 'Acme' });
  const bob = createMemberWithToken(database, config, clock, 'north-west', { email: 'bob@example.org', organisation: 'Bob Ltd' });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(t);
  /** The newest link to `path` in an email to `to`, on this server. */
  const emailedLink = (to: string, path: string) => {
    const rows = database.sqlite
      .prepare(
        'SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE to_address = ? ORDER BY created_at DESC, outbox.rowid DESC',
      )
      .all(to) as {
      text: string;
    }[];
    for (const { text } of rows) {
      const match = new RegExp(`http://127\\.0\\.0\\.1:1(${path.replace('?', '\\?')}[^\\s]*)`).exec(text);
      if (match) return base + match[1];
    }
    throw new Error(`no ${path} link to ${to}`);
  };
  const clean = async (page: Page, what: string) => {
    t.same(await axeViolations(page), [], `${what}: no axe violation`);
    await screenshot(page, what);
  };
  const signIn = async (page: Page, email: string) => {
    await page.goto(`${base}/signin`);
    await clean(page, 'signin');
    await page.getByLabel('Your email address').fill(email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.waitForSelector('h1:has-text("Check your email")');
    await page.goto(emailedLink(email, '/signin?code='));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/me`);
  };

  // Ada signs in, books the only slot, sees it in "My huddles", and cancels it.
  const adaPage = await (await browser.newContext({ viewport: { width: 360, height: 800 } })).newPage();
  await signIn(adaPage, 'ada@example.org');
  await clean(adaPage, 'me-empty');
  await adaPage.goto(`${base}/h/${huddleId}`);
  await clean(adaPage, 'huddle-signed-in');
  await adaPage.getByLabel('Pitch title').fill('A gait sensor');
  await adaPage.getByRole('button', { name: 'Book this slot' }).click();
  await adaPage.waitForURL(`${base}/me?done=booked`);
  t.match(await adaPage.locator('main').textContent(), /“A gait sensor” \(confirmed\)/);
  await clean(adaPage, 'me-booked');
  // The "See or cancel your pitch" link from the confirmation email opens its own page.
  await adaPage.goto(emailedLink('ada@example.org', '/pitches/cancel?token='));
  t.match(await adaPage.locator('main').textContent(), /A gait sensor/);
  await clean(adaPage, 'pitch-link');
  await adaPage.goto(`${base}/me`);

  // Bob, on the same huddle page, can only join the waitlist.
  const bobPage = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await signIn(bobPage, 'bob@example.org');
  await bobPage.goto(`${base}/h/${huddleId}`);
  await bobPage.getByLabel('Pitch title').fill('Bob news');
  await bobPage.getByRole('button', { name: 'Join the waitlist' }).click();
  await bobPage.waitForURL(`${base}/me?done=joined`);

  // Ada cancels: the slot is offered to Bob by email; the offer's link opens a page with a button.
  await adaPage.getByRole('button', { name: 'Cancel this pitch' }).click();
  await adaPage.waitForURL(`${base}/me?done=cancelled`);
  t.equal(
    (database.sqlite.prepare("SELECT status FROM bookings WHERE title = 'A gait sensor'").get() as { status: string }).status,
    'cancelled',
  );
  await bobPage.goto(`${base}/me`);
  t.match(await bobPage.locator('main').textContent(), /A slot is free for you/);
  await clean(bobPage, 'me-offer');
  await bobPage.goto(emailedLink('bob@example.org', '/waitlist/offer?token='));
  t.match(await bobPage.locator('main').textContent(), /Bob news/);
  await clean(bobPage, 'offer-link');
  await bobPage.goto(`${base}/me`);
  await bobPage.getByRole('button', { name: 'Take the slot' }).click();
  await bobPage.waitForURL(`${base}/me?done=accepted`);
  t.match(await bobPage.locator('main').textContent(), /“Bob news” \(confirmed\)/);
  t.ok(emailedLink('bob@example.org', '/waitlist/offer?token='), 'the offer was emailed too');

  // Ada registers to attend, with the keyboard: Tab to the button, Enter.
  await adaPage.goto(`${base}/h/${huddleId}`);
  await adaPage.getByRole('button', { name: 'Register to attend' }).focus();
  await adaPage.keyboard.press('Enter');
  await adaPage.waitForURL(`${base}/me?done=registered`);
  t.match(await adaPage.locator('main').textContent(), /Huddles I attend.*Winter huddle/s);
  const feed = await adaPage.getByRole('link', { name: 'Subscribe in your calendar app' }).getAttribute('href');
  t.match(feed, /^webcal:\/\/127\.0\.0\.1:1\/v1\/feeds\/cnv_feed_/, 'the private feed to subscribe to');
  t.equal(bob.member.status, 'active');
});
