// Every console page in Debian's Chromium on a 360 px screen, as an organiser and as a viewer: axe-core
// finds no violation, and no page scrolls sideways. Skipped without Chromium (test/helpers/peers.ts).
import t from 'tap';
import { manualClock } from '../src/lib/clock.js';
import { buildTestApp } from './helper.js';
import { consoleCookie, createClusterWithOrganiser, createMemberWithToken, publishHuddle, servicesFor } from './fixtures.js';
import { axeViolations, launchChromium } from './helpers/browser.js';
import { peerTest } from './helpers/peers.js';

peerTest(t, ['chromium'], 'every console page is axe-clean and fits 360 px, for an organiser and a viewer', async (t) => {
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database, config } = await buildTestApp(t, { clock });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const services = servicesFor(database, clock, config);
  services.organisers.create('north-west', { email: 'fran@funder.example', name: 'Fran', role: 'viewer' }, { type: 'cli', label: 'test' });
  const huddle = await publishHuddle(app, org.auth, {
    title: 'Spring huddle',
    start: '2026-11-24T09:30',
    pitch: { slotCount: 3, approvalRequired: true },
  });
  const ada = createMemberWithToken(database, config, clock, 'north-west', {
    email: 'ada@acme.example',
    name: 'Ada',
    organisation: 'Acme',
  });
  t.equal(
    (await app.inject({ method: 'POST', url: `/v1/huddles/${huddle}/bookings`, headers: ada.auth, payload: { title: 'Gait sensor' } }))
      .statusCode,
    201,
  );
  t.equal((await app.inject({ method: 'POST', url: `/v1/huddles/${huddle}/registrations`, headers: ada.auth })).statusCode, 201);
  t.equal(
    (
      await app.inject({
        method: 'POST',
        url: `/v1/huddles/${huddle}/invitations`,
        headers: org.auth,
        payload: { addresses: [{ email: 'zed@example.org' }] },
      })
    ).statusCode,
    202,
  );
  await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/subscriptions',
    payload: { email: 'sam@example.org', name: 'Sam', topics: ['newsletter'] },
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const sam = (database.sqlite.prepare("SELECT id FROM subscribers WHERE email = 'sam@example.org'").get() as { id: string }).id;
  database.db.transaction((tx) => services.subscribers.suppressEverywhere(tx, 'sam@example.org', 'bounced', '550 no such user'));
  const campaign = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/campaigns',
    headers: org.auth,
    payload: { subject: 'News', body: 'Hello.' },
  });
  const campaignId = campaign.json().id as string;
  const cluster = '/console/north-west';
  const pages = [
    cluster,
    `${cluster}/huddles/new`,
    `${cluster}/huddles/${huddle}`,
    `${cluster}/huddles/${huddle}/edit`,
    `${cluster}/huddles/${huddle}/cancel`,
    `${cluster}/huddles/${huddle}/invitations`,
    `${cluster}/huddles/${huddle}/checkin`,
    `${cluster}/huddles/${huddle}/checkin?q=ada`,
    `${cluster}/huddles/${huddle}/run-of-show`,
    `${cluster}/huddles/00000000-0000-7000-8000-000000000000`,
    `${cluster}/members`,
    `${cluster}/members/new`,
    `${cluster}/members/import`,
    `${cluster}/members/${ada.member.id}`,
    `${cluster}/members/${ada.member.id}/suspend`,
    `${cluster}/subscribers`,
    `${cluster}/subscribers/${sam}`,
    `${cluster}/subscribers/${sam}/erase`,
    `${cluster}/suppressions`,
    `${cluster}/newsletters`,
    `${cluster}/newsletters/new`,
    `${cluster}/newsletters/${campaignId}`,
    `${cluster}/newsletters/${campaignId}/edit`,
    `${cluster}/report`,
    `${cluster}/audit`,
    `${cluster}/keys`,
    '/console/yorkshire',
  ];
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium(t);
  for (const [who, email] of [
    ['organiser', 'organiser@north-west.example'],
    ['viewer', 'fran@funder.example'],
  ] as const) {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    await context.addCookies([
      { name: 'convene_console', value: consoleCookie(database, clock, email).split('=')[1]!, url: `${base}/console` },
    ]);
    const page = await context.newPage();
    for (const path of pages) {
      await page.goto(base + path);
      // The newsletter's preview frame is the email, sandboxed without scripts: axe cannot enter it.
      await page.locator('iframe.email-preview').evaluateAll((frames) => frames.forEach((frame) => frame.remove()));
      t.same(await axeViolations(page), [], `${who} ${path}: no axe violation`);
      const wide = await page.evaluate(
        () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
      );
      t.ok(wide <= 360, `${who} ${path}: fits 360 px (${wide})`);
    }
    await context.close();
  }
});
