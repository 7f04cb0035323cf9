// WCAG 2.2's resize and reflow criteria and printing, in Debian's Chromium: every page at 200% zoom
// (a 1280 px screen at 200% lays out 640 CSS px with twice the pixels) and at 320 CSS px (reflow,
// 1.4.10) shows everything without sideways scrolling and stays axe-clean; the huddle page prints
// its agenda without buttons, forms or navigation. Screenshots and the printed PDF go to
// .scratch/screenshots for review. Skipped without Chromium (test/helpers/peers.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { projectRoot } from '../src/lib/paths.js';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, publishHuddle } from './fixtures.js';
import { axeViolations, launchChromium, screenshot } from './helpers/browser.js';
import { peerTest } from './helpers/peers.js';

const form = { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' };

/** How far the page is wider than its window, in CSS px (0: no sideways scrolling). */
function overflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document
      .documentElement;
    return root.scrollWidth - root.clientWidth;
  });
}

/** The text a reader sees (display: none left out), in the media the page is emulating. */
function visibleText(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText);
}

peerTest(t, ['chromium'], 'every page at 200% zoom and at 320 px reflows and stays axe-clean; the agenda prints cleanly', async (t) => {
  const { app, database, config, clock, services } = await buildTestApp(t, { env: { PUBLIC_BASE_URL: 'http://127.0.0.1:1' } });
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  createClusterWithOrganiser(database, 'south-east', clock);
  await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: org.auth,
    payload: {
      name: 'North West HealthTec and Life Sciences Innovation Cluster',
      description: 'Founders, clinicians and researchers of the North West, every month.',
      contactEmail: 'a-rather-long-contact-address@northwest-healthtec.example.org',
      themes: ['digital-health', 'medical-devices', 'diagnostics'],
    },
  });
  const huddleId = await publishHuddle(app, org.auth, {
    title: 'Winter huddle: wearable sensors, remote monitoring and the virtual ward',
    description: 'Five-minute pitches, then coffee. https://www.example.org/a/very/long/address/that/does/not/break/by/itself/anywhere',
    venue: { name: 'Bright Building', address: 'Manchester Science Park, Pencroft Way, Manchester M15 6SE' },
    onlineUrl: 'https://meet.example.org/room/a-very-long-room-name-for-the-winter-huddle',
    capacity: 40,
    themes: ['medical-devices'],
    pitch: { slotCount: 3 },
  });
  const ada = createMemberWithToken(database, config, clock, 'north-west', {
    email: 'ada@example.org',
    name: 'Ada Lovelace-Byron',
    organisation: 'Analytical Engines for Diagnostics Limited',
  });
  const booked = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddleId}/bookings`,
    headers: ada.auth,
    payload: { title: 'A gait sensor that a physiotherapist can fit in two minutes', summary: 'Trials at two trusts.' },
  });
  t.equal(booked.statusCode, 201);

  // Ada's browser session, started the way the sign-in page starts it.
  await app.inject({ method: 'POST', url: '/signin', headers: form, payload: 'email=ada%40example.org' });
  const signInText = (
    database.sqlite
      .prepare(
        "SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE kind = 'member.sign_in' ORDER BY outbox.rowid DESC LIMIT 1",
      )
      .get() as { text: string }
  ).text;
  const code = decodeURIComponent(/signin\?code=(\S+)/.exec(signInText)![1]!);
  const started = await app.inject({ method: 'POST', url: '/signin/session', headers: form, payload: `code=${encodeURIComponent(code)}` });
  const [cookieName, cookieValue] = String(started.headers['set-cookie']).split(';')[0]!.split('=') as [string, string];

  // A subscriber, for the pages behind the newsletter's links.
  const signUp = await app.inject({
    method: 'POST',
    url: '/c/north-west/subscribe',
    headers: form,
    payload: 'email=grace%40example.org&topics=newsletter&topics=huddle-invites',
  });
  t.equal(signUp.statusCode, 200);
  const subscriber = database.sqlite.prepare("SELECT id FROM subscribers WHERE email = 'grace@example.org'").get() as { id: string };
  const local = (link: string) => new URL(link).pathname + new URL(link).search;

  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const pages: [name: string, path: string, signedIn: boolean][] = [
    ['home', '/', false],
    ['cluster', '/c/north-west', false],
    ['huddle', `/h/${huddleId}`, false],
    ['huddle-member', `/h/${huddleId}`, true],
    ['signin', '/signin', false],
    ['me', '/me', true],
    ['confirm', local(services.subscribers.link('confirm', subscriber.id)), false],
    ['preferences', local(services.subscribers.link('preferences', subscriber.id)), false],
    ['unsubscribe', local(services.subscribers.link('unsubscribe', subscriber.id)), false],
  ];
  const browser = await launchChromium(t);
  for (const [label, viewport, scale] of [
    ['200% zoom', { width: 640, height: 400 }, 2],
    ['320 px reflow', { width: 320, height: 256 }, 1],
  ] as const) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: scale });
    await context.addCookies([{ name: cookieName, value: cookieValue, url: base }]);
    const anonymous = await browser.newContext({ viewport, deviceScaleFactor: scale });
    for (const [name, path, signedIn] of pages) {
      const page = await (signedIn ? context : anonymous).newPage();
      const response = await page.goto(base + path);
      t.equal(response?.status(), 200, `${name} at ${label}: shown`);
      if (signedIn) t.match(await visibleText(page), /Ada Lovelace-Byron/, `${name}: signed in`);
      if (name === 'me') t.match(await visibleText(page), /Your organisation is not waiting for a pitch slot\./, 'no empty section');
      if (name === 'huddle-member') {
        t.match(await visibleText(page), /Your pitch here: “A gait sensor that a physiotherapist can fit in two minutes” \(confirmed\)\./);
      }
      t.equal(await overflow(page), 0, `${name} at ${label}: no sideways scrolling`);
      t.same(await axeViolations(page), [], `${name} at ${label}: no axe violation`);
      await screenshot(page, `${name}-${scale === 2 ? 'zoom200' : 'reflow'}`);
      await page.close();
    }
    await context.close();
    await anonymous.close();
  }

  // Printed, the huddle page is the agenda: what, when, where and who pitches; no buttons, forms or links to elsewhere.
  const context = await browser.newContext();
  await context.addCookies([{ name: cookieName, value: cookieValue, url: base }]);
  const page = await context.newPage();
  await page.goto(`${base}/h/${huddleId}`);
  await page.emulateMedia({ media: 'print' });
  const printed = await visibleText(page);
  await screenshot(page, 'huddle-print');
  t.match(printed, /Winter huddle: wearable sensors/, 'the title');
  t.match(printed, /Thursday, 10 December 2026, 09:30–11:00 GMT/, 'the time');
  t.match(printed, /Bright Building/, 'the place');
  t.match(printed, /Analytical Engines for Diagnostics Limited: A gait sensor/, 'the agenda');
  for (const hidden of [
    'Skip to the content',
    'Add to your calendar',
    'Download the calendar entry',
    'Google Calendar',
    'Take part',
    'Register',
    'API documentation',
  ]) {
    t.notMatch(printed, hidden, `not printed: ${hidden}`);
  }
  const pdf = await page.pdf({ format: 'A4' });
  t.ok(pdf.subarray(0, 5).toString() === '%PDF-', 'prints to PDF');
  t.equal((pdf.toString('latin1').match(/\/Type\s*\/Page\b/g) ?? []).length, 1, 'on one A4 page');
  writeFileSync(join(projectRoot, '.scratch', 'screenshots', 'huddle-print.pdf'), pdf);
});
