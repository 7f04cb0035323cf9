// The public pages in Debian's Chromium, as a person uses them: a visitor finds a huddle from the
// cluster's page and subscribes with the keyboard alone, then confirms from the email. axe-core
// finds no WCAG 2.2 A/AA violation on any page, at 360 px and 1280 px; screenshots go to
// .scratch/screenshots for review. Skipped without Chromium (test/helpers/peers.ts says how to install it).
import t from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken } from './fixtures.js';
import { axeViolations, focused, launchChromium, screenshot, tabTo, tabToButton } from './helpers/browser.js';
import { peerTest } from './helpers/peers.js';

peerTest(
  t,
  ['chromium'],
  'a visitor finds a huddle and subscribes with the keyboard alone; every page is axe-clean at 360 and 1280 px',
  async (t) => {
    const { app, database, config, clock, services } = await buildTestApp(t);
    const org = createClusterWithOrganiser(database, 'north-west', clock);
    await app.inject({
      method: 'PATCH',
      url: '/v1/clusters/north-west',
      headers: org.auth,
      payload: { name: 'North West HealthTec <Cluster>', contactEmail: 'hello@nw.example', themes: ['digital', 'devices'] },
    });
    const created = await app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/huddles',
      headers: org.auth,
      payload: {
        title: 'Winter huddle: sensors & "wearables"',
        description: 'Five-minute pitches, then coffee.',
        start: '2026-12-01T09:30',
        durationMinutes: 90,
        venue: { name: 'Bright Building', address: 'Manchester Science Park' },
        onlineUrl: 'https://meet.example.org/room',
        capacity: 40,
        themes: ['devices'],
        status: 'published',
        pitch: { slotCount: 3 },
      },
    });
    const huddleId = created.json().id as string;
    const member = createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@example.org', organisation: 'Acme Sensors' });
    await app.inject({
      method: 'POST',
      url: `/v1/huddles/${huddleId}/bookings`,
      headers: member.auth,
      payload: { title: 'A gait sensor' },
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const browser = await launchChromium(t);

    // Every page, at a phone's width and a laptop's: no axe violation, and nothing wider than the screen.
    for (const width of [360, 1280]) {
      const context = await browser.newContext({ viewport: { width, height: 800 } });
      const page = await context.newPage();
      for (const [name, path] of [
        ['cluster', '/c/north-west'],
        ['huddle', `/h/${huddleId}`],
        ['not-found', '/h/00000000-0000-4000-8000-000000000000'],
      ] as const) {
        await page.goto(base + path);
        t.same(await axeViolations(page), [], `${name} at ${width} px: no axe violation`);
        const overflow = await page.evaluate(() => {
          const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
          return root.documentElement.scrollWidth - root.documentElement.clientWidth;
        });
        t.equal(overflow, 0, `${name} at ${width} px: no sideways scrolling`);
        await screenshot(page, name);
      }
      await page.close();
    }

    // The journey, keyboard only: from the cluster page to the huddle, back, and the sign-up form.
    const page = await (await browser.newContext({ viewport: { width: 360, height: 800 } })).newPage();
    await page.goto(`${base}/c/north-west`);
    t.equal(await page.title(), 'North West HealthTec <Cluster> – Convene');
    await page.keyboard.press('Tab');
    t.equal(await focused(page), 'A Skip to the content', 'the first Tab reaches the skip link');
    for (let i = 0; i < 10 && !(await focused(page)).startsWith('A Winter huddle'); i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/h/${huddleId}`);
    t.match(await page.locator('h1').textContent(), 'Winter huddle: sensors & "wearables"');
    t.match(await page.locator('main').textContent(), /Acme Sensors: A gait sensor/);
    await page.goBack();

    t.ok(await tabTo(page, 'email'), 'Tab reaches the email field');
    await page.keyboard.type('grace@example.org');
    t.ok(await tabTo(page, 'name'));
    await page.keyboard.type('Grace Hopper');
    await page.keyboard.press('Tab'); // the newsletter box, ticked already
    await page.keyboard.press('Tab'); // invitations to huddles
    await page.keyboard.press('Space');
    t.ok((await tabTo(page, 'website')) === false, 'the honeypot is never reached by Tab');
    await page.goto(`${base}/c/north-west`);
    t.ok(await tabTo(page, 'email'));
    await page.keyboard.type('grace@example.org');
    t.ok(await tabToButton(page, 'Subscribe'), 'Tab reaches the Subscribe button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('h1:has-text("Check your email")');
    t.same(await axeViolations(page), [], 'the answer page: no axe violation');
    await screenshot(page, 'signed-up');
    const row = database.sqlite.prepare("SELECT status FROM subscribers WHERE email = 'grace@example.org'").get() as { status: string };
    t.equal(row.status, 'pending', 'signed up, not yet confirmed');

    // The confirmation email's link opens a page whose button (pressed with the keyboard) confirms.
    const text = (
      database.sqlite
        .prepare("SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE to_address = 'grace@example.org'")
        .get() as { text: string }
    ).text;
    const link = /https:\/\/convene\.test(\/subscriptions\/confirm\?token=\S+)/.exec(text)![1]!;
    await page.goto(base + link);
    await page.getByRole('button', { name: 'Confirm my subscription' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('h1:has-text("You are subscribed")');
    const after = database.sqlite.prepare("SELECT status FROM subscribers WHERE email = 'grace@example.org'").get() as { status: string };
    t.equal(after.status, 'confirmed', 'confirmed from the email, keyboard only');

    // The preferences page every newsletter links to.
    const id = (database.sqlite.prepare("SELECT id FROM subscribers WHERE email = 'grace@example.org'").get() as { id: string }).id;
    await page.goto(
      base + new URL(services.subscribers.link('preferences', id)).pathname + new URL(services.subscribers.link('preferences', id)).search,
    );
    t.same(await axeViolations(page), [], 'the preferences page: no axe violation');
    await screenshot(page, 'preferences');
  },
);

peerTest(
  t,
  ['chromium'],
  "a visitor subscribes from a form on the cluster's own website (another origin) and confirms from the email",
  async (t) => {
    const { app, database, clock } = await buildTestApp(t);
    const org = createClusterWithOrganiser(database, 'north-west', clock);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    // The cluster's website: another server on another port, so another origin, with the README's snippet.
    const { createServer } = await import('node:http');
    const website = createServer((request, response) => {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      if (request.url?.startsWith('/thanks')) return response.end('<!doctype html><title>Thanks</title><h1>Thanks for subscribing</h1>');
      response.end(
        `<!doctype html><html lang="en"><title>North West HealthTec</title><h1>Our newsletter</h1>
      <form method="post" action="${base}/c/north-west/subscribe">
        <label for="cv-email">Email address</label>
        <input id="cv-email" name="email" type="email" autocomplete="email" required>
        <label><input type="checkbox" name="topics" value="newsletter" checked> The newsletter</label>
        <input type="hidden" name="return" value="http://127.0.0.1:${(website.address() as { port: number }).port}/thanks">
        <div style="position:absolute;left:-10000px" aria-hidden="true"><input name="website" tabindex="-1" autocomplete="off"></div>
        <button type="submit">Subscribe</button>
      </form></html>`,
      );
    });
    await new Promise<void>((resolve) => website.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => website.close(() => resolve())));
    const siteOrigin = `http://127.0.0.1:${(website.address() as { port: number }).port}`;
    await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers: org.auth, payload: { websiteOrigins: [siteOrigin] } });

    const browser = await launchChromium(t);
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${siteOrigin}/`);
    await page.getByLabel('Email address').fill('linus@example.org');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.waitForURL(`${siteOrigin}/thanks`);
    t.match(await page.locator('h1').textContent(), 'Thanks for subscribing', 'back on the cluster website');
    const status = () =>
      (database.sqlite.prepare("SELECT status FROM subscribers WHERE email = 'linus@example.org'").get() as { status: string } | undefined)
        ?.status;
    for (let i = 0; i < 50 && status() === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    t.equal(status(), 'pending', 'signed up, not yet confirmed');

    const text = (
      database.sqlite
        .prepare("SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE to_address = 'linus@example.org'")
        .get() as { text: string }
    ).text;
    await page.goto(base + /https:\/\/convene\.test(\/subscriptions\/confirm\?token=\S+)/.exec(text)![1]!);
    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await page.waitForSelector('h1:has-text("You are subscribed")');
    t.equal(status(), 'confirmed');
  },
);
