// The organiser console in Debian's Chromium, with the keyboard alone on a 360 px screen: ask for a
// sign-in link, open it from the email, choose a cluster, read the dashboard, make an API key (then use
// it on the API), switch to the cluster where one is a viewer, and sign out. axe-core checks every page,
// and no page scrolls sideways. Skipped without Chromium (test/helpers/peers.ts says how to install it).
import t from 'tap';
import type { Page } from 'playwright-core';
import { buildTestApp } from './helper.js';
import { createCluster, createClusterWithOrganiser, createMemberWithToken, publishHuddle, servicesFor } from './fixtures.js';
import { axeViolations, focused, launchChromium, screenshot, tabTo, tabToButton } from './helpers/browser.js';
import { peerTest } from './helpers/peers.js';

/** Presses Tab until the link with this text has the focus (at most 60 times). */
async function tabToLink(page: Page, text: string): Promise<boolean> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if ((await focused(page)) === `A ${text}`) return true;
  }
  return false;
}

peerTest(t, ['chromium'], 'an organiser runs the console with the keyboard alone at 360 px; every page is axe-clean', async (t) => {
  const { app, database, config, clock } = await buildTestApp(t, { env: { PUBLIC_BASE_URL: 'http://127.0.0.1:1' } });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  createCluster(database, 'yorkshire', clock);
  servicesFor(database, clock).organisers.create(
    'yorkshire',
    { email: 'organiser@north-west.example', name: 'Olivia Organiser', role: 'viewer' },
    { type: 'cli', label: 'test' },
  );
  const huddle = await publishHuddle(app, org.auth, {
    title: 'Spring huddle',
    start: '2027-03-11T09:30',
    pitch: { slotCount: 3, approvalRequired: true },
  });
  const ada = createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@example.org', organisation: 'Acme' });
  t.equal(
    (await app.inject({ method: 'POST', url: `/v1/huddles/${huddle}/bookings`, headers: ada.auth, payload: { title: 'Gait' } })).statusCode,
    201,
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(t);
  const page = await (await browser.newContext({ viewport: { width: 360, height: 800 } })).newPage();
  const clean = async (what: string) => {
    t.same(await axeViolations(page), [], `${what}: no axe violation`);
    const wide = await page.evaluate(
      () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
    );
    t.ok(wide <= 360, `${what}: fits 360 px (${wide})`);
    await screenshot(page, `console-${what}`);
  };

  // Ask for a link with the keyboard.
  await page.goto(`${base}/console/signin`);
  await clean('signin');
  t.ok(await tabTo(page, 'email'), 'Tab reaches the email field');
  await page.keyboard.type('organiser@north-west.example');
  t.ok(await tabToButton(page, 'Email me a sign-in link'));
  await page.keyboard.press('Enter');
  await page.waitForSelector('h1:has-text("Check your email")');
  await clean('signin-sent');

  // Open the emailed link and press the button with the keyboard.
  const text = (
    database.sqlite
      .prepare(
        "SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE kind = 'organiser.sign_in' ORDER BY outbox.rowid DESC LIMIT 1",
      )
      .get() as { text: string }
  ).text;
  await page.goto(base + /http:\/\/127\.0\.0\.1:1(\/console\/signin\?code=\S+)/.exec(text)![1]!);
  await clean('signin-finish');
  t.ok(await tabToButton(page, 'Sign in'));
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/console`);
  await clean('clusters');

  // Choose the cluster; the dashboard says what needs attention.
  t.ok(await tabToLink(page, 'Cluster north-west'));
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/console/north-west`);
  t.match(await page.locator('main').textContent(), /1 pitch waits for your approval at Spring huddle\./);
  await clean('dashboard');

  // Make a key valid for 30 days; it is shown once and works on the API.
  t.ok(await tabToLink(page, 'API keys and sessions'));
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/console/north-west/keys`);
  await clean('keys');
  t.ok(await tabTo(page, 'days'), 'Tab reaches the days field');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('30');
  t.ok(await tabToButton(page, 'Make the key'));
  await page.keyboard.press('Enter');
  await page.waitForSelector('h2:has-text("Your new API key")');
  await clean('key-made');
  const key = (await page.locator('p.secret').textContent())!.trim();
  const members = await app.inject({ url: '/v1/clusters/north-west/members', headers: { authorization: `Bearer ${key}` } });
  t.equal(members.statusCode, 200, 'the key made in the console works on the API');

  // Switch to the cluster where Olivia is a viewer: no form to make keys there.
  t.ok(await tabToLink(page, 'Cluster yorkshire'));
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/console/yorkshire`);
  t.match(await page.locator('main').textContent(), /You are a viewer here/);
  await clean('viewer-dashboard');
  await page.goto(`${base}/console/yorkshire/keys`);
  t.equal(await page.locator('button:has-text("Make the key")').count(), 0, 'a viewer is offered no change');
  await clean('viewer-keys');

  // Sign out with the keyboard: the console asks to sign in again.
  await page.goto(`${base}/console/north-west`);
  t.ok(await tabToButton(page, 'Sign out'));
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/console/signin`);
  await page.goto(`${base}/console/north-west`);
  await page.waitForURL(`${base}/console/signin`);
});
