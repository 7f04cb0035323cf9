// The newsletter's confirm and unsubscribe pages in a real headless Chromium (Debian's, driven by
// playwright-core): a person opens the link, presses the button, and the database says so.
// Skipped without Chromium (test/helpers/peers.ts says how to install it).
import t from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { peerTest } from './helpers/peers.js';
import { axeViolations, launchChromium } from './helpers/browser.js';

peerTest(t, ['chromium'], 'confirm, then unsubscribe, by clicking the buttons in Chromium', async (t) => {
  const { app, database } = await buildTestApp(t);
  createClusterWithOrganiser(database, 'north-west');
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(t);
  const page = await (await browser.newContext()).newPage();
  const status = () =>
    (database.sqlite.prepare("SELECT status FROM subscribers WHERE email = 'ada@example.org'").get() as { status: string }).status;
  const linkTo = (path: string) => {
    const row = database.sqlite
      .prepare('SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE to_address = ? ORDER BY created_at DESC LIMIT 1')
      .get('ada@example.org') as { text: string };
    const match = new RegExp(`https://convene\\.test(${path}\\?token=\\S+)`).exec(row.text);
    if (!match) throw new Error(`no ${path} link`);
    return base + match[1];
  };

  const signUp = await fetch(`${base}/v1/clusters/north-west/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.org' }),
  });
  t.equal(signUp.status, 202);
  await new Promise((resolve) => setTimeout(resolve, 50));

  await page.goto(linkTo('/subscriptions/confirm'));
  t.equal(await page.title(), 'Confirm your subscription to Cluster north-west – Convene');
  t.equal(status(), 'pending', 'opening the page confirms nothing');
  t.same(await axeViolations(page), [], 'the confirm page: no axe violation');
  await page.getByRole('button', { name: 'Confirm my subscription' }).click();
  await page.waitForSelector('h1:has-text("You are subscribed")');
  t.equal(status(), 'confirmed', 'the button confirmed');
  const css = await page
    .locator('main')
    .evaluate((main) => (globalThis as unknown as { getComputedStyle(e: unknown): { maxWidth: string } }).getComputedStyle(main).maxWidth);
  t.equal(css, '576px', 'the stylesheet loads under the content security policy');

  // The unsubscribe link from a newsletter (made the way campaigns make it), then the button.
  const { signLink } = await import('../src/lib/signed-links.js');
  const { TEST_SECRET } = await import('./helper.js');
  const id = (database.sqlite.prepare("SELECT id FROM subscribers WHERE email = 'ada@example.org'").get() as { id: string }).id;
  await page.goto(`${base}/unsubscribe?token=${encodeURIComponent(signLink(TEST_SECRET, 'unsubscribe', id))}`);
  t.equal(status(), 'confirmed', 'opening the unsubscribe page changes nothing');
  t.same(await axeViolations(page), [], 'the unsubscribe page: no axe violation');
  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  await page.waitForSelector('h1:has-text("You are unsubscribed")');
  t.equal(status(), 'unsubscribed', 'the button unsubscribed');
  const events = database.sqlite
    .prepare("SELECT kind, source, user_agent FROM consent_events WHERE kind IN ('confirmed', 'unsubscribed') ORDER BY at")
    .all() as { kind: string; source: string; user_agent: string }[];
  t.same(
    events.map((e) => `${e.kind} ${e.source}`),
    ['confirmed email-link', 'unsubscribed one-click'],
  );
  t.match(events[0]!.user_agent, /Chrome/, 'the ledger records the browser');
});
